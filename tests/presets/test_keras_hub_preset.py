"""`from_preset` on KerasHub preset directories (`albert_mlm.presets.keras_hub_preset`):
the models, tokenizer and preprocessor they hold, missing files, sharded weights.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import json

import keras
import numpy as np
import pytest
from helpers import (
    KERAS_HUB_DIR,
    KERAS_HUB_PRESETS,
    KERAS_HUB_TOLERANCE,
    VOCABULARY_PATH,
    assert_keras_hub_logits,
    copy_keras_hub_preset,
    edit_json,
    keras_hub_goldens,
    keras_hub_inputs,
    to_numpy,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


# === What a preset holds ===


@pytest.mark.parametrize("preset", KERAS_HUB_PRESETS)
def test_keras_hub_preset_masked_lm_and_backbone_match_goldens(preset):
    directory = KERAS_HUB_DIR / preset
    masked_lm = AlbertMaskedLM.from_preset(str(directory))
    assert_keras_hub_logits(masked_lm, preset)

    goldens = keras_hub_goldens(preset)
    backbone = AlbertBackbone.from_preset(directory)  # a pathlib.Path works too
    outputs = backbone(keras_hub_inputs(goldens, with_mask_positions=False))
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(
            to_numpy(outputs[key]), goldens[key], atol=KERAS_HUB_TOLERANCE, rtol=0
        )


def test_keras_hub_preset_tokenizer_and_preprocessor_settings():
    directory = KERAS_HUB_DIR / "groups2_inner2"
    stored = json.loads((directory / "preprocessor.json").read_text())["config"]

    tokenizer = AlbertTokenizer.from_preset(str(directory))
    assert isinstance(tokenizer, AlbertTokenizer)
    assert tokenizer.vocabulary_size() == 400
    assert tokenizer.lowercase is True
    reference = AlbertTokenizer(str(VOCABULARY_PATH))
    text = ["The Quick BROWN Fox jumped."]
    np.testing.assert_array_equal(to_numpy(tokenizer(text)), to_numpy(reference(text)))

    preprocessor = AlbertMaskedLMPreprocessor.from_preset(str(directory))
    assert stored["sequence_length"] == 16 and stored["mask_selection_length"] == 4
    for key in (
        "sequence_length",
        "truncate",
        "mask_selection_rate",
        "mask_selection_length",
        "mask_token_rate",
        "random_token_rate",
    ):
        assert getattr(preprocessor, key) == stored[key], key
    x, y, _ = preprocessor(["the quick brown fox jumped over the lazy dog"])
    assert tuple(x["token_ids"].shape) == (1, 16)
    assert tuple(y.shape) == (1, 4)

    masked_lm = AlbertMaskedLM.from_preset(str(directory))
    assert masked_lm.preprocessor.sequence_length == 16
    assert masked_lm.preprocessor.mask_selection_length == 4


# === Missing or mismatched files ===


def test_missing_config_json(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    (directory / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(FileNotFoundError, match="config.json"):
        AlbertBackbone.from_preset(str(directory))


def test_missing_backbone_weights(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    (directory / "model.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match="model.weights.h5"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(FileNotFoundError, match="model.weights.h5"):
        AlbertBackbone.from_preset(str(directory))
    # Without weights to load, the files are not needed.
    assert (
        AlbertBackbone.from_preset(str(directory), load_weights=False).num_layers == 4
    )


def test_missing_task_weights_warns(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    (directory / "task.weights.h5").unlink()
    with pytest.warns(UserWarning, match="task.weights.h5"):
        AlbertMaskedLM.from_preset(str(directory))


def test_weight_shape_mismatch_names_the_variable(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    edit_json(
        directory / "config.json", lambda c: c["config"].update(intermediate_dim=24)
    )
    with pytest.raises(ValueError, match=r"variable '[^']*intermediate_dense/kernel'"):
        AlbertBackbone.from_preset(str(directory))
    with pytest.raises(ValueError, match="intermediate_dense"):
        AlbertMaskedLM.from_preset(str(directory))
    # With load_weights=False the edited architecture builds.
    backbone = AlbertBackbone.from_preset(str(directory), load_weights=False)
    assert backbone.intermediate_dim == 24


def test_sharded_keras_hub_weights_load():
    # KerasHub writes `model.weights.json` + shards for large backbones.
    directory = KERAS_HUB_DIR / "groups2_inner2_sharded"
    assert not (directory / "model.weights.h5").exists()
    assert len(list(directory.glob("model_*.weights.h5"))) > 1
    masked_lm = AlbertMaskedLM.from_preset(str(directory))
    goldens = np.load(directory / "goldens.npz")
    inputs = {
        k: goldens[k]
        for k in ("token_ids", "segment_ids", "padding_mask", "mask_positions")
    }
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(masked_lm(inputs)), goldens["logits"], atol=1e-5
    )
