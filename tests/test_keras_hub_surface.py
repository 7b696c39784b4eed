"""Ours has every public name KerasHub 0.32's ALBERT classes add to Keras'.

`tests/data/keras_hub/public_names.json` lists them, as KerasHub's own
instances have them (written by
`tools/golden_files/list_keras_hub_public_names.py` with KerasHub
installed; KerasHub is not imported here). A name KerasHub adds later, or
one of ours renamed, fails this test until it is added or allowed below,
with the reason beside it.
"""

import json

import pytest
from helpers import KERAS_HUB_DIR

from albert_mlm import AlbertMaskedLM

RECORD = json.loads((KERAS_HUB_DIR / "public_names.json").read_text())

_TEXT_ONLY = "ALBERT reads text only: KerasHub sets these to None on ALBERT"
_INTERNAL = (
    "a KerasHub-internal layer: ours computes the same thing in layers "
    "named for ALBERT (the embeddings in `embeddings_layer_norm`, the "
    "shared blocks in `groups`)"
)
NOT_APPLICABLE = {
    "AlbertBackbone": {
        "embeddings_add": _INTERNAL,
        "embeddings_dropout": _INTERNAL,
        "transformer_layers": _INTERNAL,
    },
    "AlbertMaskedLM": {},
    "AlbertTokenizer": {},
    "AlbertMaskedLMPreprocessor": {
        "audio_converter": _TEXT_ONLY,
        "audio_converter_cls": _TEXT_ONLY,
        "image_converter": _TEXT_ONLY,
        "image_converter_cls": _TEXT_ONLY,
        "image_size": _TEXT_ONLY,
        "video_converter": _TEXT_ONLY,
        "video_converter_cls": _TEXT_ONLY,
    },
}


@pytest.fixture(scope="module")
def ours():
    masked_lm = AlbertMaskedLM.from_preset(str(KERAS_HUB_DIR / "groups1_inner1"))
    return {
        "AlbertBackbone": masked_lm.backbone,
        "AlbertMaskedLM": masked_lm,
        "AlbertTokenizer": masked_lm.preprocessor.tokenizer,
        "AlbertMaskedLMPreprocessor": masked_lm.preprocessor,
    }


def test_the_record_is_keras_hubs():
    assert RECORD["keras_hub"].startswith("0.32.")
    assert set(RECORD["names"]) == set(NOT_APPLICABLE)
    assert "enable_lora" in RECORD["names"]["AlbertBackbone"]


@pytest.mark.parametrize("class_name", sorted(NOT_APPLICABLE))
def test_every_keras_hub_name_is_ours(ours, class_name):
    allowed = NOT_APPLICABLE[class_name]
    # An allowance for a name KerasHub does not have is stale.
    assert set(allowed) <= set(RECORD["names"][class_name])
    missing = [
        name
        for name in RECORD["names"][class_name]
        if name not in allowed and not hasattr(ours[class_name], name)
    ]
    assert not missing, f"{class_name} lacks KerasHub's {missing}"


def test_the_special_tokens_are_keras_hubs(ours):
    tokenizer = ours["AlbertTokenizer"]
    # KerasHub 0.32 on this vocabulary: ['[MASK]', '[CLS]', '<pad>', '[SEP]'].
    assert sorted(tokenizer.special_tokens) == ["<pad>", "[CLS]", "[MASK]", "[SEP]"]
    assert [tokenizer.token_to_id(t) for t in tokenizer.special_tokens] == [
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.pad_token_id,
        tokenizer.mask_token_id,
    ]
    assert (tokenizer.start_token, tokenizer.end_token) == ("[CLS]", "[SEP]")
    assert (tokenizer.add_bos, tokenizer.add_eos) == (False, False)
    assert tokenizer.file_assets == ["vocabulary.spm"]
    assert tokenizer.config_file == "tokenizer.json"
    assert ours["AlbertMaskedLMPreprocessor"].config_file == "preprocessor.json"
    for owner in (tokenizer, ours["AlbertMaskedLMPreprocessor"]):
        assert owner.backbone_cls is type(ours["AlbertBackbone"])
    assert ours["AlbertBackbone"].cls_token_index == 0


def test_preset_assets_load_into_an_empty_tokenizer_and_preprocessor():
    from albert_mlm import AlbertMaskedLMPreprocessor, AlbertTokenizer

    tokenizer = AlbertTokenizer()
    tokenizer.load_preset_assets(str(KERAS_HUB_DIR / "groups1_inner1"))
    reference = AlbertTokenizer.from_preset(str(KERAS_HUB_DIR / "groups1_inner1"))
    assert tokenizer.proto == reference.proto
    preprocessor = AlbertMaskedLMPreprocessor(AlbertTokenizer(), sequence_length=8)
    preprocessor.load_preset_assets("albert_tiny_en_uncased")
    assert preprocessor.tokenizer.vocabulary_size() == 8000
    assert preprocessor.packer.sequence_length == 8
