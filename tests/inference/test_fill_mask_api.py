"""`AlbertMaskedLM.fill_mask` (`albert_mlm/inference/`) against the model
read by hand, one plain `predict_on_batch` per question: the same answer
twice, whatever the batch size, for a string, a list or sentence pairs, up to
the length limit; targets of one or several pieces; several masks decoded
independently or jointly (a beam search redone by hand)."""

import numpy as np
import pytest
from helpers import assert_same_results
from inference_helpers import (
    log_probabilities_by_hand,
    never_proposed,
    packed_by_hand,
    top_ids_by_hand,
)

# Log-probabilities from padded batches against one unpadded sequence:
# float32 logits, summed in another order.
TOLERANCE = 1e-4
# Results of one query run in batches of other shapes: float32 rounding.
BATCHING_TOLERANCE = 1e-5
TWO_MASKS = "the [MASK] sat on the [MASK]."
THREE_MASKS = "the [MASK] sat on the [MASK] [MASK]."
# Ten texts of 3 to 24 tokens and 1 to 5 masks.
TEXTS_OF_MANY_LENGTHS = [
    "the [MASK] sat.",
    "a [MASK] and a [MASK] went to the river with [MASK].",
    "[MASK]",
    "my sister likes the [MASK] ball.",
    "the cat sees [MASK].",
    "a dog [MASK] the moon.",
    "the old man finds [MASK] [MASK] [MASK] [MASK] [MASK].",
    "[MASK] small bird.",
    "an open door [MASK] and the red ball.",
    "the [MASK].",
]


def _mask_positions(masked_lm, token_ids):
    return np.flatnonzero(token_ids == masked_lm.preprocessor.tokenizer.mask_token_id)


def _assert_candidates_by_hand(masked_lm, masks, token_ids, segment_ids, top_k):
    """Each mask's candidates are the model's top-k there, all masks masked."""
    tokenizer = masked_lm.preprocessor.tokenizer
    positions = _mask_positions(masked_lm, token_ids)
    expected = log_probabilities_by_hand(masked_lm, token_ids, segment_ids, positions)
    assert len(masks) == len(positions)
    for candidates, log_probabilities in zip(masks, expected):
        ids = top_ids_by_hand(log_probabilities, top_k, never_proposed(tokenizer))
        assert [c["id"] for c in candidates] == ids
        np.testing.assert_allclose(
            np.log([c["probability"] for c in candidates]),
            log_probabilities[ids],
            atol=TOLERANCE,
            rtol=0,
        )


DECODINGS = [
    pytest.param({}, id="independent"),
    pytest.param({"decoding": "joint"}, id="joint"),
    pytest.param({"targets": ["dog", "the", "cat"]}, id="targets"),
]


@pytest.mark.parametrize("options", DECODINGS)
def test_the_same_call_gives_the_same_result(checkpoint_masked_lm, options):
    texts = [TWO_MASKS, "a [MASK] dog."]
    first = checkpoint_masked_lm.fill_mask(texts, top_k=3, **options)
    assert len(first) == 2 and all(first)
    assert checkpoint_masked_lm.fill_mask(texts, top_k=3, **options) == first


@pytest.mark.parametrize("options", DECODINGS)
def test_results_do_not_depend_on_the_batch_size(checkpoint_masked_lm, options):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    lengths = [len(tokenizer(text)) + 2 for text in TEXTS_OF_MANY_LENGTHS]
    assert len(set(lengths)) >= 8
    # Texts of one mask and at most 16 tokens share one padded shape: a group
    # of more queries than batch_size=3, run in several model calls.
    shared = [
        text
        for text, length in zip(TEXTS_OF_MANY_LENGTHS, lengths)
        if text.count("[MASK]") == 1 and length <= 16
    ]
    assert len(shared) > 3
    expected = checkpoint_masked_lm.fill_mask(
        TEXTS_OF_MANY_LENGTHS, top_k=3, batch_size=64, **options
    )
    assert [len(result) for result in expected] == (
        [3] * 10
        if options.get("decoding") == "joint"
        else [text.count("[MASK]") for text in TEXTS_OF_MANY_LENGTHS]
    )
    for batch_size in (1, 3):
        assert_same_results(
            checkpoint_masked_lm.fill_mask(
                TEXTS_OF_MANY_LENGTHS, top_k=3, batch_size=batch_size, **options
            ),
            expected,
        )


