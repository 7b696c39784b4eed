"""Shared test helpers: test data paths, tiny model settings, preset copies,
golden comparisons, offline hub cache entries and the `albert-mlm` command.

Test files import these with `from helpers import ...` (tests/conftest.py puts
tests/ on `sys.path`); the pytest fixtures stay in conftest.py.
"""

import contextlib
import importlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

# === Test data ===

DATA_DIR = pathlib.Path(__file__).parent / "data"
"""The directory of test data files, tests/data."""
VOCABULARY_PATH = DATA_DIR / "vocabulary.spm"
"""The 400-piece SentencePiece vocabulary every test model uses."""
KERAS_HUB_DIR = DATA_DIR / "keras_hub"
"""Presets and goldens written by KerasHub itself."""
KERAS_HUB_PRESETS = ("groups2_inner2", "groups3_inner2", "groups1_inner1")
"""The unsharded KerasHub presets under `KERAS_HUB_DIR`."""
TRANSFORMERS_DIR = DATA_DIR / "transformers"
"""Checkpoints and goldens written by Hugging Face transformers."""
TOOLS_DIR = pathlib.Path(__file__).resolve().parent.parent / "tools"
"""The repository's scripts, tools/, in one folder per purpose."""


@contextlib.contextmanager
def tool_module(path):
    """`tools/<path>.py` imported (`path` such as "corpus/r_lazyload"), with
    its folder on `sys.path` only meanwhile, as when the script runs."""
    folder = str((TOOLS_DIR / path).parent)
    sys.path.insert(0, folder)
    try:
        yield importlib.import_module(pathlib.PurePosixPath(path).name)
    finally:
        sys.path.remove(folder)


def cloze_sentences():
    """The cloze set's sentences (tests/data/cloze_en.json), each with its
    first accepted word in place of `[MASK]`: everyday English written for
    the set, not taken from any training corpus."""
    with open(DATA_DIR / "cloze_en.json", encoding="utf-8") as file:
        items = json.load(file)["items"]
    return [item["text"].replace("[MASK]", item["accepted"][0]) for item in items]


with open(KERAS_HUB_DIR / "tokenization.json", encoding="utf-8") as _file:
    KERAS_HUB_TOKENIZATION = json.load(_file)
"""KerasHub's tokenizer ids and packings of the golden sentences."""

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
"""Golden sentences with accents, where KerasHub's ids differ from ours."""
MASK_GOLDENS = {"the [MASK] sat near the river."}
"""Golden sentences with "[MASK]" written in, where KerasHub's ids differ."""

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
"""`AlbertBackbone` arguments of the tiny test model."""

# === Values ===


def to_numpy(x):
    """`x` (a backend tensor or variable) as a NumPy array."""
    return keras.ops.convert_to_numpy(x)


def weight_values(model):
    """Every weight of `model`, in order, as NumPy arrays."""
    return [to_numpy(v) for v in model.weights]


def assert_same_results(actual, expected, rel=1e-5):
    """Equal nested results (dicts, lists, ids, pieces), their floats up to
    `rel`: what one query gives when batched differently, or read from JSON."""
    if isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=rel, abs=1e-12)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys()
        for key in expected:
            assert_same_results(actual[key], expected[key], rel)
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list | tuple) and len(actual) == len(expected)
        for actual_item, expected_item in zip(actual, expected):
            assert_same_results(actual_item, expected_item, rel)
    else:
        assert actual == expected


def cpu_mesh(axis_names=("batch", "model")):
    """A 2x2 mesh; building a layout map needs no real devices."""
    devices = [f"cpu:{index}" for index in range(4)]
    return keras.distribution.DeviceMesh((2, 2), axis_names, devices=devices)


# === Preset files ===


def file_contents(directory):
    """Relative path -> bytes of every file under `directory`."""
    found = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as file:
                found[os.path.relpath(path, directory)] = file.read()
    return found


