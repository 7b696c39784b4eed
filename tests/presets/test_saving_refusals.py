"""What `save_to_preset` refuses (`presets/saving.py`), each time with nothing
changed: a folder holding someone else's `config.json`, a transformers
checkpoint, a backbone of another size over a masked-LM preset (one of the
same size is saved), a quantized model, and a preset holding a symbolic-link
loop (the save finishes: refused, never recursing)."""

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
        with pytest.raises(ValueError, match="quantized") as info:
            model.save_to_preset(tmp_path / "new")
        assert ".keras" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf_home", "kagglehub_cache"]


def test_quantized_model_is_refused_over_an_existing_preset(masked_lm, tmp_path):
    preset = copy_keras_hub_preset(tmp_path)
    before = file_contents(preset)
    with pytest.warns(UserWarning):
        quantize_quickly(masked_lm, "int8")
    with pytest.raises(ValueError, match="quantized"):
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