@pytest.mark.parametrize("options", DECODINGS)
def test_a_string_gives_its_single_result(checkpoint_masked_lm, options):
    (expected,) = checkpoint_masked_lm.fill_mask([TWO_MASKS], top_k=2, **options)
    assert checkpoint_masked_lm.fill_mask(TWO_MASKS, top_k=2, **options) == expected


@pytest.mark.parametrize("options", DECODINGS)
def test_no_texts_give_no_results(checkpoint_masked_lm, options):
    assert checkpoint_masked_lm.fill_mask([], **options) == []
    assert checkpoint_masked_lm.fill_mask(([], []), **options) == []


def test_sentence_pairs_are_packed_as_two_segments(checkpoint_masked_lm):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    firsts = ["the [MASK] sat.", "a dog barked.", "the [MASK] sat."]
    seconds = ["a dog barked.", "the [MASK] sat on the [MASK].", "a [MASK] barked."]
    results = checkpoint_masked_lm.fill_mask((firsts, seconds), top_k=4)
    assert len(results) == 3
    for first, second, masks in zip(firsts, seconds, results):
        token_ids, segment_ids = packed_by_hand(tokenizer, first, second)
        assert 0 in segment_ids and 1 in segment_ids
        _assert_candidates_by_hand(
            checkpoint_masked_lm, masks, token_ids, segment_ids, top_k=4
        )
    # A tuple of two strings is one pair; lists of them, several.
    assert_same_results(
        checkpoint_masked_lm.fill_mask((firsts[1], seconds[1]), top_k=4), results[1]
    )
    assert_same_results(
        checkpoint_masked_lm.fill_mask((firsts[:1], seconds[:1]), top_k=4),
        results[:1],
    )


def test_each_mask_gets_its_candidates_with_the_others_still_masked(
    checkpoint_masked_lm,
):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    masks = checkpoint_masked_lm.fill_mask(THREE_MASKS, top_k=5)
    token_ids, segment_ids = packed_by_hand(tokenizer, THREE_MASKS)
    _assert_candidates_by_hand(
        checkpoint_masked_lm, masks, token_ids, segment_ids, top_k=5
    )
    # The masks see different contexts, so their candidates differ.
    assert len({tuple(c["probability"] for c in mask) for mask in masks}) == 3


def test_texts_at_the_length_limit_are_filled(checkpoint_masked_lm):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    limit = checkpoint_masked_lm.preprocessor.sequence_length
    text = "[MASK]" + " dog" * (limit - 3)
    pair = ("the [MASK] sat.", "a" + " dog" * (limit - 10))
    token_ids, segment_ids = packed_by_hand(tokenizer, text)
    pair_ids, pair_segment_ids = packed_by_hand(tokenizer, *pair)
    assert len(token_ids) == len(pair_ids) == limit

    (masks,) = checkpoint_masked_lm.fill_mask([text], top_k=3)
    pair_masks = checkpoint_masked_lm.fill_mask(pair, top_k=3)
    _assert_candidates_by_hand(
        checkpoint_masked_lm, masks, token_ids, segment_ids, top_k=3
    )
    _assert_candidates_by_hand(
        checkpoint_masked_lm, pair_masks, pair_ids, pair_segment_ids, top_k=3
    )
    with pytest.raises(ValueError, match=f"1 more than the sequence_length {limit}"):
        checkpoint_masked_lm.fill_mask(text + " dog")
    with pytest.raises(ValueError, match=f"1 more than the sequence_length {limit}"):
        checkpoint_masked_lm.fill_mask((pair[0], pair[1] + " dog"))


