"""Our models equal KerasHub 0.32 on the same weights.

The presets and `goldens.npz` in `tests/data/keras_hub/` were written by
KerasHub itself (`tools/golden_files/make_keras_hub_goldens.py`); here the
weights travel through our name map (`albert_mlm.presets.keras_hub_weights`).
"""

import json

import keras
import numpy as np
import pytest
from helpers import KERAS_HUB_DIR, KERAS_HUB_PRESETS, keras_hub_goldens

from albert_mlm import AlbertBackbone, AlbertMaskedLM
from albert_mlm.presets.keras_hub_weights import (
    backbone_weight_entries,
    head_weight_entries,
    load_keras_hub_weights,
    write_keras_hub_weights,
)

TOLERANCE = 1e-5


def _masked_lm_with_keras_hub_weights(preset):
    directory = KERAS_HUB_DIR / preset
    config = json.loads((directory / "config.json").read_text())["config"]
    config = {
        k: v for k, v in config.items() if k not in ("name", "trainable", "dtype")
    }
    masked_lm = AlbertMaskedLM(AlbertBackbone(**config))
    load_keras_hub_weights(
        masked_lm, directory / "model.weights.h5", directory / "task.weights.h5"
    )
    return masked_lm


def _dataset_names(path):
    import h5py

    names = []
    with h5py.File(path) as file:
        file.visititems(
            lambda name, item: (
                names.append(name) if isinstance(item, h5py.Dataset) else None
            )
        )
    return names


@pytest.mark.parametrize("preset", KERAS_HUB_PRESETS)
def test_backbone_and_logits_match_keras_hub(preset):
    masked_lm = _masked_lm_with_keras_hub_weights(preset)
    goldens = keras_hub_goldens(preset)
    x = {k: goldens[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    outputs = masked_lm.backbone(x)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(outputs[key]), goldens[key], atol=TOLERANCE
        )
    logits = masked_lm({**x, "mask_positions": goldens["mask_positions"]})
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(logits), goldens["logits"], atol=TOLERANCE
    )


def test_every_keras_hub_dataset_is_mapped():

    masked_lm = _masked_lm_with_keras_hub_weights("groups3_inner2")
    for file_name, entries in [
        ("model.weights.h5", backbone_weight_entries(masked_lm.backbone)),
        ("task.weights.h5", head_weight_entries(masked_lm)),
    ]:
        stored = {
            name
            for name in _dataset_names(KERAS_HUB_DIR / "groups3_inner2" / file_name)
            if not name.startswith("optimizer")
        }
        assert stored == {key for entry in entries for key in entry.keys}
    mapped = {
        id(entry.variable)
        for entry in backbone_weight_entries(masked_lm.backbone)
        + head_weight_entries(masked_lm)
    }
    assert mapped == {id(v) for v in masked_lm.weights}


def test_written_weights_read_back_identically(tmp_path):
    masked_lm = _masked_lm_with_keras_hub_weights("groups2_inner2")
    write_keras_hub_weights(
        backbone_weight_entries(masked_lm.backbone), tmp_path / "model.weights.h5"
    )
    write_keras_hub_weights(
        head_weight_entries(masked_lm), tmp_path / "task.weights.h5"
    )
    import h5py

    original = KERAS_HUB_DIR / "groups2_inner2"
    for file_name in ("model.weights.h5", "task.weights.h5"):
        names = _dataset_names(tmp_path / file_name)
        assert names
        with (
            h5py.File(tmp_path / file_name) as ours,
            h5py.File(original / file_name) as theirs,
        ):
            for name in names:
                np.testing.assert_array_equal(ours[name][()], theirs[name][()])


def test_shape_mismatch_names_the_variable_and_leaves_the_model_unchanged():
    masked_lm = AlbertMaskedLM(
        AlbertBackbone(
            vocabulary_size=400,
            num_layers=4,
            num_heads=2,
            embedding_dim=8,
            hidden_dim=16,
            intermediate_dim=64,
            num_groups=2,
            num_inner_repetitions=2,
            max_sequence_length=32,
        )
    )
    before = [keras.ops.convert_to_numpy(v) for v in masked_lm.weights]
    directory = KERAS_HUB_DIR / "groups2_inner2"
    with pytest.raises(
        ValueError, match="intermediate_dense/kernel.*\\(16, 64\\).*\\(16, 32\\)"
    ):
        load_keras_hub_weights(
            masked_lm, directory / "model.weights.h5", directory / "task.weights.h5"
        )
    after = [keras.ops.convert_to_numpy(v) for v in masked_lm.weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
