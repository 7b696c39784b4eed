"""Corrupted presets and bad save targets: one table row per way to break one.

Each row builds a broken preset (from a tiny model saved with
`save_to_preset`, a KerasHub fixture preset or a transformers checkpoint),
runs one entry point, and expects one exception type and a message naming
the file or variable at fault and what was expected. After every row nothing
may be left behind: the files under `tmp_path` (the broken preset, the offline
hub caches, any save target) are exactly as before, no temporary directory
appeared, and a model already in memory still holds the same weights.
"""

import contextlib
import os
import struct

import h5py
import numpy as np
import pytest
from helpers import (
    TINY_BACKBONE,
    copy_keras_hub_preset,
    copy_transformers_checkpoint,
    edit_json,
    weight_values,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)

pytestmark = pytest.mark.usefixtures("_offline_hubs")


# === Ways to break a preset ===


class Sources:
    """Valid presets to break, made on demand inside `tmp_path`."""

    def __init__(self, tmp_path, masked_lm):
        self.tmp_path = tmp_path
        self.masked_lm = masked_lm

    def saved(self, masked_lm=None):
        """A preset written by `save_to_preset` from a tiny model."""
        directory = self.tmp_path / "saved"
        (masked_lm or self.masked_lm).save_to_preset(str(directory))
        return directory

    def keras_hub(self, preset="groups2_inner2"):
        return copy_keras_hub_preset(self.tmp_path, preset)

    def transformers(self, case="masked_lm_groups2_inner2"):
        return copy_transformers_checkpoint(self.tmp_path, case)


def _poison_h5(path, layer, value):
    """Write `value` into the first element of `layer`'s first variable."""
    with h5py.File(path, "a") as file:
        names = []
        file.visititems(
            lambda name, item: (
                names.append(name)
                if isinstance(item, h5py.Dataset) and layer in name
                else None
            )
        )
        array = file[names[0]][()]
        array.flat[0] = value
        file[names[0]][...] = array


def _poison_safetensors(path, key, value):
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(path))
    tensors[key].flat[0] = value
    save_file(tensors, str(path))


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _break_safetensors_header(path):
    """Keep the 8-byte header length; make the JSON header unparsable."""
    data = bytearray(path.read_bytes())
    (header_length,) = struct.unpack("<Q", data[:8])
    data[8 : 8 + header_length] = b"X" * header_length
    path.write_bytes(bytes(data))


def _nan_in_saved_weights(sources):
    directory = sources.saved()
    _poison_h5(directory / "model.weights.h5", "intermediate", np.nan)
    return directory


def _inf_in_keras_hub_head(sources):
    directory = sources.keras_hub()
    _poison_h5(directory / "task.weights.h5", "masked_lm_head", np.inf)
    return directory


def _non_finite_in_checkpoint(case, key, value):
    def corrupt(sources):
        directory = sources.transformers(case)
        _poison_safetensors(directory / "model.safetensors", key, value)
        return directory

    return corrupt


def _damaged(source, file_name, damage):
    def corrupt(sources):
        directory = getattr(sources, source)()
        damage(directory / file_name)
        return directory

    return corrupt


def _edited(source, edit, file_name="config.json"):
    def corrupt(sources):
        directory = getattr(sources, source)()
        edit_json(directory / file_name, edit)
        return directory

    return corrupt


def _backbone_config(**changes):
    return _edited("keras_hub", lambda c: c["config"].update(changes))


def _foreign_backbone_in_task(content):
    content["config"]["backbone"].update(
        class_name="BertBackbone",
        registered_name="keras_hub>BertBackbone",
        module="keras_hub.src.models.bert.bert_backbone",
    )


def _not_sentencepiece(path):
    path.write_text("<pad>\n<unk>\n[CLS]\n[SEP]\n[MASK]\n")


def _vocabulary_larger_than_embedding(sources):
    small = AlbertMaskedLM(
        AlbertBackbone(**{**TINY_BACKBONE, "vocabulary_size": 300}),
        sources.masked_lm.preprocessor,
    )
    return sources.saved(small)


def _non_preset_directory(sources):
    target = sources.tmp_path / "downloads"
    (target / "assets").mkdir(parents=True)
    (target / "assets" / "photo.jpg").write_bytes(b"\xff\xd8 a photo")
    return target


def _read_only_preset(sources):
    directory = sources.keras_hub()
    directory.chmod(0o555)
    return directory


def _in_read_only_folder(sources):
    shelf = sources.tmp_path / "shelf"
    shelf.mkdir()
    shelf.chmod(0o555)
    return shelf / "new_preset"


