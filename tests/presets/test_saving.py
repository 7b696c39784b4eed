"""`save_to_preset` (`albert_mlm.presets.saving`): KerasHub's layout, round trips,
saving into existing directories, atomic writes.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import json
import os

import h5py
import numpy as np
import pytest
from helpers import (
    KERAS_HUB_DIR,
    VOCABULARY_PATH,
    assert_keras_hub_logits,
    copy_keras_hub_preset,
    file_contents,
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
from albert_mlm.presets import saving

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


PRESET_FILES = {
    "config.json",
    "metadata.json",
    "model.weights.h5",
    "task.json",
    "task.weights.h5",
    "preprocessor.json",
    "tokenizer.json",
    os.path.join("assets", "tokenizer", "vocabulary.spm"),
}


def _dataset_names(path):
    names = []
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                names.append(name) if isinstance(item, h5py.Dataset) else None
            )
        )
    return sorted(name for name in names if not name.startswith("optimizer/"))


def _assert_layout_matches_original(
    saved, original, expected_files, compare_values=True
):
    saved_files = set(file_contents(saved))
    assert saved_files == expected_files
    assert expected_files <= set(file_contents(original))
    for name in expected_files:
        if name.endswith(".json") and name != "metadata.json":
            ours = json.loads((saved / name).read_text())
            theirs = json.loads((original / name).read_text())
            assert ours["class_name"] == theirs["class_name"], name
            assert ours["registered_name"] == theirs["registered_name"], name
            assert ours["registered_name"].startswith("keras_hub>"), name
            # Keys may differ slightly (we write `trainable` in task.json and
            # no float `dtype` in preprocessor.json); shared values must agree.
            if compare_values:
                for key in set(ours["config"]) & set(theirs["config"]):
                    if key != "name" and not isinstance(theirs["config"][key], dict):
                        assert ours["config"][key] == theirs["config"][key], (name, key)
            for key in ("backbone", "preprocessor", "tokenizer"):
                if isinstance(theirs["config"].get(key), dict):
                    assert (
                        ours["config"][key]["registered_name"]
                        == (theirs["config"][key]["registered_name"])
                    ), (name, key)
        elif name.endswith(".h5"):
            assert _dataset_names(saved / name) == _dataset_names(original / name), name
        elif name.endswith(".spm"):
            assert (saved / name).read_bytes() == (original / name).read_bytes()
    if "metadata.json" in expected_files:
        metadata = json.loads((saved / "metadata.json").read_text())
        original_metadata = json.loads((original / "metadata.json").read_text())
        assert metadata["parameter_count"] == original_metadata["parameter_count"]


@pytest.mark.parametrize("preset", ["groups2_inner2", "groups1_inner1"])
def test_save_masked_lm_round_trip(tmp_path, preset):
    original = KERAS_HUB_DIR / preset
    masked_lm = AlbertMaskedLM.from_preset(str(original))
    logits = assert_keras_hub_logits(masked_lm, preset)
    saved = tmp_path / "saved"
    masked_lm.save_to_preset(str(saved))
    _assert_layout_matches_original(saved, original, PRESET_FILES)
    # Same backbone config as KerasHub wrote (defaults are not spelled out).
    ours, theirs = (
        json.loads((d / "config.json").read_text())["config"] for d in (saved, original)
    )
    ours.pop("name"), theirs.pop("name")  # Keras' unique names depend on history.
    assert ours == theirs
    # The files KerasHub wrote and ours hold the same arrays.
    for name in ("model.weights.h5", "task.weights.h5"):
        with h5py.File(saved / name) as ours, h5py.File(original / name) as theirs:
            for key in _dataset_names(original / name):
                np.testing.assert_array_equal(ours[key][()], theirs[key][()])

    reloaded = AlbertMaskedLM.from_preset(str(saved))
    goldens = keras_hub_goldens(preset)
    np.testing.assert_array_equal(to_numpy(reloaded(keras_hub_inputs(goldens))), logits)
    assert reloaded.preprocessor.sequence_length == 16
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_save_backbone_tokenizer_preprocessor_round_trip(tmp_path):
    original = KERAS_HUB_DIR / "groups3_inner2"
    goldens = keras_hub_goldens("groups3_inner2")

    backbone = AlbertBackbone.from_preset(str(original))
    backbone.save_to_preset(str(tmp_path / "backbone"))
    _assert_layout_matches_original(
        tmp_path / "backbone",
        original,
        {"config.json", "metadata.json", "model.weights.h5"},
    )
    reloaded = AlbertBackbone.from_preset(str(tmp_path / "backbone"))
    inputs = keras_hub_inputs(goldens, with_mask_positions=False)
    expected = backbone(inputs)
    actual = reloaded(inputs)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(to_numpy(actual[key]), to_numpy(expected[key]))

    tokenizer = AlbertTokenizer.from_preset(str(original))
    tokenizer.save_to_preset(str(tmp_path / "tokenizer"))
    _assert_layout_matches_original(
        tmp_path / "tokenizer",
        original,
        {"tokenizer.json", os.path.join("assets", "tokenizer", "vocabulary.spm")},
    )
    text = ["the quick brown fox"]
    np.testing.assert_array_equal(
        to_numpy(AlbertTokenizer.from_preset(str(tmp_path / "tokenizer"))(text)),
        to_numpy(tokenizer(text)),
    )

    preprocessor = AlbertMaskedLMPreprocessor.from_preset(
        str(original), sequence_length=12
    )
    preprocessor.save_to_preset(str(tmp_path / "preprocessor"))
    _assert_layout_matches_original(
        tmp_path / "preprocessor",
        original,
        {
            "preprocessor.json",
            "tokenizer.json",
            os.path.join("assets", "tokenizer", "vocabulary.spm"),
        },
        compare_values=False,  # sequence_length was overridden.
    )
    again = AlbertMaskedLMPreprocessor.from_preset(str(tmp_path / "preprocessor"))
    assert again.sequence_length == 12
    assert again.mask_selection_length == 4


def test_save_tokenizer_into_backbone_preset_keeps_it(tmp_path):
    original = KERAS_HUB_DIR / "groups2_inner2"
    target = tmp_path / "preset"
    backbone = AlbertBackbone.from_preset(str(original))
    backbone.save_to_preset(str(target))
    before = file_contents(target)

    AlbertTokenizer.from_preset(str(original)).save_to_preset(str(target))
    after = file_contents(target)
    for name, content in before.items():
        assert after[name] == content, name
    assert set(after) == set(before) | {
        "tokenizer.json",
        os.path.join("assets", "tokenizer", "vocabulary.spm"),
    }
    reloaded = AlbertBackbone.from_preset(str(target))
    np.testing.assert_array_equal(
        to_numpy(reloaded.token_embedding.embeddings),
        to_numpy(backbone.token_embedding.embeddings),
    )
    assert AlbertTokenizer.from_preset(str(target)).vocabulary_size() == 400


def test_save_refuses_non_empty_non_preset_directory(tmp_path):
    target = tmp_path / "my_documents"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    (target / "sub").mkdir()
    (target / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = file_contents(target)
    tokenizer = AlbertTokenizer(str(VOCABULARY_PATH))
    with pytest.raises(ValueError, match="not empty"):
        tokenizer.save_to_preset(str(target))
    assert file_contents(target) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    # An empty directory is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    tokenizer.save_to_preset(str(empty))
    assert (empty / "tokenizer.json").is_file()


def _failing_weights_writer(calls):
    from albert_mlm.presets.keras_hub_weights import write_keras_hub_weights

    def write(entries, path):
        calls.append(path)
        if len(calls) == 2:  # The head's weights, after the backbone's.
            with open(path, "wb") as file:
                file.write(b"half a file")
            raise RuntimeError("disk full")
        write_keras_hub_weights(entries, path)

    return write


def test_save_is_atomic_over_an_existing_preset(tmp_path, monkeypatch):
    target = copy_keras_hub_preset(tmp_path, "groups2_inner2", "preset")
    before = file_contents(target)
    other = AlbertMaskedLM.from_preset(str(KERAS_HUB_DIR / "groups3_inner2"))

    calls = []
    monkeypatch.setattr(
        saving, "write_keras_hub_weights", _failing_weights_writer(calls)
    )
    with pytest.raises(RuntimeError, match="disk full"):
        other.save_to_preset(str(target))
    assert len(calls) == 2  # It did fail midway, after writing a weights file.
    assert file_contents(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hf_home",
        "kagglehub_cache",
        "preset",
    ]
    assert_keras_hub_logits(AlbertMaskedLM.from_preset(str(target)), "groups2_inner2")


def test_save_is_atomic_into_a_new_directory(tmp_path, monkeypatch):
    masked_lm = AlbertMaskedLM.from_preset(str(KERAS_HUB_DIR / "groups1_inner1"))
    parent = tmp_path / "parent"
    parent.mkdir()

    def fail(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(saving, "_write_task", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        saving.save_task(masked_lm, str(parent / "new_preset"))
    assert list(parent.iterdir()) == []
