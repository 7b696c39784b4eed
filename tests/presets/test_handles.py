"""Preset handles to local directories (`albert_mlm.presets.handles`): local paths,
kaggle:// and hf:// through the real `kagglehub` and `huggingface_hub` clients
and their caches, and invalid handles.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import os
import shutil

import pytest
from helpers import (
    KERAS_HUB_DIR,
    TRANSFORMERS_TOLERANCE,
    assert_keras_hub_logits,
    copy_transformers_checkpoint,
    file_contents,
    hf_cache_entry,
    max_error,
    transformers_goldens,
    transformers_inputs,
)

from albert_mlm import AlbertBackbone, AlbertMaskedLM, AlbertTokenizer
from albert_mlm.presets.handles import resolve_preset
from albert_mlm.presets.registry import BUILT_IN_PRESETS

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


# === Local directories ===


def test_missing_local_directory_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        AlbertBackbone.from_preset(str(tmp_path / "no" / "such_preset"))


# === kaggle:// through kagglehub's cache ===


def _kaggle_cache_entry(cache, handle):
    """kagglehub's cache layout (kagglehub/cache.py, `_get_model_path` and
    `_get_models_completion_marker_filepath`) for a versioned model handle."""
    owner, model, framework, variation, version = handle.split("/")
    base = cache / "models" / owner / model / framework / variation
    base.mkdir(parents=True, exist_ok=True)
    (base / f"{version}.complete").write_text("")
    return base / version


def test_kaggle_handle_loads_from_cache(_offline_hubs):
    files = _kaggle_cache_entry(_offline_hubs["kaggle"], "owner/model/keras/tiny/1")
    shutil.copytree(KERAS_HUB_DIR / "groups3_inner2", files)
    masked_lm = AlbertMaskedLM.from_preset("kaggle://owner/model/keras/tiny/1")
    assert_keras_hub_logits(masked_lm, "groups3_inner2")
    tokenizer = AlbertTokenizer.from_preset("kaggle://owner/model/keras/tiny/1")
    assert tokenizer.vocabulary_size() == 400


def test_kaggle_cache_without_completion_marker_is_not_used(_offline_hubs):
    files = _kaggle_cache_entry(_offline_hubs["kaggle"], "owner/model/keras/tiny/2")
    shutil.copytree(KERAS_HUB_DIR / "groups3_inner2", files)
    (files.parent / "2.complete").unlink()
    with pytest.raises(OSError, match="local directory"):
        AlbertMaskedLM.from_preset("kaggle://owner/model/keras/tiny/2")


def test_kaggle_missing_cache_entry_fails_with_advice(_offline_hubs):
    with pytest.raises(OSError) as info:
        AlbertBackbone.from_preset("kaggle://owner/model/keras/absent/3")
    message = str(info.value)
    assert "Could not download" in message
    assert "local directory" in message
    assert "kaggle://owner/model/keras/absent/3" in message
    assert list(_offline_hubs["kaggle"].rglob("*")) == []


def test_built_in_name_resolves_through_kaggle_cache(_offline_hubs):
    handle = BUILT_IN_PRESETS["albert_base_en_uncased"]["kaggle_handle"]
    assert handle == "kaggle://keras/albert/keras/albert_base_en_uncased/5"
    files = _kaggle_cache_entry(_offline_hubs["kaggle"], handle[len("kaggle://") :])
    files.mkdir()
    (files / "config.json").write_text("{}")
    assert os.path.samefile(resolve_preset("albert_base_en_uncased"), files)


# === hf:// through huggingface_hub's cache ===


def test_hf_handle_loads_from_cache(tmp_path, _offline_hubs):
    snapshot = hf_cache_entry(_offline_hubs["hf"], "owner/tiny-albert")
    checkpoint = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    for path in checkpoint.iterdir():
        shutil.copy(path, snapshot / path.name)
    with pytest.warns(UserWarning, match="pooler"):
        masked_lm = AlbertMaskedLM.from_preset("hf://owner/tiny-albert")
    goldens = transformers_goldens("masked_lm_groups2_inner2")
    logits = masked_lm(
        {**transformers_inputs(goldens), "mask_positions": goldens["mask_positions"]}
    )
    assert max_error(logits, goldens["mask_logits"]) <= TRANSFORMERS_TOLERANCE
    assert masked_lm.preprocessor.tokenizer.vocabulary_size() == 400


def test_hf_handle_loads_keras_hub_preset_from_cache(_offline_hubs):
    snapshot = hf_cache_entry(_offline_hubs["hf"], "owner/keras-preset")
    shutil.copytree(KERAS_HUB_DIR / "groups1_inner1", snapshot, dirs_exist_ok=True)
    masked_lm = AlbertMaskedLM.from_preset("hf://owner/keras-preset")
    assert_keras_hub_logits(masked_lm, "groups1_inner1")


def test_hf_missing_repository_fails_and_leaves_cache_alone(_offline_hubs):
    cache = _offline_hubs["hf"]
    hf_cache_entry(cache, "owner/other")
    before = sorted(str(p) for p in cache.rglob("*"))
    with pytest.raises(OSError) as info:
        AlbertMaskedLM.from_preset("hf://owner/absent")
    assert "local directory" in str(info.value)
    assert "hf://owner/absent" in str(info.value)
    assert sorted(str(p) for p in cache.rglob("*")) == before


def test_hf_failed_load_writes_nothing_into_cache(tmp_path, _offline_hubs):
    cache = _offline_hubs["hf"]
    snapshot = hf_cache_entry(cache, "owner/broken")
    checkpoint = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    for path in checkpoint.iterdir():
        if path.name != "model.safetensors":
            shutil.copy(path, snapshot / path.name)
    before = file_contents(cache)
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        AlbertMaskedLM.from_preset("hf://owner/broken")
    assert file_contents(cache) == before


# === Handle validation ===


@pytest.mark.parametrize(
    "handle",
    [
        "kaggle://owner/../x/y/1",
        "kaggle://a/b/c",
        "kaggle://a/b/c/d/e/f",
        "kaggle://a/b/c/d/latest",
        "kaggle:///b/c/d/1",
        "hf://../../etc",
        "hf://owner/name/extra",
        "hf://owner",
        "hf://owner/..",
        "hf://owner/na me",
    ],
)
def test_invalid_handles_are_refused(handle, _offline_hubs):
    with pytest.raises(ValueError, match="Invalid preset handle"):
        AlbertMaskedLM.from_preset(handle)
    assert list(_offline_hubs["kaggle"].iterdir()) == []
    assert list(_offline_hubs["hf"].iterdir()) == []


def test_preset_argument_type_is_checked():
    with pytest.raises(
        TypeError, match="`preset` must be a preset name.* Received: int$"
    ):
        AlbertBackbone.from_preset(42)
