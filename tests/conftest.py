"""Shared fixtures: the test vocabulary and tiny models."""

import json
import pathlib

import keras
import pytest

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)

DATA_DIR = pathlib.Path(__file__).parent / "data"
VOCABULARY_PATH = DATA_DIR / "vocabulary.spm"
KERAS_HUB_DIR = DATA_DIR / "keras_hub"
KERAS_HUB_PRESETS = ("groups2_inner2", "groups3_inner2", "groups1_inner1")

with open(KERAS_HUB_DIR / "tokenization.json", encoding="utf-8") as _file:
    KERAS_HUB_TOKENIZATION = json.load(_file)

# Golden sentences on which our tokenizer deliberately differs from KerasHub
# 0.32, which neither strips accents nor splits out special tokens written in
# the text. We follow Hugging Face's ALBERT tokenizer on both counts (the
# uncased normalisation, and "[MASK]" in text becoming one id with no "▁"
# before it), so these sentences are left out of id comparisons.
ACCENTED_GOLDENS = {
    "a   naïve   student   visited    the   café.",
    "the crème brûlée (99) explains a tiny piano - gently.",
    '"sleepy cats," whispered zoë, "are never busy."',
}
MASK_GOLDENS = {"the [MASK] sat near the river."}

TINY_BACKBONE = dict(
    vocabulary_size=400,
    num_layers=4,
    num_heads=2,
    embedding_dim=8,
    hidden_dim=16,
    intermediate_dim=32,
    num_groups=2,
    num_inner_repetitions=2,
    max_sequence_length=32,
)


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(1234)


@pytest.fixture
def tokenizer():
    return AlbertTokenizer(str(VOCABULARY_PATH))


@pytest.fixture
def preprocessor(tokenizer):
    return AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=16, mask_selection_length=4
    )


@pytest.fixture
def backbone():
    return AlbertBackbone(**TINY_BACKBONE)


@pytest.fixture
def masked_lm(backbone, preprocessor):
    return AlbertMaskedLM(backbone, preprocessor)
