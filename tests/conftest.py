"""Shared fixtures: the test vocabulary, tiny models, offline hub caches and a
corpus for the `albert-mlm` command. Shared helpers live in helpers.py."""

import random

import keras
import pytest
from helpers import (
    CORPUS_OBJECTS,
    CORPUS_SUBJECTS,
    CORPUS_VERBS,
    TINY_BACKBONE,
    VOCABULARY_PATH,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
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


# === Hub caches, offline ===


@pytest.fixture
def _offline_hubs(tmp_path, monkeypatch):
    """Empty hub caches under tmp_path, and no way out to the network."""
    import huggingface_hub.constants as hf_constants

    kaggle_cache = tmp_path / "kagglehub_cache"
    hf_cache = tmp_path / "hf_home" / "hub"
    kaggle_cache.mkdir()
    hf_cache.mkdir(parents=True)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(kaggle_cache))
    # kagglesdk's "LOCALHOST" environment is http://localhost: refused at once.
    monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "LOCALHOST")
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    # huggingface_hub reads its environment at import: patch the constants too.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(hf_cache))
    return {"kaggle": kaggle_cache, "hf": hf_cache}


# === A corpus for the command line ===


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(0)
    lines = [
        f"{rng.choice(CORPUS_SUBJECTS)} {rng.choice(CORPUS_VERBS)} "
        f"{rng.choice(CORPUS_OBJECTS)}."
        for _ in range(400)
    ]
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path
