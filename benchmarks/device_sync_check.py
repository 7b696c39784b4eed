"""On a GPU: the model's step never waits for the device, and its attention
kernels. The CPU half of this proof is `tests/models/test_device_clean_step.py`.

    KERAS_BACKEND=torch python benchmarks/device_sync_check.py
    KERAS_BACKEND=jax python benchmarks/device_sync_check.py

Base ALBERT, a batch of 8 x 128 in mixed_bfloat16, padded and unpadded:

- torch: a forward, loss and backward under
  `torch.cuda.set_sync_debug_mode("error")` (any synchronising call raises),
  and the CUDA kernels that ran whose names say attention; then a whole
  `train_on_batch` counting its synchronisations (Keras' own: its optimizer
  and metrics turn Python numbers into device tensors, and it returns numpy).
- jax: the compiled train and predict steps under
  `jax.transfer_guard("disallow")`, and whether their HLO calls cuDNN's
  fused attention.

Last, `attend` alone without a mask, where the flash kernel should run.
Needs only keras and the backend (no TensorFlow). On a CPU every check
passes vacuously and says so.
"""

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BATCH_SIZE, LENGTH, MASKED = 8, 128, 19
ATTENTION_WORDS = ("flash", "fmha", "efficient", "attention", "cudnn", "sdpa")


def main():
    import keras

    from albert_mlm.architectures import ARCHITECTURES
    from albert_mlm.models.albert_backbone import AlbertBackbone
    from albert_mlm.models.albert_masked_lm import AlbertMaskedLM

    backend = keras.backend.backend()
    keras.utils.set_random_seed(0)
    backbone = AlbertBackbone(
        **ARCHITECTURES["albert_base_en_uncased"], dtype="mixed_bfloat16"
    )
    masked_lm = AlbertMaskedLM(backbone)
    batches = {padded: batch(padded) for padded in ("unpadded", "padded")}
    {"torch": check_torch, "jax": check_jax}[backend](masked_lm, batches)


def batch(padded):
    """`(x, y, sample_weight)`, numpy."""
    rng = np.random.default_rng(0)
    padding_mask = np.ones((BATCH_SIZE, LENGTH), "int32")
    if padded == "padded":
        padding_mask[:, LENGTH // 2 :] = 0
    positions = np.sort(
        [
            rng.choice(np.arange(1, LENGTH // 2), MASKED, replace=False)
            for _ in range(BATCH_SIZE)
        ]
    )
    x = {
        "token_ids": rng.integers(5, 30000, (BATCH_SIZE, LENGTH)).astype("int32"),
        "segment_ids": np.zeros((BATCH_SIZE, LENGTH), "int32"),
        "padding_mask": padding_mask,
        "mask_positions": positions.astype("int32"),
    }
    y = rng.integers(5, 30000, (BATCH_SIZE, MASKED)).astype("int32")
    return x, y, np.ones((BATCH_SIZE, MASKED), "float32")


def check_torch(masked_lm, batches):
    import torch
    from torch.profiler import ProfilerActivity, profile

    on_gpu = torch.cuda.is_available()
    print(f"torch {torch.__version__} on {'CUDA' if on_gpu else 'CPU (vacuous)'}")
    activities = [ProfilerActivity.CUDA] if on_gpu else [ProfilerActivity.CPU]
    for name, (x, y, weight) in batches.items():
        x, y, weight = (to_torch(part) for part in (x, y, weight))
        masked_lm.train_on_batch(x, y, sample_weight=weight)  # Builds it all.
        if on_gpu:
            torch.cuda.synchronize()
        with sync_debug_mode("error"), profile(activities=activities) as profiler:
            predictions = masked_lm(x, training=True)
            masked_lm.compute_loss(x, y, predictions, weight).backward()
        print(
            f"  {name}: forward + backward with no synchronisation; "
            f"attention kernels: {attention_kernels(profiler)}"
        )
        with warnings.catch_warnings(record=True) as caught, sync_debug_mode("warn"):
            warnings.simplefilter("always")
            masked_lm.train_on_batch(x, y, sample_weight=weight)
        syncs = [
            str(w.message).splitlines()[0]
            for w in caught
            if "synchroniz" in str(w.message)
        ]
        print(f"  {name}: a whole train_on_batch synchronised {len(syncs)} time(s)")
    from albert_mlm.layers.self_attention import attend

    device = "cuda" if on_gpu else "cpu"
    query = torch.randn(BATCH_SIZE, LENGTH, 12, 64, device=device, dtype=torch.bfloat16)
    with profile(activities=activities) as profiler:
        attend(query, query, query)
    print(f"  attend without a mask: {attention_kernels(profiler)}")


def to_torch(part):
    import keras

    return keras.tree.map_structure(keras.ops.convert_to_tensor, part)


def sync_debug_mode(mode):
    import contextlib

    import torch

    @contextlib.contextmanager
    def scope():
        if not torch.cuda.is_available():
            yield
            return
        torch.cuda.set_sync_debug_mode(mode)
        try:
            yield
        finally:
            torch.cuda.set_sync_debug_mode("default")

    return scope()


def attention_kernels(profiler):
    names = {event.key for event in profiler.key_averages()}
    return sorted(n for n in names if any(w in n.lower() for w in ATTENTION_WORDS))


def check_jax(masked_lm, batches):
    import jax

    print(f"jax {jax.__version__} on {jax.default_backend()}")
    masked_lm._symbolic_build(data_batch=batches["padded"])
    state = tuple(
        [variable.value for variable in variables]
        for variables in (
            masked_lm.trainable_variables,
            masked_lm.non_trainable_variables,
            masked_lm.optimizer.variables,
            masked_lm.metrics_variables,
        )
    )
    state, batches = jax.device_put((state, batches))
    data = batches["padded"]
    # Padded or not, the shapes are the same: one executable each.
    train = jax.jit(masked_lm.train_step).lower(state, data).compile()
    predict = jax.jit(masked_lm.predict_step).lower(state[:2], (data[0],)).compile()
    fused = {
        step: "cudnn$fmha" in compiled.as_text()
        for step, compiled in (("train", train), ("predict", predict))
    }
    print(f"  cuDNN fused attention in the steps' HLO: {fused}")
    for name, data in batches.items():
        with jax.transfer_guard("disallow"):
            for _ in range(2):
                logs, state = train(state, data)
            outputs, _ = predict(state[:2], (data[0],))
            jax.block_until_ready((logs, outputs))
        print(f"  {name}: train and predict steps transfer nothing")
    import jax.numpy as jnp

    from albert_mlm.layers.self_attention import attend

    query = jnp.ones((BATCH_SIZE, LENGTH, 12, 64), jnp.bfloat16)
    hlo = jax.jit(lambda q: attend(q, q, q)).lower(query).compile().as_text()
    print(f"  attend without a mask: cuDNN fused attention: {'cudnn$fmha' in hlo}")


if __name__ == "__main__":
    main()
