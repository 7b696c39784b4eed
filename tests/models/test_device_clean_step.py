"""A training or predict step never waits for the device.

On an accelerator, a step that reads a value back to the host (`.item()`,
`bool(tensor)`, `.cpu()`, a Python branch on a tensor) or copies host data to
the device in the middle of the step (on torch, a Python number an op turns
into a device tensor is copied with a stream synchronisation) stalls the
host until every queued kernel has run. These tests prove on a CPU that the
model's step has none, per backend:

- jax: the compiled train and predict steps run under
  `jax.transfer_guard("disallow")` on inputs already placed (a CPU enforces
  the host-to-device half; a GPU enforces both), and their jaxprs hold no
  callback and no `cond`/`while` (whose predicates XLA reads on the host).
- torch: one forward and backward with every host read of a tensor and every
  tensor made from host data raising, and no synchronising op in the
  profiler. The input checks read token ids that are in CPU memory (free);
  a tensor elsewhere they never read, which meta tensors (with no values to
  read) prove.
- tensorflow: the traced train step holds no Python op.
"""

import contextlib
import sys

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE

from albert_mlm import AlbertBackbone, AlbertMaskedLM
from albert_mlm.models import input_checks

BACKEND = keras.backend.backend()
BATCH_SIZE, LENGTH, MASKED = 2, 12, 3


def _batch(padded):
    """`(x, y, sample_weight)` as numpy arrays."""
    rng = np.random.default_rng(0)
    padding_mask = np.ones((BATCH_SIZE, LENGTH), "int32")
    if padded:
        padding_mask[1, -4:] = 0
    x = {
        "token_ids": rng.integers(5, 400, (BATCH_SIZE, LENGTH)).astype("int32"),
        "segment_ids": np.zeros((BATCH_SIZE, LENGTH), "int32"),
        "padding_mask": padding_mask,
        "mask_positions": np.array([[1, 4, 6], [2, 3, 5]], "int32"),
    }
    y = rng.integers(5, 400, (BATCH_SIZE, MASKED)).astype("int32")
    return x, y, np.ones((BATCH_SIZE, MASKED), "float32")


def _masked_lm(dropout, dtype="float32"):
    backbone = AlbertBackbone(**{**TINY_BACKBONE, "dropout": dropout}, dtype=dtype)
    masked_lm = AlbertMaskedLM(backbone)
    masked_lm.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return masked_lm


STEP_CASES = pytest.mark.parametrize(
    "padded, dropout, dtype",
    [
        (False, 0.0, "float32"),
        (True, 0.0, "float32"),
        (True, 0.1, "float32"),
        (False, 0.1, "mixed_bfloat16"),
    ],
)
# Compiling is slow: the cases that cover both attention paths (a kept mask
# without dropout; dropout, spelled out) and both precisions.
COMPILED_STEP_CASES = pytest.mark.parametrize(
    "padded, dropout, dtype", [(True, 0.0, "mixed_bfloat16"), (False, 0.1, "float32")]
)


# === jax ===


def _primitives(jaxpr):
    """Names of every primitive in `jaxpr` and in the jaxprs it nests."""
    import jax

    names = set()
    for equation in jaxpr.eqns:
        names.add(equation.primitive.name)
        for param in jax.tree_util.tree_leaves(
            equation.params, is_leaf=lambda p: hasattr(p, "eqns")
        ):
            inner = getattr(param, "jaxpr", param)
            if hasattr(inner, "eqns"):
                names |= _primitives(inner)
    return names


@pytest.mark.skipif(BACKEND != "jax", reason="jax's compiled steps")
@COMPILED_STEP_CASES
def test_jax_compiled_steps_transfer_nothing(padded, dropout, dtype):
    import jax

    masked_lm = _masked_lm(dropout, dtype)
    x, y, sample_weight = _batch(padded)
    # Builds the optimizer and metrics, as `fit` does before its first step.
    masked_lm._symbolic_build(data_batch=(x, y, sample_weight))
    state = tuple(
        [variable.value for variable in variables]
        for variables in (
            masked_lm.trainable_variables,
            masked_lm.non_trainable_variables,
            masked_lm.optimizer.variables,
            masked_lm.metrics_variables,
        )
    )
    state, data = jax.device_put((state, (x, y, sample_weight)))
    steps = {
        "train": jax.jit(masked_lm.train_step).trace(state, data),
        "predict": jax.jit(masked_lm.predict_step).trace(state[:2], (data[0],)),
    }
    for name, traced in steps.items():
        primitives = _primitives(traced.jaxpr.jaxpr)
        host_bound = {p for p in primitives if "callback" in p} | (
            primitives & {"cond", "while"}
        )
        assert not host_bound, f"{name} step: {sorted(host_bound)}"
    train_step, predict_step = (traced.lower().compile() for traced in steps.values())
    with jax.transfer_guard("disallow"):
        for _ in range(2):
            logs, state = train_step(state, data)
        predictions, _ = predict_step(state[:2], (data[0],))
        jax.block_until_ready((logs, predictions))
    assert predictions.shape == (BATCH_SIZE, MASKED, TINY_BACKBONE["vocabulary_size"])


# === torch ===

