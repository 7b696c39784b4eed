"""What `presets` lists (`presets/registry.py`) and what loading a built-in
preset offline says (`presets/handles.py`): the shipped
`albert_tiny_en_uncased` is listed with its path and size beside the four
published models, and a built-in name without network access fails with an
`OSError` naming its kaggle:// handle and the shipped preset that works."""

import os

import pytest

from albert_mlm import AlbertBackbone, AlbertMaskedLM
from albert_mlm.presets.registry import BUILT_IN_PRESETS

SHIPPED = "albert_tiny_en_uncased"
BUILT_IN_NAMES = (
    "albert_base_en_uncased",
    "albert_large_en_uncased",
    "albert_extra_large_en_uncased",
    "albert_extra_extra_large_en_uncased",
)


@pytest.mark.parametrize("cls", [AlbertMaskedLM, AlbertBackbone])
def test_presets_list_the_shipped_and_the_built_in_presets(cls):
    presets = cls.presets
    assert set(BUILT_IN_NAMES) | {SHIPPED} <= set(presets)
    shipped = presets[SHIPPED]
    assert os.path.isfile(os.path.join(shipped["path"], "config.json"))
    assert os.path.basename(shipped["path"]) == SHIPPED
    assert isinstance(shipped["parameter_count"], int)
    assert shipped["parameter_count"] > 0
    assert shipped["description"]
    for name in BUILT_IN_NAMES:
        assert presets[name]["parameter_count"] > shipped["parameter_count"]
        assert presets[name]["kaggle_handle"].startswith("kaggle://")


@pytest.mark.parametrize("name", BUILT_IN_NAMES)
def test_loading_a_built_in_preset_offline_says_what_works(_offline_hubs, name):
    with pytest.raises(OSError) as info:
        AlbertBackbone.from_preset(name)
    message = str(info.value)
    assert BUILT_IN_PRESETS[name]["kaggle_handle"] in message
    assert message.startswith(f"Could not download preset {name!r}")
    assert SHIPPED in message
    assert "works offline" in message
    assert list(_offline_hubs["kaggle"].iterdir()) == []
