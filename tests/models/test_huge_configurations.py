"""Configurations too large for this machine are refused before anything is
built (`models/backbone_arguments.py`, `argument_checks.require_fits_in_memory`):
a billion layers, positions or vocabulary entries, a preprocessor of ten
billion mask slots, and the same sizes written in a preset's JSON, each with
a `ValueError` naming the memory needed, and no layer or weight created."""

import re
import sys

import keras
import pytest
from helpers import TINY_BACKBONE, copy_keras_hub_preset, edit_json

from albert_mlm import AlbertBackbone, AlbertMaskedLM, AlbertMaskedLMPreprocessor
from albert_mlm.text.mask_generator import MaskGenerator
from albert_mlm.text.segment_packer import SegmentPacker

# "would need about 41.0 TB, more than this machine's 25.3 GB of memory"
NEEDED = re.compile(
    r"would need about [\d,.]+ (TB|GB), more than this machine's [\d,.]+ \w+ of memory"
)
# What building allocates through: every Keras layer, model and input is an
# `Operation`, every weight a `Variable`; the preprocessor's packer and masker.
_BUILT_CLASSES = (keras.Operation, keras.Variable, MaskGenerator, SegmentPacker)
_CONSTRUCTORS = {
    cls.__dict__["__init__"].__code__
    for built in _BUILT_CLASSES
    for cls in built.__mro__
    if hasattr(cls.__dict__.get("__init__"), "__code__")
}


def _constructed_during(build):
    """`build()`'s `ValueError`, and the class names of the objects whose
    construction began meanwhile (watched with a profile hook)."""
    constructed = []

    def watch(frame, event, _):
        if event == "call" and frame.f_code in _CONSTRUCTORS:
            constructed.append(type(frame.f_locals["self"]).__name__)

    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        with pytest.raises(ValueError) as info:
            build()
    finally:
        sys.setprofile(previous)
    return info.value, constructed


def _refused_before_building(build, match=None, allowed=()):
    """The refusal's message; nothing but `allowed` classes was constructed."""
    error, constructed = _constructed_during(build)
    assert set(constructed) <= set(allowed), constructed
    message = str(error)
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
def test_huge_backbone_is_refused_before_building(overrides, named):
    _refused_before_building(
        lambda: AlbertBackbone(**{**TINY_BACKBONE, **overrides}), named
    )


def test_huge_mask_selection_length_is_refused_before_building(tokenizer):
    # The preprocessor layer itself exists when its arguments are checked;
    # its packer and masker, which would allocate the slots, are not built.
    _refused_before_building(
        lambda: AlbertMaskedLMPreprocessor(tokenizer, mask_selection_length=10**10),
        "mask_selection_length=10000000000",
        allowed={"AlbertMaskedLMPreprocessor"},
    )


@pytest.mark.parametrize(
    "key, value",
    [("num_layers", 10**9), ("max_sequence_length", 10**9)],
)
def test_huge_preset_config_is_refused_before_building(tmp_path, key, value):
    preset = copy_keras_hub_preset(tmp_path)

    def enlarge(content):
        content["config"][key] = value
        if key == "num_layers":
            content["config"]["num_groups"] = 1

    edit_json(preset / "config.json", enlarge)
    message = _refused_before_building(lambda: AlbertBackbone.from_preset(preset))
    assert "config.json" in message and f"{key}={value}" in message
    _refused_before_building(lambda: AlbertMaskedLM.from_preset(preset))


def test_huge_preprocessor_preset_is_refused_before_building(tmp_path):
    preset = copy_keras_hub_preset(tmp_path)

    def enlarge(content):
        content["config"]["mask_selection_length"] = 10**10

    edit_json(preset / "preprocessor.json", enlarge)
    # The tokenizer is read first; the preprocessor is refused as above.
    _refused_before_building(
        lambda: AlbertMaskedLMPreprocessor.from_preset(preset),
        "mask_selection_length=10000000000",
        allowed={"AlbertTokenizer", "AlbertMaskedLMPreprocessor"},
    )