def _target_score_by_hand(masked_lm, token_ids, segment_ids, position, pieces):
    """PLL of `pieces` in place of the mask at `position`: each piece masked
    in turn, the target's other pieces in place."""
    mask_token_id = masked_lm.preprocessor.tokenizer.mask_token_id
    filled = np.concatenate([token_ids[:position], pieces, token_ids[position + 1 :]])
    segments = np.concatenate(
        [
            segment_ids[:position],
            [segment_ids[position]] * len(pieces),
            segment_ids[position + 1 :],
        ]
    )
    total = 0.0
    for offset, piece in enumerate(pieces):
        masked = filled.copy()
        masked[position + offset] = mask_token_id
        (log_probabilities,) = log_probabilities_by_hand(
            masked_lm, masked, segments, [position + offset]
        )
        total += log_probabilities[piece]
    return total


@pytest.mark.parametrize(
    "texts",
    [TWO_MASKS, ("a dog barked.", "the [MASK] sat.")],
    ids=["two-masks", "pair-mask-in-second-segment"],
)
def test_a_target_of_several_pieces_scores_its_pseudo_log_likelihood(
    checkpoint_masked_lm, texts
):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    targets = ["dog", "the", "new york", "cat", "barks"]
    pieces = {target: [int(i) for i in tokenizer(target)] for target in targets}
    assert sorted(len(ids) for ids in pieces.values())[-1] > 3
    token_ids, segment_ids = packed_by_hand(
        tokenizer, *([texts] if isinstance(texts, str) else texts)
    )
    ranked_per_mask = checkpoint_masked_lm.fill_mask(
        texts, targets=targets, top_k=len(targets)
    )
    best_two = checkpoint_masked_lm.fill_mask(texts, targets=targets, top_k=2)
    positions = _mask_positions(checkpoint_masked_lm, token_ids)
    assert len(ranked_per_mask) == len(best_two) == len(positions)
    for position, ranked, top in zip(positions, ranked_per_mask, best_two):
        expected = {
            tuple(ids): _target_score_by_hand(
                checkpoint_masked_lm, token_ids, segment_ids, position, ids
            )
            for ids in pieces.values()
        }
        assert [tuple(c["ids"]) for c in ranked] == sorted(
            expected, key=lambda ids: -expected[ids]
        )
        scores = [c["score"] for c in ranked]
        assert scores == sorted(scores, reverse=True)
        for candidate in ranked:
            ids = candidate["ids"]
            assert candidate["score"] == pytest.approx(
                expected[tuple(ids)], abs=TOLERANCE * len(ids)
            )
            assert candidate["probability"] == pytest.approx(
                np.exp(candidate["score"]), rel=1e-12
            )
            assert candidate["id"] == (ids[0] if len(ids) == 1 else None)
            assert candidate["piece"] == " ".join(tokenizer.id_to_token(i) for i in ids)
        assert [tuple(c["ids"]) for c in top] == [tuple(c["ids"]) for c in ranked[:2]]


def test_a_one_piece_targets_probability_is_the_models(checkpoint_masked_lm):
    vocabulary_size = checkpoint_masked_lm.backbone.vocabulary_size
    everything = checkpoint_masked_lm.fill_mask(TWO_MASKS, top_k=vocabulary_size)
    ranked_per_mask = checkpoint_masked_lm.fill_mask(
        TWO_MASKS, targets=["dog", "cat", "fox", "quick"]
    )
    assert len(ranked_per_mask) == len(everything) == 2
    for ranked, candidates in zip(ranked_per_mask, everything):
        model = {c["id"]: c["probability"] for c in candidates}
        assert len(ranked) == 4
        for candidate in ranked:
            assert candidate["ids"] == [candidate["id"]]
            assert candidate["probability"] == pytest.approx(
                model[candidate["id"]], rel=BATCHING_TOLERANCE
            )
            assert candidate["score"] == pytest.approx(
                np.log(model[candidate["id"]]), abs=BATCHING_TOLERANCE
            )


