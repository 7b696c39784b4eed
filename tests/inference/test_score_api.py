"""`AlbertMaskedLM.score` (`albert_mlm/inference/pseudo_log_likelihood.py`)
against the model read by hand: each piece's score is its log-probability
with only that piece masked (with `within_word_l2r`, the later pieces of its
word too); the PLL is their sum and the pseudo-perplexity exp(-PLL / pieces),
for strings, lists and sentence pairs, whatever the batch size."""

import numpy as np
import pytest
from helpers import assert_same_results
from inference_helpers import log_probabilities_by_hand, packed_by_hand

# Log-probabilities from padded batches against one unpadded sequence.
TOLERANCE = 1e-4
# One text scored in batches of other shapes: float32 rounding.
BATCHING_TOLERANCE = 1e-5
WORD_START = "\u2581"
# Ten texts of 3 to 19 tokens; "unbelievable" is a word of 12 pieces.
TEXTS = [
    "the dog barked.",
    "a quick brown fox jumps over the lazy dog",
    "x",
    "unbelievable things happen.",
    "the cat sees the moon.",
    "my sister likes the red ball.",
    "an open door.",
    "the old man finds a green tree.",
    "a small bird follows the river.",
    "dog",
]


def _per_token_by_hand(masked_lm, token_ids, segment_ids, within_word_l2r):
    """Each non-special piece's log-probability with it masked (and, for
    PLL-word-l2r, the later pieces of its word: those not starting with "▁")."""
    tokenizer = masked_lm.preprocessor.tokenizer
    special = set(tokenizer.special_token_ids)
    scores = []
    for position, token_id in enumerate(token_ids.tolist()):
        if token_id in special:
            continue
        masked = token_ids.copy()
        masked[position] = tokenizer.mask_token_id
        later = position + 1
        while within_word_l2r and later < len(token_ids):
            piece = tokenizer.id_to_token(int(token_ids[later]))
            if int(token_ids[later]) in special or piece.startswith(WORD_START):
                break
            masked[later] = tokenizer.mask_token_id
            later += 1
        (log_probabilities,) = log_probabilities_by_hand(
            masked_lm, masked, segment_ids, [position]
        )
        scores.append(log_probabilities[token_id])
    return scores


def test_pll_is_the_sum_of_the_per_token_scores(checkpoint_masked_lm):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    results = checkpoint_masked_lm.score(TEXTS, per_token=True)
    assert len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results):
        scores = [token["score"] for token in result["tokens"]]
        assert [token["id"] for token in result["tokens"]] == tokenizer(text).tolist()
        assert result["num_pieces"] == len(scores) == len(tokenizer(text))
        assert result["pseudo_log_likelihood"] == pytest.approx(sum(scores), abs=1e-9)
        assert result["pseudo_perplexity"] == pytest.approx(
            np.exp(-sum(scores) / len(scores)), rel=1e-12
        )
        for token in result["tokens"]:
            assert token["probability"] == pytest.approx(np.exp(token["score"]))
    # Without per_token, the same numbers and no "tokens".
    for result, summary in zip(results, checkpoint_masked_lm.score(TEXTS)):
        assert summary == {key: result[key] for key in summary}
        assert "tokens" not in summary


@pytest.mark.parametrize("within_word_l2r", [False, True], ids=["pll", "word-l2r"])
def test_per_token_scores_equal_the_model_with_that_piece_masked(
    checkpoint_masked_lm, within_word_l2r
):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    for texts in ("unbelievable things happen.", ("the dog barked.", "a new york.")):
        segments = (texts,) if isinstance(texts, str) else texts
        token_ids, segment_ids = packed_by_hand(tokenizer, *segments)
        expected = _per_token_by_hand(
            checkpoint_masked_lm, token_ids, segment_ids, within_word_l2r
        )
        result = checkpoint_masked_lm.score(
            texts, per_token=True, within_word_l2r=within_word_l2r
        )
        np.testing.assert_allclose(
            [token["score"] for token in result["tokens"]],
            expected,
            atol=TOLERANCE,
            rtol=0,
        )
        assert result["pseudo_log_likelihood"] == pytest.approx(
            sum(expected), abs=TOLERANCE * len(expected)
        )