def tree_contents(directory):
    """Relative path -> bytes of every file under `directory`, and -> None of
    every folder: `file_contents` that also sees an empty folder left behind."""
    found = file_contents(directory)
    for root, folders, _ in os.walk(directory):
        for name in folders:
            found[os.path.relpath(os.path.join(root, name), directory)] = None
    return found


def replace_with_link(path, target):
    """Put a symbolic link to `target` where `path` (a file, a folder or
    nothing) was."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())


def edit_json(path, edit):
    """Rewrite the JSON file at `path` after `edit` changed its content in place."""
    content = json.loads(path.read_text())
    edit(content)
    path.write_text(json.dumps(content))


def copy_keras_hub_preset(tmp_path, preset="groups2_inner2", name="preset"):
    """A copy of a KerasHub test preset, `tmp_path / name`, without its goldens."""
    directory = tmp_path / name
    shutil.copytree(KERAS_HUB_DIR / preset, directory)
    (directory / "goldens.npz").unlink()
    return directory


def copy_transformers_checkpoint(tmp_path, case):
    """A copy of a test checkpoint with the vocabulary as `spiece.model`."""
    directory = tmp_path / f"checkpoint_{case}"
    shutil.copytree(TRANSFORMERS_DIR / case, directory)
    (directory / "goldens.npz").unlink()
    shutil.copy(VOCABULARY_PATH, directory / "spiece.model")
    return directory


# === Goldens ===

KERAS_HUB_TOLERANCE = 1e-5
"""Largest absolute difference allowed from KerasHub's goldens."""
TRANSFORMERS_TOLERANCE = 1e-4
"""Largest absolute difference allowed from transformers' goldens."""


def keras_hub_goldens(preset):
    """The arrays of `goldens.npz` of the KerasHub test preset `preset`."""
    return dict(np.load(KERAS_HUB_DIR / preset / "goldens.npz"))


def keras_hub_inputs(goldens, with_mask_positions=True):
    """The model inputs among KerasHub `goldens`."""
    keys = ["token_ids", "segment_ids", "padding_mask"]
    if with_mask_positions:
        keys.append("mask_positions")
    return {key: goldens[key] for key in keys}


def assert_keras_hub_logits(masked_lm, preset):
    """Check `masked_lm`'s logits against the preset's goldens; returns them."""
    goldens = keras_hub_goldens(preset)
    logits = to_numpy(masked_lm(keras_hub_inputs(goldens)))
    np.testing.assert_allclose(
        logits, goldens["logits"], atol=KERAS_HUB_TOLERANCE, rtol=0
    )
    return logits


def transformers_goldens(case):
    """The arrays of `goldens.npz` of the transformers test checkpoint `case`."""
    return dict(np.load(TRANSFORMERS_DIR / case / "goldens.npz"))


def transformers_inputs(goldens):
    """transformers' model inputs among `goldens`, under our input names."""
    return {
        "token_ids": goldens["input_ids"],
        "segment_ids": goldens["token_type_ids"],
        "padding_mask": goldens["attention_mask"],
    }


def max_error(actual, expected, where=None):
    """The largest absolute difference, over the positions `where` if given."""
    error = np.abs(to_numpy(actual).astype("float64") - np.asarray(expected, "float64"))
    return float(error[where].max() if where is not None else error.max())


# === Hub caches ===


def hf_cache_entry(
    cache, repository, commit="0123456789abcdef0123456789abcdef01234567"
):
    """A snapshot folder in huggingface_hub's cache, with refs/main at `commit`."""
    # huggingface_hub's cache layout: a snapshot folder per commit and the
    # branch name in refs/ (files may live in the snapshot directly).
    storage = cache / f"models--{repository.replace('/', '--')}"
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text(commit)
    snapshot = storage / "snapshots" / commit
    snapshot.mkdir(parents=True)
    return snapshot


# === The command line, in a subprocess ===

