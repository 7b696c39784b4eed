"""The dtype policy is kept (`models/albert_backbone.py`,
`models/albert_masked_lm.py`, `presets/keras_hub_config.py`): a
`mixed_bfloat16` backbone reports, configures and saves that policy, and
`from_config`, a `.keras` file and a preset all give it back; a masked LM
built on it computes its head in bfloat16 and returns float32 logits."""

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE, to_numpy

from albert_mlm import AlbertBackbone, AlbertMaskedLM

POLICY = "mixed_bfloat16"


def _inputs(with_mask_positions=False):
    inputs = {
        "token_ids": np.array([[2, 10, 4, 30, 40, 3]], "int32"),
        "segment_ids": np.zeros((1, 6), "int32"),
        "padding_mask": np.ones((1, 6), "int32"),
    }
    if with_mask_positions:
        inputs["mask_positions"] = np.array([[2, 4]], "int32")
    return inputs


def _dtype(tensor):
    return keras.backend.standardize_dtype(tensor.dtype)


@pytest.fixture(scope="module")
def mixed_backbone():
    """Shared by the module's tests, which only read and save it."""
    return AlbertBackbone(**TINY_BACKBONE, dtype=POLICY)


def _check_backbone(backbone):
    assert backbone.dtype_policy.name == POLICY
    assert keras.dtype_policies.deserialize(backbone.get_config()["dtype"]).name == (
        POLICY
    )
    assert {weight.dtype for weight in backbone.weights} == {"float32"}
    assert _dtype(backbone(_inputs())["sequence_output"]) == "bfloat16"


def _check_masked_lm(masked_lm):
    _check_backbone(masked_lm.backbone)
    head = masked_lm.masked_lm_head
    assert head.dtype_policy.name == POLICY
    assert head.compute_dtype == "bfloat16"
    assert head.dense.compute_dtype == "bfloat16"
    assert _dtype(masked_lm(_inputs(with_mask_positions=True))) == "float32"


def test_backbone_reports_and_configures_its_policy(mixed_backbone):
    _check_backbone(mixed_backbone)
    assert mixed_backbone.get_config()["dtype"]["config"]["name"] == POLICY


def test_backbone_from_config_keeps_the_policy(mixed_backbone):
    _check_backbone(AlbertBackbone.from_config(mixed_backbone.get_config()))


def test_backbone_keras_file_keeps_the_policy(mixed_backbone, tmp_path):
    mixed_backbone.save(tmp_path / "backbone.keras")
    loaded = keras.saving.load_model(tmp_path / "backbone.keras")
    _check_backbone(loaded)
    np.testing.assert_array_equal(
        to_numpy(loaded(_inputs())["sequence_output"]).astype("float32"),
        to_numpy(mixed_backbone(_inputs())["sequence_output"]).astype("float32"),
    )


def test_backbone_preset_keeps_the_policy(mixed_backbone, tmp_path):
    mixed_backbone.save_to_preset(tmp_path / "preset")
    _check_backbone(AlbertBackbone.from_preset(tmp_path / "preset"))


def test_masked_lm_head_computes_in_bfloat16(mixed_backbone, preprocessor):
    _check_masked_lm(AlbertMaskedLM(mixed_backbone, preprocessor))


def test_masked_lm_round_trips_keep_the_policy(mixed_backbone, preprocessor, tmp_path):
    masked_lm = AlbertMaskedLM(mixed_backbone, preprocessor)
    expected = to_numpy(masked_lm(_inputs(with_mask_positions=True)))

    rebuilt = AlbertMaskedLM.from_config(masked_lm.get_config())
    _check_masked_lm(rebuilt)

    masked_lm.save(tmp_path / "masked_lm.keras")
    loaded = keras.saving.load_model(tmp_path / "masked_lm.keras")
    _check_masked_lm(loaded)
    np.testing.assert_array_equal(
        to_numpy(loaded(_inputs(with_mask_positions=True))), expected
    )

    masked_lm.save_to_preset(tmp_path / "preset")
    from_preset = AlbertMaskedLM.from_preset(tmp_path / "preset")
    _check_masked_lm(from_preset)
    np.testing.assert_array_equal(
        to_numpy(from_preset(_inputs(with_mask_positions=True))), expected
    )
