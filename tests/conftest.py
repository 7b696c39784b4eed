"""Shared fixtures: the test vocabulary, tiny models, preset copies, offline
hub caches and the `albert-mlm` command run in a subprocess."""

import json
import os
import pathlib
import random
import shutil
import subprocess
import sys

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
TRANSFORMERS_DIR = DATA_DIR / "transformers"

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


# === Preset files ===


def _files(directory):
    """Relative path -> bytes of every file under `directory`."""
    found = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as file:
                found[os.path.relpath(path, directory)] = file.read()
    return found


def _edit_json(path, edit):
    content = json.loads(path.read_text())
    edit(content)
    path.write_text(json.dumps(content))


def _copy_keras_hub_preset(tmp_path, preset="groups2_inner2", name="preset"):
    directory = tmp_path / name
    shutil.copytree(KERAS_HUB_DIR / preset, directory)
    (directory / "goldens.npz").unlink()
    return directory


def _transformers_checkpoint(tmp_path, case):
    """A copy of a test checkpoint with the vocabulary as `spiece.model`."""
    directory = tmp_path / f"checkpoint_{case}"
    shutil.copytree(TRANSFORMERS_DIR / case, directory)
    (directory / "goldens.npz").unlink()
    shutil.copy(VOCABULARY_PATH, directory / "spiece.model")
    return directory


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _weights(model):
    return [_numpy(v) for v in model.weights]


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


def _hf_cache_entry(
    cache, repository, commit="0123456789abcdef0123456789abcdef01234567"
):
    """huggingface_hub's cache layout: a snapshot folder per commit and the
    branch name in refs/ (files may live in the snapshot directly)."""
    storage = cache / f"models--{repository.replace('/', '--')}"
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text(commit)
    snapshot = storage / "snapshots" / commit
    snapshot.mkdir(parents=True)
    return snapshot


# === The command line, in a subprocess ===

SUBJECTS = ["the cat", "a dog", "the old man", "my sister", "the small bird"]
VERBS = ["sees", "likes", "finds", "watches", "follows"]
OBJECTS = ["the red ball", "a green tree", "the river", "an open door", "the moon"]
CLI_ENVIRONMENT = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "albert_mlm", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=CLI_ENVIRONMENT,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(0)
    lines = [
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
        for _ in range(400)
    ]
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _pretrain_args(corpus, out, *extra):
    return (
        "pretrain", "--corpus", str(corpus), "--out", str(out),
        "--vocab-size", "40", "--config", str(DATA_DIR / "tiny_architecture.json"),
        "--sequence-length", "16", "--batch-size", "8", *extra,
    )  # fmt: skip
