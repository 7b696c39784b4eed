"""An `AlbertTokenizer`, `AlbertMaskedLMPreprocessor`, `AlbertBackbone` and
`AlbertMaskedLM`, once called, have the same `dir()` and config as the object
rebuilt from their config, as KerasHub's `run_serialization_test` checks:
nothing (such as a cache set on a first call) exists on one and not the other.
"""

import json

import keras
import numpy as np
import pytest

from albert_mlm import AlbertMaskedLM

TEXTS = ["the quick brown fox.", "a [MASK] sat near the river."]
INPUTS = {
    "token_ids": np.array([[2, 30, 31, 3], [2, 40, 3, 0]], "int32"),
    "segment_ids": np.zeros((2, 4), "int32"),
    "padding_mask": np.array([[1, 1, 1, 1], [1, 1, 1, 0]], "int32"),
}


def assert_same_dir_after_round_trips(instance):
    """KerasHub's `run_serialization_test`: config and `dir()` through
    `from_config(get_config())` and through `serialize_keras_object` to
    JSON and back."""
    config_json = json.dumps(instance.get_config(), sort_keys=True)
    # Python creates a class's `__annotations__` when first asked for it
    # (KerasHub's test leaves it out too).
    reference_dir = set(dir(instance)) - {"__annotations__"}
    revived = [
        type(instance).from_config(instance.get_config()),
        keras.saving.deserialize_keras_object(
            json.loads(json.dumps(keras.saving.serialize_keras_object(instance)))
        ),
    ]
    for revived_instance in revived:
        assert json.dumps(revived_instance.get_config(), sort_keys=True) == (
            config_json
        )
        revived_dir = set(dir(revived_instance)) - {"__annotations__"}
        assert {
            "only on the original": sorted(reference_dir - revived_dir),
            "only on the revived": sorted(revived_dir - reference_dir),
        } == {"only on the original": [], "only on the revived": []}


def test_tokenizer(tokenizer):
    assert len(tokenizer(TEXTS)) == 2
    assert_same_dir_after_round_trips(tokenizer)


def test_tokenizer_with_sequence_length(tokenizer):
    tokenizer.sequence_length = 8
    assert tokenizer(TEXTS).shape == (2, 8)
    assert_same_dir_after_round_trips(tokenizer)


def test_preprocessor(preprocessor):
    x, _, _ = preprocessor(TEXTS)
    assert x["token_ids"].shape == (2, 16)
    assert_same_dir_after_round_trips(preprocessor)


def test_backbone(backbone):
    assert backbone(INPUTS)["sequence_output"].shape[:2] == (2, 4)
    assert_same_dir_after_round_trips(backbone)


@pytest.mark.parametrize("with_preprocessor", [True, False])
def test_masked_lm(backbone, preprocessor, with_preprocessor):
    masked_lm = AlbertMaskedLM(backbone, preprocessor if with_preprocessor else None)
    inputs = {**INPUTS, "mask_positions": np.array([[1, 2], [1, 0]], "int32")}
    assert masked_lm(inputs).shape[:2] == (2, 2)
    assert_same_dir_after_round_trips(masked_lm)
