"""Data and model parallel training on virtual CPU devices.

The device count is fixed when the framework starts, so the scenarios of each
device count run in a fresh interpreter of their own (this file as a script:
`python tests/models/test_distribution.py OUT_DIR DEVICES`), one after
another, each writing its trained weights (`.npz`) and what it observed
(`.json`) to `OUT_DIR`. The tests compare a distributed run with a one-device
run of the same steps on the same data and seed.
"""

import contextlib
import json
import os
import pathlib
import subprocess
import sys
from typing import NamedTuple

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE, VOCABULARY_PATH, cpu_mesh

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)
from albert_mlm.models.albert_pretrainer import (
    SENTENCE_ORDER_CLASSES,
    AlbertPreTrainer,
)

BACKEND = keras.backend.backend()
SEED = 1234
SEQUENCE_LENGTH = 16
MASKS_PER_ROW = 4
ROWS = 8
BATCH_SIZE = 4  # The global batch: two rows per device on two devices.
EPOCHS = 2
STEPS = EPOCHS * ROWS // BATCH_SIZE
# The tiny backbone with one block per group, to compile faster: each block
# still runs twice per pass, so shared weights are still shared.
TRAINED_BACKBONE = {**TINY_BACKBONE, "num_inner_repetitions": 1}
# Smaller still for the pretrainer's six runs: one block, run twice per pass.
PRETRAINER_BACKBONE = {**TRAINED_BACKBONE, "num_layers": 2, "num_groups": 1}
# Eleven strings: two full global batches of 4 and a remainder of 3.
TEXTS = [
    "the quick brown fox jumped over the lazy dog.",
    "i forgot my homework at home again.",
    "a cat sat near the river all day.",
    "the students visited the old museum.",
    "she plays the piano very gently.",
    "we walked to the market in the rain.",
    "he reads a book before he sleeps.",
    "the train was late this morning.",
    "birds sing in the tall green trees.",
    "my brother cooks dinner on sundays.",
    "the sleepy cats are never busy.",
]


class Scenario(NamedTuple):
    """What one run trains, and where."""

    task: type  # `AlbertMaskedLM` or `AlbertPreTrainer`.
    distribution: str | None  # None (one device), "data" or "model".
    devices: int
    raw_strings: bool = False
    gradient_accumulation_steps: int | None = None


ACCUMULATED = 2  # Gradient accumulation steps: two updates in `STEPS`.
SCENARIOS = {
    "one_device": Scenario(AlbertMaskedLM, None, 1),
    "data_parallel": Scenario(AlbertMaskedLM, "data", 2),
    "model_parallel": Scenario(AlbertMaskedLM, "model", 4),
    "raw_strings": Scenario(AlbertMaskedLM, "data", 2, raw_strings=True),
    "pretrainer_one_device": Scenario(AlbertPreTrainer, None, 1),
    "pretrainer_data_parallel_2": Scenario(AlbertPreTrainer, "data", 2),
    "pretrainer_data_parallel_4": Scenario(AlbertPreTrainer, "data", 4),
    "pretrainer_model_parallel": Scenario(AlbertPreTrainer, "model", 4),
    "pretrainer_accumulated_one_device": Scenario(
        AlbertPreTrainer, None, 1, gradient_accumulation_steps=ACCUMULATED
    ),
    "pretrainer_accumulated_data_parallel": Scenario(
        AlbertPreTrainer, "data", 2, gradient_accumulation_steps=ACCUMULATED
    ),
}
BACKEND_SCENARIOS = {
    "jax": list(SCENARIOS),
    "tensorflow": ["one_device", "data_parallel", "raw_strings"],
}

jax_only = pytest.mark.skipif(
    BACKEND != "jax", reason="keras.distribution DataParallel/ModelParallel: jax"
)
tensorflow_only = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="tf.distribute.MirroredStrategy: tensorflow"
)
torch_only = pytest.mark.skipif(
    BACKEND != "torch",
    reason="keras.distribution works on jax and tensorflow: nothing to refuse",
)


# === Scenarios, run in a fresh interpreter ===


