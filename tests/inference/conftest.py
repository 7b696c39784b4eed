"""Fixtures of the inference tests (helpers in inference_helpers.py)."""

import pytest
from inference_helpers import load_transformers_masked_lm


@pytest.fixture(scope="module")
def checkpoint_masked_lm(tmp_path_factory):
    """The `masked_lm_groups2_inner2` checkpoint: random, non-trivial weights,
    the 400-piece test vocabulary, `sequence_length` 32."""
    return load_transformers_masked_lm(tmp_path_factory, "masked_lm_groups2_inner2")