# Each reads a tensor's values on the host: on a GPU, a synchronisation.
_HOST_READS = (
    "item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__", "__index__",
)  # fmt: skip
# Ops that wait for the device to know a value or an output size.
_SYNCHRONISING_OPS = {
    "aten::_local_scalar_dense", "aten::item", "aten::is_nonzero", "aten::equal",
    "aten::nonzero", "aten::masked_select", "aten::_unique2",
}  # fmt: skip


def _is_a_tensor(data, *args):
    import torch

    return isinstance(data, torch.Tensor)


@contextlib.contextmanager
def _host_round_trips_refused(monkeypatch):
    """Every host read of a tensor, and every tensor made from host data,
    raises; the input checks may read tensors in CPU memory."""
    import torch

    def refuse(name, original, allowed=lambda *args: False):
        def guarded(*args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if not caller.endswith("input_checks.py") and not allowed(*args):
                raise AssertionError(f"`{name}` inside the step, from {caller}")
            return original(*args, **kwargs)

        return guarded

    with monkeypatch.context() as patch:
        for name in _HOST_READS:
            patch.setattr(torch.Tensor, name, refuse(name, getattr(torch.Tensor, name)))
        for name in ("as_tensor", "tensor", "from_numpy"):
            already_a_tensor = lambda data, *args: isinstance(data, torch.Tensor)  # noqa: E731
            patch.setattr(
                torch, name, refuse(name, getattr(torch, name), already_a_tensor)
            )
        yield


@pytest.mark.skipif(BACKEND != "torch", reason="torch's eager step")
@STEP_CASES
def test_torch_forward_and_backward_never_wait_for_the_device(
    monkeypatch, padded, dropout, dtype
):
    import torch
    from torch.profiler import ProfilerActivity, profile

    masked_lm = _masked_lm(dropout, dtype)
    x, y, sample_weight = (keras.tree.map_structure(torch.as_tensor, part)
                           for part in _batch(padded))  # fmt: skip
    masked_lm.train_on_batch(x, y, sample_weight=sample_weight)  # Builds it all.
    with (
        _host_round_trips_refused(monkeypatch),
        profile(activities=[ProfilerActivity.CPU]) as profiler,
    ):
        predictions = masked_lm(x, training=True)
        loss = masked_lm.compute_loss(x, y, predictions, sample_weight)
        loss.backward()
    synchronising = {e.key for e in profiler.key_averages()} & _SYNCHRONISING_OPS
    assert not synchronising
    trained = [v.value.grad for v in masked_lm.trainable_variables]
    assert sum(grad is not None for grad in trained) > 10


@pytest.mark.skipif(BACKEND != "torch", reason="torch's meta device")
def test_input_checks_never_read_a_tensor_off_the_cpu():
    """Meta tensors have no values: reading one raises. The checks and the
    padding test look at their shape and dtype only."""
    import torch

    masked_lm = AlbertMaskedLM(AlbertBackbone(**TINY_BACKBONE), compile=False)
    inputs = {
        key: torch.empty((BATCH_SIZE, width), dtype=torch.int32, device="meta")
        for key, width in (("token_ids", LENGTH), ("segment_ids", LENGTH),
                           ("padding_mask", LENGTH), ("mask_positions", MASKED))
    }  # fmt: skip
    input_checks.check_masked_lm_inputs(masked_lm, inputs)
    assert not input_checks.known_unpadded(inputs["padding_mask"])


def test_only_a_host_mask_of_ones_is_known_unpadded():
    ones = np.ones((2, 5), "int32")
    assert input_checks.known_unpadded(ones)
    assert input_checks.known_unpadded(keras.ops.convert_to_tensor(ones))
    assert not input_checks.known_unpadded(keras.ops.convert_to_tensor(np.eye(2)))
    assert not input_checks.known_unpadded(keras.KerasTensor((2, 5), "int32"))


def test_dropping_a_mask_of_ones_changes_no_output(monkeypatch):
    """The encoder drops a padding mask of ones read on the host (as in a
    masked LM's step on a CPU); kept, it gives the same outputs."""
    from albert_mlm.models import albert_encoder

    backbone = AlbertBackbone(**TINY_BACKBONE)
    x, _, _ = _batch(padded=False)
    positions = x.pop("mask_positions")
    dropped = backbone(x, output_positions=positions)
    monkeypatch.setattr(albert_encoder, "known_unpadded", lambda mask: False)
    kept = backbone(x, output_positions=positions)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dropped), keras.ops.convert_to_numpy(kept), atol=1e-5
    )


# === tensorflow ===


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's traced step")
@COMPILED_STEP_CASES
def test_tensorflow_train_step_holds_no_python_op(padded, dropout, dtype):
    import tensorflow as tf

    masked_lm = _masked_lm(dropout, dtype)
    x, y, sample_weight = _batch(padded)
    masked_lm.train_on_batch(x, y, sample_weight=sample_weight)
    data = tf.nest.map_structure(tf.convert_to_tensor, (x, y, sample_weight))
    graph = tf.function(masked_lm.train_step).get_concrete_function(data).graph
    graph_def = graph.as_graph_def()
    op_types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        op_types |= {node.op for node in function.node_def}
    assert not op_types & {"PyFunc", "PyFuncStateless", "EagerPyFunc"}