def _handle(handle):
    return lambda sources: handle


def _load(cls):
    return lambda argument: lambda masked_lm: cls.from_preset(str(argument))


def _save(target):
    """The save rows' entry point: the tiny model saved to `target`."""
    return lambda masked_lm: masked_lm.save_to_preset(str(target))


def _row(id, corrupt, entry_point, error, message):
    return pytest.param(corrupt, entry_point, error, message, id=id)


VOCABULARY_FILE = os.path.join("assets", "tokenizer", "vocabulary.spm")
ROWS = [
    # --- Weights: non-finite values, unreadable files ---
    _row(
        "nan-in-weights-h5",
        _nan_in_saved_weights,
        _load(AlbertBackbone),
        ValueError,
        r"Non-finite values .* variable '[^']*intermediate_dense/kernel'.*"
        r"model\.weights\.h5",
    ),
    _row(
        "inf-in-task-weights-h5",
        _inf_in_keras_hub_head,
        _load(AlbertMaskedLM),
        ValueError,
        r"Non-finite values .* variable 'mlm_head/[^']*'.*task\.weights\.h5",
    ),
    _row(
        "nan-in-safetensors",
        _non_finite_in_checkpoint(
            "masked_lm_groups2_inner2",
            "albert.embeddings.word_embeddings.weight",
            np.nan,
        ),
        _load(AlbertMaskedLM),
        ValueError,
        r"Non-finite values .* variable 'token_embedding/embeddings'.*"
        r"word_embeddings\.weight",
    ),
    _row(
        "infinity-in-safetensors",
        _non_finite_in_checkpoint("model_relu_groups3", "pooler.weight", -np.inf),
        _load(AlbertBackbone),
        ValueError,
        r"Non-finite values .* variable 'pooled_dense/kernel'.*pooler\.weight",
    ),
    _row(
        "truncated-weights-h5",
        _damaged("saved", "model.weights.h5", _truncate),
        _load(AlbertMaskedLM),
        ValueError,
        r"model\.weights\.h5' is not a readable \.weights\.h5 \(HDF5\) file.*"
        r"truncated",
    ),
    _row(
        "random-bytes-weights-h5",
        _damaged("keras_hub", "model.weights.h5", _random_bytes),
        _load(AlbertBackbone),
        ValueError,
        r"model\.weights\.h5' is not a readable \.weights\.h5 \(HDF5\) file.*"
        r"signature",
    ),
    _row(
        "truncated-safetensors",
        _damaged("transformers", "model.safetensors", _truncate),
        _load(AlbertMaskedLM),
        ValueError,
        r"model\.safetensors' is not a readable safetensors file",
    ),
    _row(
        "bad-header-safetensors",
        _damaged("transformers", "model.safetensors", _break_safetensors_header),
        _load(AlbertBackbone),
        ValueError,
        r"model\.safetensors' is not a readable safetensors file.*[Hh]eader",
    ),
    # --- config.json and the other JSON files ---
    _row(
        "config-missing-key",
        _edited("keras_hub", lambda c: c["config"].pop("num_heads")),
        _load(AlbertBackbone),
        ValueError,
        r"config\.json of preset .* lacks the AlbertBackbone arguments "
        r"\['num_heads'\]",
    ),
    _row(
        "transformers-config-missing-key",
        _edited("transformers", lambda c: c.pop("vocab_size")),
        _load(AlbertMaskedLM),
        ValueError,
        r"config\.json of preset .* lacks the AlbertConfig keys \['vocab_size'\]",
    ),
    _row(
        "preprocessor-json-unknown-key",
        _edited(
            "saved",
            lambda c: c["config"].update(mask_everything=True),
            "preprocessor.json",
        ),
        _load(AlbertMaskedLMPreprocessor),
        ValueError,
        r"preprocessor\.json of preset .* unknown AlbertMaskedLMPreprocessor "
        r"arguments \['mask_everything'\]",
    ),
    _row(
        "config-string-for-int",
        _backbone_config(num_layers="twelve"),
        _load(AlbertBackbone),
        ValueError,
        r"config\.json of preset .* `num_layers` must be a positive integer\. "
        r"Received: num_layers='twelve'",
    ),
    _row(
        "config-float-for-int",
        _backbone_config(hidden_dim=16.0),
        _load(AlbertMaskedLM),
        ValueError,
        r"config\.json of preset .* `hidden_dim` must be a positive integer\. "
        r"Received: hidden_dim=16\.0",
    ),
    _row(
        "config-negative",
        _backbone_config(num_heads=-2),
        _load(AlbertBackbone),
        ValueError,
        r"config\.json of preset .* `num_heads` must be a positive integer\. "
        r"Received: num_heads=-2",
    ),
    _row(
        "config-string-for-rate",
        _backbone_config(dropout="0.1"),
        _load(AlbertBackbone),
        ValueError,
        r"config\.json of preset .* `dropout` must be a number in \[0, 1\)\. "
        r"Received: dropout='0\.1'",
    ),
    _row(
        "foreign-class-nested-in-task-json",
        _edited("keras_hub", _foreign_backbone_in_task, "task.json"),
        _load(AlbertMaskedLM),
        ValueError,
        r"task\.json of preset .* \('backbone'\) holds a 'BertBackbone' "
        r"\(registered as 'keras_hub>BertBackbone'.*expected AlbertBackbone",
    ),
    _row(
        "arbitrary-module-path",
        _edited("saved", lambda c: c.update(module="os.path")),
        _load(AlbertBackbone),
        ValueError,
        r"config\.json of preset .* module 'os\.path'\); expected AlbertBackbone "
        r".*Nothing was imported",
    ),
    # --- Vocabulary ---
    _row(
        "vocabulary-not-sentencepiece",
        _damaged("saved", VOCABULARY_FILE, _not_sentencepiece),
        _load(AlbertTokenizer),
        ValueError,
        r"assets/tokenizer/vocabulary\.spm of preset .* is not a usable ALBERT "
        r"vocabulary: `proto` is not a valid SentencePiece model",
    ),
    _row(
        "vocabulary-larger-than-embedding",
        _vocabulary_larger_than_embedding,
        _load(AlbertMaskedLM),
        ValueError,
        r"vocabulary has 400 pieces but config\.json's vocabulary_size .* only 300",
    ),
    # --- Handles that try to leave a hub's cache ---
    *[
        _row(
            f"handle-{handle.replace('/', '_')}",
            _handle(handle),
            _load(AlbertMaskedLM),
            ValueError,
            rf"Invalid preset handle '{handle}'.* parts of letters, digits",
        )
        for handle in ("kaggle://../../etc", "hf://../x", "hf://org/../../x")
    ],
    # --- Save targets ---
    _row(
        "save-into-non-preset-directory",
        _non_preset_directory,
        _save,
        ValueError,
        r"downloads' is not empty and holds no preset; refusing",
    ),
    _row(
        "save-over-read-only-preset",
        _read_only_preset,
        _save,
        PermissionError,
        r"Cannot save a preset in .*preset': the directory is read-only",
    ),
    _row(
        "save-into-read-only-folder",
        _in_read_only_folder,
        _save,
        PermissionError,
        r"Cannot save a preset in .*shelf': the directory is read-only",
    ),
]


