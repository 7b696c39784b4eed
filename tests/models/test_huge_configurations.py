"""Configurations too large for this machine are refused at once
(`models/backbone_arguments.py`, `argument_checks.require_fits_in_memory`):
a billion layers, positions or vocabulary entries, a preprocessor of ten
billion mask slots, and the same sizes written in a preset's JSON, each with
a `ValueError` naming the memory needed, well under a second."""

import re
import time

import pytest
from helpers import TINY_BACKBONE, copy_keras_hub_preset, edit_json

from albert_mlm import AlbertBackbone, AlbertMaskedLM, AlbertMaskedLMPreprocessor

# "would need about 41.0 TB, more than this machine's 25.3 GB of memory"
NEEDED = re.compile(
    r"would need about [\d,.]+ (TB|GB), more than this machine's [\d,.]+ \w+ of memory"
)
# Refused before anything is allocated.
AT_ONCE_SECONDS = 0.5


def _refused_at_once(build, match=None):
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        build()
    elapsed = time.perf_counter() - start
    assert elapsed < AT_ONCE_SECONDS, f"took {elapsed:.2f} s"
    message = str(info.value)
    assert NEEDED.search(message), message
    if match is not None:
        assert match in message
    return message


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"num_layers": 10**9, "num_groups": 1}, "num_layers=1000000000"),
        ({"max_sequence_length": 10**9}, "max_sequence_length=1000000000"),
        # 10**9 rows of 1024 floats: 4 TB.
        ({"vocabulary_size": 10**9, "embedding_dim": 1024}, "vocabulary_size="),
    ],
)
def test_huge_backbone_is_refused_at_once(overrides, named):
    _refused_at_once(lambda: AlbertBackbone(**{**TINY_BACKBONE, **overrides}), named)


def test_huge_mask_selection_length_is_refused_at_once(tokenizer):
    _refused_at_once(
        lambda: AlbertMaskedLMPreprocessor(tokenizer, mask_selection_length=10**10),
        "mask_selection_length=10000000000",
    )


@pytest.mark.parametrize(
    "key, value",
    [("num_layers", 10**9), ("max_sequence_length", 10**9)],
)
def test_huge_preset_config_is_refused_at_once(tmp_path, key, value):
    preset = copy_keras_hub_preset(tmp_path)

    def enlarge(content):
        content["config"][key] = value
        if key == "num_layers":
            content["config"]["num_groups"] = 1

    edit_json(preset / "config.json", enlarge)
    message = _refused_at_once(lambda: AlbertBackbone.from_preset(preset))
    assert "config.json" in message and f"{key}={value}" in message
    _refused_at_once(lambda: AlbertMaskedLM.from_preset(preset))


def test_huge_preprocessor_preset_is_refused_at_once(tmp_path):
    preset = copy_keras_hub_preset(tmp_path)

    def enlarge(content):
        content["config"]["mask_selection_length"] = 10**10

    edit_json(preset / "preprocessor.json", enlarge)
    _refused_at_once(
        lambda: AlbertMaskedLMPreprocessor.from_preset(preset),
        "mask_selection_length=10000000000",
    )
