"""`AlbertMaskedLM.fill_mask` from Python: `[MASK]` written in any case, a
`top_k` larger than the vocabulary, special tokens never proposed, and a text
too long for the preprocessor's `sequence_length` refused with advice."""

import numpy as np
import pytest
from helpers import KERAS_HUB_DIR

from albert_mlm import AlbertMaskedLM

PRESET = str(KERAS_HUB_DIR / "groups2_inner2")


@pytest.fixture
def test_preset_masked_lm():
    return AlbertMaskedLM.from_preset(PRESET)


def test_mask_in_any_case_gives_the_same_candidates(test_preset_masked_lm):
    upper, lower, mixed = test_preset_masked_lm.fill_mask(
        ["the [MASK] sat.", "the [mask] sat.", "the [Mask] sat."],
        top_k=4,
    )
    assert len(upper) == 1 and len(upper[0]) == 4
    for other in (lower, mixed):
        assert [c["id"] for c in other[0]] == [c["id"] for c in upper[0]]
        assert [c["probability"] for c in other[0]] == pytest.approx(
            [c["probability"] for c in upper[0]], rel=1e-5
        )


def test_huge_top_k_gives_every_ordinary_piece(test_preset_masked_lm):
    tokenizer = test_preset_masked_lm.preprocessor.tokenizer
    ((candidates,),) = test_preset_masked_lm.fill_mask(["a [MASK]."], top_k=10**6)
    never = set(tokenizer.special_token_ids) | {tokenizer.unk_token_id}
    assert len(never) == 5
    ids = [c["id"] for c in candidates]
    assert len(ids) == tokenizer.vocabulary_size() - len(never)
    assert not set(ids) & never
    probabilities = np.array([c["probability"] for c in candidates])
    assert np.all(np.diff(probabilities) <= 0)


def test_too_long_text_names_both_ways_to_raise_the_length(test_preset_masked_lm):
    text = "the [MASK] sat near the river with a small dog and the old man."
    with pytest.raises(ValueError) as info:
        test_preset_masked_lm.fill_mask([text])
    message = str(info.value)
    assert "sequence_length 16" in message
    assert "--sequence-length" in message and "sequence_length=" in message
    assert "32" in message  # The model's max_sequence_length.
    longer = AlbertMaskedLM.from_preset(PRESET, sequence_length=32)
    ((candidates,),) = longer.fill_mask([text], top_k=2)
    assert len(candidates) == 2