def _integer_data():
    """`ROWS` padded rows, each with `MASKS_PER_ROW` real masks (weight 1).

    Equal mask counts per row keep every replica's share of the loss equal,
    so the mean over replicas is the mean over the global batch.
    """
    rng = np.random.default_rng(0)
    lengths = rng.integers(8, SEQUENCE_LENGTH + 1, ROWS)
    padding_mask = (np.arange(SEQUENCE_LENGTH) < lengths[:, None]).astype("int32")
    token_ids = rng.integers(5, TINY_BACKBONE["vocabulary_size"], padding_mask.shape)
    token_ids = (token_ids * padding_mask).astype("int32")
    mask_positions = np.stack(
        [
            np.sort(rng.choice(np.arange(1, n - 1), MASKS_PER_ROW, False))
            for n in lengths
        ]
    ).astype("int32")
    x = {
        "token_ids": token_ids,
        "padding_mask": padding_mask,
        "segment_ids": np.zeros_like(padding_mask),
        "mask_positions": mask_positions,
    }
    labels = np.take_along_axis(token_ids, mask_positions, axis=1)
    return x, labels, np.ones(labels.shape, "float32")


def _pretraining_data():
    """`_integer_data` as sentence pairs: each row's second half is its second
    segment, and each row has a sentence-order label (weight 1)."""
    x, labels, weights = _integer_data()
    lengths = x["padding_mask"].sum(axis=1, keepdims=True)
    second = np.arange(SEQUENCE_LENGTH) >= lengths // 2
    x["segment_ids"] = (second * x["padding_mask"]).astype("int32")
    order = np.random.default_rng(1).integers(0, SENTENCE_ORDER_CLASSES, ROWS)
    y = {"masked_lm": labels, "sentence_order": order.astype("int32")}
    sample_weight = {"masked_lm": weights, "sentence_order": np.ones(ROWS, "float32")}
    return x, y, sample_weight


class _InputRecording:
    """Trains as usual, recording the part of each batch a device receives."""

    per_device_batches = []

    def train_step(self, *args):
        token_ids = args[-1][0]["token_ids"]
        record = _InputRecording.per_device_batches.append
        if BACKEND == "jax":
            import jax

            # Once per compilation: the sharding the step's input arrives in.
            jax.debug.inspect_array_sharding(
                token_ids,
                callback=lambda sharding: record(
                    [
                        len(sharding.device_set),
                        list(sharding.shard_shape(token_ids.shape)),
                    ]
                ),
            )
        else:
            import tensorflow as tf

            # Every step, on every replica: (replica id, rows it received).
            tf.numpy_function(
                lambda replica, rows: record([int(replica), int(rows)]) or rows,
                [
                    tf.distribute.get_replica_context().replica_id_in_sync_group,
                    tf.shape(token_ids)[0],
                ],
                tf.int32,
            )
        return super().train_step(*args)


class InputRecordingMaskedLM(_InputRecording, AlbertMaskedLM):
    pass


class InputRecordingPreTrainer(_InputRecording, AlbertPreTrainer):
    pass


INPUT_RECORDING = {
    AlbertMaskedLM: InputRecordingMaskedLM,
    AlbertPreTrainer: InputRecordingPreTrainer,
}


