"""Fixtures of the command-line tests, imported by the files that use them:
the shipped model, loaded once for the commands that read texts (`fill-mask`,
`score`)."""

import json
import os

import pytest

from albert_mlm import AlbertMaskedLM
from albert_mlm.cli import fill_mask_command
from albert_mlm.presets.registry import DEFAULT_PRESET, shipped_presets

# The shipped preset's sequence length, for inputs that must exceed it.
with open(os.path.join(shipped_presets()[DEFAULT_PRESET], "preprocessor.json")) as f:
    SHIPPED_SEQUENCE_LENGTH = json.load(f)["config"]["sequence_length"]


@pytest.fixture(scope="module")
def shipped_masked_lm():
    return AlbertMaskedLM.from_preset(DEFAULT_PRESET)


@pytest.fixture
def model_loaded_once(monkeypatch, shipped_masked_lm):
    """The commands' model loader returns `shipped_masked_lm`, for the
    default preset and sequence length only."""

    def load_masked_lm(args):
        assert (args.preset, args.sequence_length) == (DEFAULT_PRESET, None)
        return shipped_masked_lm

    monkeypatch.setattr(fill_mask_command, "load_masked_lm", load_masked_lm)