def test_within_word_l2r_changes_only_pieces_followed_by_their_word(
    checkpoint_masked_lm,
):
    """A piece followed by a piece of its own word is scored with less
    context; a word's last piece, or a one-piece word, is scored as in PLL."""
    text = "unbelievable things happen."
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    pieces = [tokenizer.id_to_token(int(i)) for i in tokenizer(text)]
    plain = checkpoint_masked_lm.score(text, per_token=True)["tokens"]
    l2r = checkpoint_masked_lm.score(text, per_token=True, within_word_l2r=True)
    continued = [
        index + 1 < len(pieces) and not pieces[index + 1].startswith(WORD_START)
        for index in range(len(pieces))
    ]
    assert any(continued) and not all(continued)
    for is_continued, before, after in zip(continued, plain, l2r["tokens"]):
        if is_continued:
            assert abs(before["score"] - after["score"]) > 1e-6
        else:
            assert after["score"] == pytest.approx(before["score"], abs=TOLERANCE)


def test_scores_do_not_depend_on_the_batch_size(checkpoint_masked_lm):
    # A masked copy per piece: 1 to 12 copies of one padded shape per text,
    # the copies of several texts sharing a model call or not.
    texts = ["the dog barked.", "x", "an open door.", "the cat sees the moon.", "dog"]
    expected = checkpoint_masked_lm.score(texts, batch_size=64, per_token=True)
    assert len(expected) == len(texts)
    for batch_size in (1, 3):
        assert_same_results(
            checkpoint_masked_lm.score(texts, batch_size=batch_size, per_token=True),
            expected,
            rel=BATCHING_TOLERANCE,
        )


def test_the_same_call_gives_the_same_result(checkpoint_masked_lm):
    first = checkpoint_masked_lm.score(TEXTS[:4], per_token=True)
    assert checkpoint_masked_lm.score(TEXTS[:4], per_token=True) == first


def test_no_texts_give_no_results(checkpoint_masked_lm):
    assert checkpoint_masked_lm.score([]) == []
    assert checkpoint_masked_lm.score(([], [])) == []


def test_a_string_gives_its_single_result(checkpoint_masked_lm):
    (expected,) = checkpoint_masked_lm.score([TEXTS[0]], per_token=True)
    assert checkpoint_masked_lm.score(TEXTS[0], per_token=True) == expected


def test_sentence_pairs_score_both_segments_but_no_separator(checkpoint_masked_lm):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    firsts, seconds = ["the dog barked.", "a cat."], ["a cat.", "the dog barked."]
    results = checkpoint_masked_lm.score((firsts, seconds), per_token=True)
    assert len(results) == 2
    for first, second, result in zip(firsts, seconds, results):
        pieces = tokenizer(first).tolist() + tokenizer(second).tolist()
        assert [token["id"] for token in result["tokens"]] == pieces
        assert result["num_pieces"] == len(pieces)
        token_ids, segment_ids = packed_by_hand(tokenizer, first, second)
        expected = _per_token_by_hand(
            checkpoint_masked_lm, token_ids, segment_ids, within_word_l2r=False
        )
        np.testing.assert_allclose(
            [token["score"] for token in result["tokens"]],
            expected,
            atol=TOLERANCE,
            rtol=0,
        )
    # A tuple of two strings is one pair.
    single = checkpoint_masked_lm.score((firsts[0], seconds[0]), per_token=True)
    assert single["pseudo_log_likelihood"] == pytest.approx(
        results[0]["pseudo_log_likelihood"], rel=BATCHING_TOLERANCE
    )
    # A pair is not its two texts run together: the second segment differs.
    joined = checkpoint_masked_lm.score(f"{firsts[0]} {seconds[0]}")
    assert joined["num_pieces"] == results[0]["num_pieces"]
    assert abs(joined["pseudo_log_likelihood"] - single["pseudo_log_likelihood"]) > (
        1e-3
    )


def test_a_text_at_the_length_limit_is_scored(checkpoint_masked_lm):
    limit = checkpoint_masked_lm.preprocessor.sequence_length
    text = "dog" + " dog" * (limit - 3)
    result = checkpoint_masked_lm.score(text)
    assert result["num_pieces"] == limit - 2
    with pytest.raises(
        ValueError,
        match=f"is {limit + 1} tokens long with \\[CLS\\] and \\[SEP\\], 1 more than "
        f"the sequence_length {limit}",
    ):
        checkpoint_masked_lm.score(text + " dog")
