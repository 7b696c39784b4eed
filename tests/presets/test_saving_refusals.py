"""What `save_to_preset` refuses (`presets/saving.py`), each time with nothing
changed: a folder holding someone else's `config.json`, a transformers
checkpoint, a backbone of another size over a masked-LM preset (one of the
same size is saved), a quantized model, a preset holding a symbolic-link
loop (the save finishes: refused, never recursing) or a link out of it, a
non-empty folder that holds no preset, and a read-only target."""

import json
import os
import threading

import numpy as np
import pytest
from helpers import (
    TINY_BACKBONE,
    copy_keras_hub_preset,
    copy_transformers_checkpoint,
    file_contents,
    quantize_quickly,
    replace_with_link,
    tree_contents,
    weight_values,
)

from albert_mlm import AlbertBackbone, AlbertMaskedLM

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


def _siblings(directory):
    """Everything beside `directory` in its parent (staging folders included)."""
    return sorted(p.name for p in directory.parent.iterdir() if p != directory)


def test_folder_with_a_foreign_config_is_refused(masked_lm, tmp_path):
    target = tmp_path / "project"
    target.mkdir()
    (target / "config.json").write_text(json.dumps({"learning_rate": 0.1}))
    (target / "notes.txt").write_text("my notes")
    before, siblings = file_contents(target), _siblings(target)
    with pytest.raises(ValueError) as info:
        masked_lm.save_to_preset(target)
    message = str(info.value)
    assert "config.json" in message and "refusing" in message
    assert str(target) in message
    assert file_contents(target) == before
    assert _siblings(target) == siblings


def test_transformers_checkpoint_is_refused(masked_lm, tmp_path):
    checkpoint = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    before, siblings = file_contents(checkpoint), _siblings(checkpoint)
    for save in (masked_lm.save_to_preset, masked_lm.backbone.save_to_preset):
        with pytest.raises(ValueError, match="transformers checkpoint"):
            save(checkpoint)
    assert file_contents(checkpoint) == before
    assert _siblings(checkpoint) == siblings


def test_backbone_of_another_size_is_refused_over_a_masked_lm_preset(tmp_path):
    preset = copy_keras_hub_preset(tmp_path)
    before = file_contents(preset)
    bigger = AlbertBackbone(**{**TINY_BACKBONE, "hidden_dim": 32})
    with pytest.raises(ValueError, match=r"task\.json") as info:
        bigger.save_to_preset(preset)
    assert "hidden_dim" in str(info.value)
    assert file_contents(preset) == before


def test_backbone_of_the_same_size_is_saved_into_a_masked_lm_preset(tmp_path):
    preset = copy_keras_hub_preset(tmp_path)
    same_size = AlbertBackbone(**TINY_BACKBONE)
    same_size.save_to_preset(preset)
    # The backbone's weights are replaced; the task around it still loads.
    loaded = AlbertMaskedLM.from_preset(preset)
    for ours, theirs in zip(weight_values(loaded.backbone), weight_values(same_size)):
        np.testing.assert_array_equal(ours, theirs)
    assert (preset / "task.json").is_file()


def test_quantized_model_is_refused(masked_lm, tmp_path):
    with pytest.warns(UserWarning):
        quantize_quickly(masked_lm, "int8")
    for model in (masked_lm, masked_lm.backbone):
        expected = f"Cannot save a quantized {type(model).__name__} as a preset"
        with pytest.raises(ValueError, match=expected) as info:
            model.save_to_preset(tmp_path / "new")
        assert ".keras" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf_home", "kagglehub_cache"]


def test_quantized_model_is_refused_over_an_existing_preset(masked_lm, tmp_path):
    preset = copy_keras_hub_preset(tmp_path)
    before = file_contents(preset)
    with pytest.warns(UserWarning):
        quantize_quickly(masked_lm, "int8")
    with pytest.raises(
        ValueError, match="Cannot save a quantized AlbertMaskedLM as a preset"
    ):
        masked_lm.save_to_preset(preset)
    assert file_contents(preset) == before


def _save_with_timeout(model, target, seconds=120):
    """Save in a thread; returns the exception raised, or None."""
    outcome = {}

    def save():
        try:
            model.save_to_preset(target)
        except Exception as error:  # Reported to the test below.
            outcome["error"] = error

    thread = threading.Thread(target=save, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "saving over a link loop did not finish"
    return outcome.get("error")


@pytest.mark.parametrize(
    "link", [os.path.join("assets", "loop"), os.path.join("assets", "tokenizer", "up")]
)
def test_symbolic_link_loop_is_never_followed(masked_lm, tmp_path, link):
    preset = copy_keras_hub_preset(tmp_path)
    os.symlink("..", preset / link)
    before = {
        name: data
        for name, data in file_contents(preset).items()
        if not name.startswith(link + os.sep)
    }
    error = _save_with_timeout(masked_lm, preset)
    assert os.path.islink(preset / link)
    assert os.readlink(preset / link) == ".."
    if error is not None:  # Refused cleanly, naming the link.
        assert isinstance(error, ValueError), repr(error)
        assert "loop" in str(error) or "up" in str(error)
        after = {
            name: data
            for name, data in file_contents(preset).items()
            if not name.startswith(link + os.sep)
        }
        assert after == before
    assert _siblings(preset) == ["hf_home", "kagglehub_cache"]


def test_saving_over_a_preset_never_follows_its_links(tmp_path, outside, masked_lm):
    before = file_contents(outside)
    target = copy_keras_hub_preset(tmp_path)
    replace_with_link(target / "model.weights.h5", outside / "model.weights.h5")
    replace_with_link(target / "notes.txt", outside / "config.json")
    preset_before = file_contents(target)
    with pytest.raises(ValueError, match="symbolic link .* outside"):
        masked_lm.save_to_preset(str(target))
    assert file_contents(outside) == before
    assert file_contents(target) == preset_before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _non_preset_directory(tmp_path):
    target = tmp_path / "downloads"
    (target / "assets").mkdir(parents=True)
    (target / "assets" / "photo.jpg").write_bytes(b"\xff\xd8 a photo")
    return target


def _read_only_preset(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    directory.chmod(0o555)
    return directory


def _in_read_only_folder(tmp_path):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    shelf.chmod(0o555)
    return shelf / "new_preset"


SAVE_TARGETS = [
    pytest.param(
        _non_preset_directory,
        ValueError,
        r"downloads' is not empty and holds no preset; refusing",
        id="save-into-non-preset-directory",
    ),
    pytest.param(
        _read_only_preset,
        PermissionError,
        r"Cannot save a preset in .*preset': the directory is read-only",
        id="save-over-read-only-preset",
    ),
    pytest.param(
        _in_read_only_folder,
        PermissionError,
        r"Cannot save a preset in .*shelf': the directory is read-only",
        id="save-into-read-only-folder",
    ),
]


@pytest.mark.parametrize("make_target, error, message", SAVE_TARGETS)
def test_refused_target_is_left_as_it_was(
    masked_lm, tmp_path, make_target, error, message
):
    target = make_target(tmp_path)
    weights_before = weight_values(masked_lm)
    files_before = tree_contents(tmp_path)
    try:
        with pytest.raises(error, match=message):
            masked_lm.save_to_preset(str(target))
    finally:
        for root, folders, _ in os.walk(tmp_path):  # Undo the read-only folders.
            for name in folders:
                os.chmod(os.path.join(root, name), 0o755)
    assert tree_contents(tmp_path) == files_before
    for before, after in zip(weights_before, weight_values(masked_lm)):
        np.testing.assert_array_equal(after, before)