CORPUS_SUBJECTS = ["the cat", "a dog", "the old man", "my sister", "the small bird"]
"""Sentence subjects of the generated test corpus."""
CORPUS_VERBS = ["sees", "likes", "finds", "watches", "follows"]
"""Sentence verbs of the generated test corpus."""
CORPUS_OBJECTS = [
    "the red ball",
    "a green tree",
    "the river",
    "an open door",
    "the moon",
]
"""Sentence objects of the generated test corpus."""
CLI_ENVIRONMENT = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
"""The environment `albert-mlm` subprocesses run in (TensorFlow logs quiet)."""


def run_cli(*args, timeout=300):
    """Run `python -m albert_mlm *args`; returns the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "albert_mlm", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=CLI_ENVIRONMENT,
    )


def pretrain_args(corpus, out, *extra):
    """`albert-mlm pretrain` arguments for a tiny run on `corpus` into `out`."""
    return (
        "pretrain", "--corpus", str(corpus), "--out", str(out),
        "--vocab-size", "40", "--config", str(DATA_DIR / "tiny_architecture.json"),
        "--sequence-length", "16", "--batch-size", "8", *extra,
    )  # fmt: skip


def sentence_documents(path, documents=30, sentences_per_document=4):
    """Writes `documents` documents of distinct generated sentences, a blank
    line between them, to `path`; returns `path`."""
    sentences = [
        f"{subject} {verb} {obj}."
        for subject in CORPUS_SUBJECTS
        for verb in CORPUS_VERBS
        for obj in CORPUS_OBJECTS
    ]
    size = sentences_per_document
    path.write_text(
        "\n\n".join(
            "\n".join(sentences[i : i + size]) for i in range(0, documents * size, size)
        )
        + "\n"
    )
    return path


def documents_corpus(corpus, directory):
    """`corpus` as documents of five lines, a blank line between them (what
    ALBERT's recipe packs), written into `directory`."""
    lines = corpus.read_text().splitlines()
    documents = directory / "documents.txt"
    documents.write_text(
        "\n\n".join("\n".join(lines[i : i + 5]) for i in range(0, len(lines), 5))
    )
    return documents


# === The command line, in this process ===


def run_cli_in_process(*args):
    """Run `albert-mlm *args` through `albert_mlm.cli.main` in this process
    (no interpreter start-up); returns (exit code, stdout, stderr).

    An argparse error's `SystemExit` becomes its exit code, and the
    environment variables `main` sets (JAX's cache settings) are undone.
    """
    import contextlib
    import io

    from albert_mlm.cli import main

    saved = dict(os.environ)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main([str(arg) for arg in args])
            except SystemExit as exit_info:
                code = exit_info.code
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)
    return code, stdout.getvalue(), stderr.getvalue()


def quiet_free_environment(**extra):
    """The environment of a user's shell: no `TF_CPP_MIN_LOG_LEVEL`, the
    backend under test, and `extra`."""
    environment = {
        key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"
    }
    environment["KERAS_BACKEND"] = keras.backend.backend()
    environment.update(extra)
    return environment


def quantize_quickly(model, mode="int8"):
    """`model.quantize(mode)`, without the full `gc.collect()` Keras runs for
    each layer it changes (most of a second each in a process holding
    TensorFlow, JAX and torch); what is quantized is unchanged."""
    import gc

    collect = gc.collect
    gc.collect = lambda *args, **kwargs: 0
    try:
        model.quantize(mode)
    finally:
        gc.collect = collect
    return model


def cycle_through(graph, start):
    """A list of nodes leading from `start` back to itself in `graph`
    (`{node: set of nodes it imports}`), or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for imported in graph[node]:
            if imported == start:
                return path + [start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, path + [imported]))
    return None


def random_model_inputs(mask_positions=None):
    """Two rows of 12 seeded token ids (in [5, 400)), one segment, no
    padding; with `mask_positions`, the masked LM's inputs."""
    rng = np.random.default_rng(0)
    inputs = {
        "token_ids": rng.integers(5, 400, (2, 12)).astype("int32"),
        "segment_ids": np.zeros((2, 12), "int32"),
        "padding_mask": np.ones((2, 12), "int32"),
    }
    if mask_positions is not None:
        inputs["mask_positions"] = np.array(mask_positions, "int32")
    return inputs