def _chain_by_hand(masked_lm, token_ids, segment_ids, positions, chosen):
    """Log-probability of each chosen id, left to right, each mask given the
    ones filled before it (the later ones still masked)."""
    filled = token_ids.copy()
    steps = []
    for position, token_id in zip(positions, chosen):
        (log_probabilities,) = log_probabilities_by_hand(
            masked_lm, filled, segment_ids, [position]
        )
        steps.append(log_probabilities[token_id])
        filled[position] = token_id
    return steps


def _beam_search_by_hand(masked_lm, token_ids, segment_ids, positions, top_k):
    never = never_proposed(masked_lm.preprocessor.tokenizer)
    beam = [((), 0.0)]
    for step, position in enumerate(positions):
        extended = []
        for chosen, total in beam:
            filled = token_ids.copy()
            filled[positions[:step]] = chosen
            (log_probabilities,) = log_probabilities_by_hand(
                masked_lm, filled, segment_ids, [position]
            )
            extended += [
                (chosen + (token_id,), total + log_probabilities[token_id])
                for token_id in top_ids_by_hand(log_probabilities, top_k, never)
            ]
        beam = sorted(extended, key=lambda filling: -filling[1])[:top_k]
    return beam


def test_joint_fillings_are_a_beam_search_scored_step_by_step(checkpoint_masked_lm):
    tokenizer = checkpoint_masked_lm.preprocessor.tokenizer
    top_k = 3
    token_ids, segment_ids = packed_by_hand(tokenizer, THREE_MASKS)
    positions = _mask_positions(checkpoint_masked_lm, token_ids)
    fillings = checkpoint_masked_lm.fill_mask(
        THREE_MASKS, top_k=top_k, decoding="joint"
    )
    assert len(fillings) == top_k
    scores = [filling["score"] for filling in fillings]
    assert scores == sorted(scores, reverse=True)

    for filling in fillings:
        chosen = [token["id"] for token in filling["tokens"]]
        steps = _chain_by_hand(
            checkpoint_masked_lm, token_ids, segment_ids, positions, chosen
        )
        np.testing.assert_allclose(
            np.log([token["probability"] for token in filling["tokens"]]),
            steps,
            atol=TOLERANCE,
            rtol=0,
        )
        assert filling["score"] == pytest.approx(sum(steps), abs=3 * TOLERANCE)
        assert filling["probability"] == pytest.approx(
            np.exp(filling["score"]), rel=1e-12
        )

    beam = _beam_search_by_hand(
        checkpoint_masked_lm, token_ids, segment_ids, positions, top_k
    )
    assert [tuple(t["id"] for t in f["tokens"]) for f in fillings] == [
        chosen for chosen, _ in beam
    ]
    np.testing.assert_allclose(
        scores, [total for _, total in beam], atol=3 * TOLERANCE, rtol=0
    )

    # The first step is the first mask decoded on its own, the others masked.
    first_mask = checkpoint_masked_lm.fill_mask(THREE_MASKS, top_k=top_k)[0]
    independent = {c["id"]: c["probability"] for c in first_mask}
    for filling in fillings:
        first = filling["tokens"][0]
        assert first["probability"] == pytest.approx(
            independent[first["id"]], rel=BATCHING_TOLERANCE
        )


def test_joint_decoding_of_one_mask_is_independent_decoding(checkpoint_masked_lm):
    text = "the [MASK] sat."
    (candidates,) = checkpoint_masked_lm.fill_mask(text, top_k=4)
    fillings = checkpoint_masked_lm.fill_mask(text, top_k=4, decoding="joint")
    assert [f["tokens"] for f in fillings] == [[c] for c in candidates]
    assert [f["probability"] for f in fillings] == [
        c["probability"] for c in candidates
    ]