class _LossPerStep(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def _distribution_scope(kind, devices):
    """Where to build and train: one device, data or model parallel."""
    if kind is None:
        return contextlib.nullcontext()
    if BACKEND == "tensorflow":
        import tensorflow as tf

        cpus = [f"/cpu:{index}" for index in range(devices)]
        return tf.distribute.MirroredStrategy(cpus).scope()
    all_devices = keras.distribution.list_devices()[:devices]
    if kind == "data":
        return keras.distribution.DataParallel(devices=all_devices).scope()
    mesh = keras.distribution.DeviceMesh(
        (2, devices // 2), ("batch", "model"), devices=all_devices
    )
    layout_map = AlbertBackbone.get_layout_map(mesh)
    distribution = keras.distribution.ModelParallel(
        layout_map=layout_map, batch_dim_name="batch"
    )
    return distribution.scope()


def _weights(variables):
    return {v.path: keras.ops.convert_to_numpy(v) for v in variables}


def _fit(model, raw_strings, callback):
    if raw_strings:
        model.fit(TEXTS, batch_size=BATCH_SIZE, callbacks=[callback], verbose=0)
        return
    if isinstance(model, AlbertPreTrainer):
        x, y, sample_weight = _pretraining_data()
    else:
        x, y, sample_weight = _integer_data()
    model.fit(
        x,
        y,
        sample_weight=sample_weight,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        shuffle=False,
        callbacks=[callback],
        verbose=0,
    )


def _compile(model, scenario):
    if scenario.task is AlbertPreTrainer:
        # LAMB, as ALBERT's recipe trains.
        optimizer = keras.optimizers.Lamb(
            0.05, gradient_accumulation_steps=scenario.gradient_accumulation_steps
        )
    else:
        # SGD, not Adam: its update is linear in the gradient, so float
        # reduction-order noise stays as small in the weights.
        optimizer = keras.optimizers.SGD(0.5, momentum=0.9)
    model.compile(optimizer=optimizer)


def _run_scenarios(out_dir, devices):
    """Runs this backend's scenarios on `devices` devices, one after another."""
    devices = int(devices)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * devices,
        )
    for name in BACKEND_SCENARIOS[BACKEND]:
        if SCENARIOS[name].devices == devices:
            _run_scenario(out_dir, name)


def _run_scenario(out_dir, name):
    """Trains under the scenario's distribution; writes weights and findings."""
    scenario = SCENARIOS[name]
    # Fresh layer names and seeds: each run starts as if it ran first.
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)
    _InputRecording.per_device_batches = []
    losses = _LossPerStep()
    observed = {}
    with _distribution_scope(scenario.distribution, scenario.devices):
        preprocessor = None
        if scenario.raw_strings:
            preprocessor = AlbertMaskedLMPreprocessor(
                AlbertTokenizer(str(VOCABULARY_PATH)),
                sequence_length=SEQUENCE_LENGTH,
                mask_selection_length=MASKS_PER_ROW,
            )
        if scenario.task is AlbertPreTrainer:
            backbone = AlbertBackbone(**PRETRAINER_BACKBONE)
        else:
            backbone = AlbertBackbone(**TRAINED_BACKBONE)
        model = INPUT_RECORDING[scenario.task](backbone, preprocessor)
        _compile(model, scenario)
        initial = _weights(model.weights)
        _fit(model, scenario.raw_strings, losses)
        if scenario.raw_strings and BACKEND == "jax":
            try:
                model.fit(TEXTS, batch_size=3, verbose=0)
            except ValueError as error:
                observed["odd_batch_size_error"] = str(error)
    if scenario.distribution == "model":
        observed["shardings"] = {
            v.path: [
                list(v.value.sharding.spec),
                list(v.value.addressable_shards[0].data.shape),
            ]
            for v in model.weights + model.optimizer.variables
            if len(v.shape) > 0
        }
    observed["losses"] = losses.losses
    observed["per_device_batches"] = _InputRecording.per_device_batches
    out_dir = pathlib.Path(out_dir)
    np.savez(out_dir / f"{name}_initial.npz", **initial)
    np.savez(out_dir / f"{name}.npz", **_weights(model.weights))
    (out_dir / f"{name}.json").write_text(json.dumps(observed))


