"""The built-in preset names (`albert_mlm.presets.registry`): listed on every
class, their architectures available offline.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import pytest

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)
from albert_mlm.presets.registry import BUILT_IN_PRESETS

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


BUILT_IN_NAMES = {
    "albert_base_en_uncased": 11_683_584,
    "albert_large_en_uncased": 17_683_968,
    "albert_extra_large_en_uncased": 58_724_864,
    "albert_extra_extra_large_en_uncased": 222_595_584,
}


def test_built_in_architecture_needs_no_network(_offline_hubs):
    backbone = AlbertBackbone.from_preset("albert_base_en_uncased", load_weights=False)
    assert backbone.count_params() == 11_683_584
    assert (
        backbone.count_params()
        == BUILT_IN_PRESETS["albert_base_en_uncased"]["parameter_count"]
    )
    masked_lm = AlbertMaskedLM.from_preset(
        "albert_base_en_uncased", load_weights=False, preprocessor=None
    )
    assert masked_lm.preprocessor is None
    assert masked_lm.backbone.count_params() == 11_683_584
    assert list(_offline_hubs["kaggle"].iterdir()) == []


@pytest.mark.parametrize(
    "cls", [AlbertBackbone, AlbertMaskedLM, AlbertTokenizer, AlbertMaskedLMPreprocessor]
)
def test_presets_listing(cls):
    assert set(BUILT_IN_NAMES) <= set(cls.presets)
    for name, count in BUILT_IN_NAMES.items():
        assert cls.presets[name]["parameter_count"] == count
        assert "architecture" not in cls.presets[name]
        assert cls.presets[name]["description"]


def test_unknown_preset_name_lists_known_names():
    with pytest.raises(ValueError) as info:
        AlbertMaskedLM.from_preset("albert_gigantic_en")
    message = str(info.value)
    assert "albert_gigantic_en" in message
    for name in BUILT_IN_NAMES:
        assert name in message