def _tree(directory):
    """Every path under `directory`, folders included -> its bytes (or None)."""
    found = {}
    for root, folders, files in os.walk(directory):
        for name in folders:
            found[os.path.relpath(os.path.join(root, name), directory)] = None
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as file:
                found[os.path.relpath(path, directory)] = file.read()
    return found


@pytest.mark.parametrize("corrupt, entry_point, error, message", ROWS)
def test_bad_preset_is_refused_and_leaves_nothing_behind(
    tmp_path, masked_lm, corrupt, entry_point, error, message
):
    run = entry_point(corrupt(Sources(tmp_path, masked_lm)))
    weights_before = weight_values(masked_lm)
    files_before = _tree(tmp_path)
    try:
        with pytest.raises(error, match=message):
            run(masked_lm)
    finally:
        for root, folders, _ in os.walk(tmp_path):  # Undo read-only rows.
            for name in folders:
                os.chmod(os.path.join(root, name), 0o755)
    assert _tree(tmp_path) == files_before
    for before, after in zip(weights_before, weight_values(masked_lm)):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("source", ["saved", "keras_hub", "transformers"])
def test_unbroken_sources_load(tmp_path, masked_lm, source):
    """The table's premise: each source loads before it is broken."""
    directory = getattr(Sources(tmp_path, masked_lm), source)()
    # That transformers checkpoint has no pooler, and says so.
    expected = pytest.warns(UserWarning, match="pooler")
    with expected if source == "transformers" else contextlib.nullcontext():
        loaded = AlbertMaskedLM.from_preset(str(directory))
    assert loaded.backbone.vocabulary_size == 400
    if source == "saved":
        for ours, theirs in zip(weight_values(loaded), weight_values(masked_lm)):
            np.testing.assert_array_equal(ours, theirs)