# === Tests ===


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    """This backend's scenarios, an interpreter per device count, side by side."""
    out_dir = tmp_path_factory.mktemp("distribution")
    names = BACKEND_SCENARIOS[BACKEND]
    processes = {}
    for devices in sorted({SCENARIOS[name].devices for name in names}):
        # A tiny model trained a few steps: compiling fast beats fast code.
        xla_flags = (
            f"--xla_force_host_platform_device_count={devices} "
            "--xla_backend_optimization_level=0 "
            "--xla_llvm_disable_expensive_passes=true"
        )
        with open(out_dir / f"devices_{devices}.log", "w") as log:
            processes[devices] = subprocess.Popen(
                [sys.executable, __file__, str(out_dir), str(devices)],
                env={
                    **os.environ,
                    "KERAS_BACKEND": BACKEND,
                    "XLA_FLAGS": xla_flags,
                    # The script imports tests/helpers.py.
                    "PYTHONPATH": os.pathsep.join(
                        [
                            str(pathlib.Path(__file__).resolve().parents[1]),
                            os.environ.get("PYTHONPATH", ""),
                        ]
                    ),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    try:
        for devices, process in processes.items():
            returncode = process.wait(timeout=600)
            log = (out_dir / f"devices_{devices}.log").read_text()
            assert returncode == 0, f"{devices} devices failed:\n{log[-4000:]}"
    finally:
        for process in processes.values():
            process.kill()
    return {
        name: {
            "weights": dict(np.load(out_dir / f"{name}.npz")),
            "initial": dict(np.load(out_dir / f"{name}_initial.npz")),
            **json.loads((out_dir / f"{name}.json").read_text()),
        }
        for name in names
    }


def _assert_same_training(distributed, reference, rtol=1e-4):
    """Same start, same per-step losses and end weights as one device."""
    assert len(reference["losses"]) == STEPS
    np.testing.assert_allclose(distributed["losses"], reference["losses"], rtol=1e-5)
    assert distributed["weights"].keys() == reference["weights"].keys()
    for path, trained in reference["weights"].items():
        np.testing.assert_array_equal(
            distributed["initial"][path], reference["initial"][path], err_msg=path
        )
        np.testing.assert_allclose(
            distributed["weights"][path], trained, rtol=rtol, atol=1e-5, err_msg=path
        )
    # Training moved the weights far more than the tolerance above.
    kernel = "group_0_inner_layer_0/output_dense/kernel"
    moved = reference["weights"][kernel] - reference["initial"][kernel]
    assert np.abs(moved).max() > 1e-3


def _assert_raw_string_training(run):
    assert np.all(np.isfinite(run["losses"]))
    kernel = "token_embedding/embeddings"
    assert not np.allclose(run["weights"][kernel], run["initial"][kernel])


def test_string_batches_keep_a_static_batch_size(masked_lm):
    import tensorflow as tf

    from albert_mlm.datasets.batches import string_dataset

    # Keras splits each batch between hosts only when its size is static.
    lines = tf.data.Dataset.from_tensor_slices(TEXTS).batch(4, drop_remainder=True)
    dataset = string_dataset(
        masked_lm.preprocessor, lines, batch_size=None, shuffle=False
    )
    specs = tf.nest.flatten(dataset.element_spec)
    assert [spec.shape[0] for spec in specs] == [4] * 6


@jax_only
def test_data_parallel_matches_one_device(scenarios):
    distributed = scenarios["data_parallel"]
    _assert_same_training(distributed, scenarios["one_device"])
    # Each of the two devices receives half of every global batch of 4.
    assert distributed["per_device_batches"] == [[2, [2, SEQUENCE_LENGTH]]]
    assert scenarios["one_device"]["per_device_batches"] == [
        [1, [BATCH_SIZE, SEQUENCE_LENGTH]]
    ]


@jax_only
def test_model_parallel_shards_variables_and_matches_one_device(scenarios):
    distributed = scenarios["model_parallel"]
    _assert_same_training(distributed, scenarios["one_device"])
    # The batch is split over the "batch" axis and repeated over "model".
    assert distributed["per_device_batches"] == [[4, [2, SEQUENCE_LENGTH]]]
    layout_map = AlbertBackbone.get_layout_map(cpu_mesh())
    mesh_axis_sizes = {"batch": 2, "model": 2, None: 1}
    sharded = {"model": 0, "optimizer": 0}
    for path, (spec, shard_shape) in distributed["shardings"].items():
        model_path = path if path in distributed["weights"] else None
        if model_path is None:  # An optimizer slot: "sgd/<path with _>_momentum".
            model_path = next(
                p
                for p in distributed["weights"]
                if path.endswith(p.replace("/", "_") + "_momentum")
            )
        shape = distributed["weights"][model_path].shape
        layout = layout_map[model_path]
        axes = list(layout.axes) if layout else [None] * len(shape)
        assert spec + [None] * (len(shape) - len(spec)) == axes, path
        assert shard_shape == [
            size // mesh_axis_sizes[axis] for size, axis in zip(shape, axes)
        ], path
        if layout:
            sharded["model" if path == model_path else "optimizer"] += 1
    # The token embedding, the projection and four kernels per block.
    expected = 2 + 4 * TRAINED_BACKBONE["num_groups"]
    assert sharded == {"model": expected, "optimizer": expected}


@tensorflow_only
def test_mirrored_strategy_matches_one_device(scenarios):
    distributed = scenarios["data_parallel"]
    _assert_same_training(distributed, scenarios["one_device"])
    # Every step, each of the two replicas receives half of the global batch.
    assert sorted(distributed["per_device_batches"]) == sorted([[0, 2], [1, 2]] * STEPS)
    assert scenarios["one_device"]["per_device_batches"] == [[0, BATCH_SIZE]] * STEPS


@jax_only
def test_data_parallel_fit_on_raw_strings_drops_a_partial_batch(scenarios):
    run = scenarios["raw_strings"]
    _assert_raw_string_training(run)
    # Eleven strings, global batch 4: two steps of two rows per device; the
    # final 3 strings cannot be split evenly, so this epoch drops them.
    assert len(run["losses"]) == 2
    assert run["per_device_batches"] == [[2, [2, SEQUENCE_LENGTH]]]
    error = run["odd_batch_size_error"]
    assert "`batch_size` must be a multiple of the 2 devices" in error
    assert "Received: batch_size=3" in error


@tensorflow_only
def test_mirrored_strategy_fit_on_raw_strings_splits_every_batch(scenarios):
    run = scenarios["raw_strings"]
    _assert_raw_string_training(run)
    # Eleven strings, global batch 4: batches of 4, 4 and 3, split per replica.
    assert len(run["losses"]) == 3
    assert sorted(run["per_device_batches"]) == sorted(
        [[0, 2], [1, 2], [0, 2], [1, 2], [0, 2], [1, 1]]
    )


def _assert_same_pretraining(distributed, reference):
    """`_assert_same_training` of pretrainers: every weight within 1e-5."""
    _assert_same_training(distributed, reference, rtol=0)
    # LAMB moved every weight, the sentence-order head's included, far more.
    for path, trained in reference["weights"].items():
        moved = np.abs(trained - reference["initial"][path]).max()
        assert moved > 1e-3, path


@jax_only
@pytest.mark.parametrize("devices", [2, 4])
def test_pretrainer_data_parallel_matches_one_device(scenarios, devices):
    distributed = scenarios[f"pretrainer_data_parallel_{devices}"]
    _assert_same_pretraining(distributed, scenarios["pretrainer_one_device"])
    # Each device receives its share of every global batch of 4.
    assert distributed["per_device_batches"] == [
        [devices, [BATCH_SIZE // devices, SEQUENCE_LENGTH]]
    ]


@jax_only
def test_pretrainer_gradient_accumulation_matches_one_device(scenarios):
    reference = scenarios["pretrainer_accumulated_one_device"]
    distributed = scenarios["pretrainer_accumulated_data_parallel"]
    _assert_same_pretraining(distributed, reference)
    assert distributed["per_device_batches"] == [[2, [2, SEQUENCE_LENGTH]]]
    # Accumulating took effect: two updates, not the four of the other runs.
    unaccumulated = scenarios["pretrainer_one_device"]["weights"]
    assert any(
        np.abs(trained - unaccumulated[path]).max() > 1e-3
        for path, trained in reference["weights"].items()
    )


@jax_only
def test_pretrainer_model_parallel_matches_one_device(scenarios):
    distributed = scenarios["pretrainer_model_parallel"]
    _assert_same_pretraining(distributed, scenarios["pretrainer_one_device"])
    assert distributed["per_device_batches"] == [[4, [2, SEQUENCE_LENGTH]]]
    # The layout map's kernels, and LAMB's two slots of each, are split.
    split = [
        path for path, (spec, _) in distributed["shardings"].items() if "model" in spec
    ]
    expected = 2 + 4 * PRETRAINER_BACKBONE["num_groups"]
    assert len([path for path in split if path in distributed["weights"]]) == expected
    assert len(split) == 3 * expected


@torch_only
@pytest.mark.parametrize("kind", ["data", "model"])
def test_torch_refuses_to_build_under_a_distribution(kind):
    # Keras' torch backend has no keras.distribution: under a distribution
    # a model would train on one device while its user counts on several.
    if kind == "data":
        distribution = keras.distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    else:
        distribution = keras.distribution.ModelParallel(
            layout_map=AlbertBackbone.get_layout_map(cpu_mesh()),
            batch_dim_name="batch",
        )
    with distribution.scope():
        with pytest.raises(RuntimeError) as info:
            AlbertMaskedLM(AlbertBackbone(**TRAINED_BACKBONE))
    message = str(info.value)
    assert f"A {type(distribution).__name__} distribution is set" in message
    assert "torch backend does not support keras.distribution" in message
    assert "KERAS_BACKEND=jax" in message and "set_distribution(None)" in message
    # Without the distribution, the same model builds.
    assert keras.distribution.distribution() is None
    AlbertMaskedLM(AlbertBackbone(**TRAINED_BACKBONE))


if __name__ == "__main__":
    _run_scenarios(*sys.argv[1:])
