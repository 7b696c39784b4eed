"""The SavedModel `export_for_serving` writes: served in a process without
Keras, it answers as `fill_mask` does; writing it is atomic and refuses
what it must."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import CLI_ENVIRONMENT, quantize_quickly, tree_contents

from albert_mlm import AlbertMaskedLM

not_on_jax = pytest.mark.skipif(
    keras.backend.backend() == "jax", reason="the jax suite has no time to spare"
)
tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="in-process export"
)

_SENTENCES = [
    "the cat sat on the mat near the door.",
    "she went to the shop to buy some bread.",
    "a young dog barks at the old man.",
    "paris is the capital city of france.",
    "he threw the red ball to his sister.",
    "the river runs past the small village.",
    "my brother likes to read books at night.",
    "the children played in the green park.",
    "we ate dinner with our friends yesterday.",
    "the bird sang a song in the tall tree.",
    "Café owners open their doors early.",
    "the moon is bright over the quiet sea.",
    "they walked home after the long game.",
    "the teacher wrote a word on the board.",
    "an open window lets the cold air in.",
]


def _texts():
    """50 texts: one and two masks (written in any case), uppercase text,
    odd spacing, accents, and four that `fill_mask` refuses or the
    SavedModel pads differently (too long, no mask, three masks)."""
    texts = []
    for sentence in _SENTENCES:
        words = sentence.split()
        one = " ".join(words[:2] + ["[MASK]"] + words[3:])
        two = " ".join(["[mask]"] + words[1:4] + ["[Mask]"] + words[5:])
        texts += [one, two, one.upper().replace("[MASK]", "[mask]")]
    texts += ["the  [MASK]\tsat.", "[MASK]"]
    texts += [
        "the [MASK] " + "word " * 30,
        "no mask in this text.",
        "[MASK] [MASK] [MASK] sat.",
        "the [MASK] of the " + "very " * 25 + "old house.",
    ]
    return texts


# Run in a fresh interpreter where Keras and albert_mlm cannot be imported
# (TensorFlow imports Keras when it is installed, and tensorflow_text's
# Python package needs it for its Keras layers): TensorFlow, and the
# tensorflow-text op libraries a TF Serving build links, serve the model.
_SERVE = """
import glob, importlib.abc, importlib.util, json, os, sys

class Uninstalled(importlib.abc.MetaPathFinder):
    def __init__(self, finders):
        self.finders = finders

    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("keras", "tf_keras", "albert_mlm"):
            return None
        specs = (finder.find_spec(name, path, target) for finder in self.finders)
        return next((spec for spec in specs if spec is not None), None)

sys.meta_path[:] = [Uninstalled(sys.meta_path[:])]
import tensorflow as tf
(text_folder,) = importlib.util.find_spec("tensorflow_text").submodule_search_locations
for library in sorted(glob.glob(os.path.join(text_folder, "python/ops/*.so"))):
    tf.load_op_library(library)
texts = json.loads(sys.stdin.read())
served = tf.saved_model.load(sys.argv[1]).signatures["fill_mask"]
outputs = served(texts=tf.constant(texts))
found = {name: value.numpy().tolist() for name, value in outputs.items()}
for name in ("pieces", "tokens"):
    found[name] = [[[p.decode() for p in row] for row in mask] for mask in found[name]]
found["loaded"] = [
    m for m in sys.modules if m.split(".")[0] in ("keras", "albert_mlm", "tf_keras")
]
print(json.dumps(found))
"""


def serve_in_fresh_process(directory, texts):
    """The `fill_mask` signature's outputs (lists) for `texts`, computed in
    a process with TensorFlow and tensorflow-text's ops, and no Keras."""
    done = subprocess.run(
        [sys.executable, "-c", _SERVE, str(directory)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=CLI_ENVIRONMENT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def shipped_masked_lm():
    return AlbertMaskedLM.from_preset("albert_tiny_en_uncased", sequence_length=24)


@not_on_jax
def test_served_fill_mask_matches_fill_mask(shipped_masked_lm, tmp_path):
    # On torch this goes through a preset and `albert-mlm export` in a
    # tensorflow subprocess; on tensorflow it is written in-process.
    texts = _texts()
    # An earlier export there is replaced.
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "serving.json").write_text('{"top_k": 2}')
    (tmp_path / "served" / "saved_model.pb").write_bytes(b"earlier")
    shipped_masked_lm.export_for_serving(tmp_path / "served", top_k=5, max_masks=2)
    marker = json.loads((tmp_path / "served" / "serving.json").read_text())
    assert (marker["top_k"], marker["max_masks"], marker["sequence_length"]) == (
        5,
        2,
        24,
    )
    served = serve_in_fresh_process(tmp_path / "served", texts)
    assert served["loaded"] == []
    refused = {len(texts) - 4: 2, len(texts) - 3: 1, len(texts) - 2: 3}
    refused[len(texts) - 1] = 2
    assert served["status"] == [refused.get(i, 0) for i in range(len(texts))]
    assert served["mask_count"][-4:] == [1, 0, 3, 1]
    fillable = [i for i in range(len(texts)) if i not in refused]
    expected = shipped_masked_lm.fill_mask([texts[i] for i in fillable], top_k=5)
    for index, masks in zip(fillable, expected, strict=True):
        assert served["mask_count"][index] == len(masks)
        for name in ("id", "piece", "token"):
            found = served[name + "s"][index]
            assert found[: len(masks)] == [[c[name] for c in m] for m in masks]
        np.testing.assert_allclose(
            served["probabilities"][index][: len(masks)],
            [[c["probability"] for c in m] for m in masks],
            rtol=1e-5,
        )
        assert served["ids"][index][len(masks) :] == [[-1] * 5] * (2 - len(masks))
    for index in refused:
        assert served["ids"][index] == [[-1] * 5] * 2
        if refused[index] != 3:  # fill_mask has no limit on masks.
            with pytest.raises(ValueError, match="sequence_length|No \\[MASK\\]"):
                shipped_masked_lm.fill_mask(texts[index])


@tensorflow_only
def test_refuses_a_folder_that_is_not_an_export(masked_lm, tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("mine")
    before = tree_contents(tmp_path)
    with pytest.raises(FileExistsError, match="not a SavedModel written by"):
        masked_lm.export_for_serving(tmp_path / "work")
    assert tree_contents(tmp_path) == before


@tensorflow_only
def test_failed_export_leaves_the_earlier_one(masked_lm, tmp_path, monkeypatch):
    # An earlier export, as far as replacing it goes: the marker file and
    # SavedModel files only.
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "serving.json").write_text('{"top_k": 2}')
    (tmp_path / "served" / "saved_model.pb").write_bytes(b"earlier")
    before = tree_contents(tmp_path)

    def write_then_fail(archive, filepath, **kwargs):
        open(os.path.join(filepath, "saved_model.pb"), "wb").close()
        raise OSError(28, "No space left on device")

    # A full disk midway through writing the replacement.
    monkeypatch.setattr(
        type(keras.export.ExportArchive()), "write_out", write_then_fail
    )
    with pytest.raises(OSError, match="No space left"):
        masked_lm.export_for_serving(tmp_path / "served", top_k=3, max_masks=1)
    assert tree_contents(tmp_path) == before


@not_on_jax
def test_refuses_a_model_without_preprocessor(backbone, tmp_path):
    with pytest.raises(ValueError, match="preprocessor"):
        AlbertMaskedLM(backbone).export_for_serving(tmp_path / "served")
    assert not (tmp_path / "served").exists()


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="preset path")
def test_refuses_a_quantized_model_off_tensorflow(masked_lm, tmp_path):
    quantize_quickly(masked_lm)
    with pytest.raises(ValueError, match="on the tensorflow backend only"):
        masked_lm.export_for_serving(tmp_path / "served")
    assert not (tmp_path / "served").exists()
