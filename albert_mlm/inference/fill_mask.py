"""Fill the `[MASK]`s written in text with a masked LM's likeliest pieces.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> (candidates,) = fill_mask(masked_lm, "a young [MASK] that barks.", top_k=3)
>>> len(candidates), sorted(candidates[0])
(3, ['id', 'piece', 'probability', 'token'])
>>> (ranked,) = fill_mask(masked_lm, "a young [MASK] that barks.", targets=["dog"])
>>> ranked[0]["token"], ranked[0]["piece"]
('dog', '▁dog')
"""

import numpy as np

from albert_mlm.argument_checks import require_choice, require_positive_int
from albert_mlm.inference.candidates import candidate, top_candidates
from albert_mlm.inference.joint_decoding import joint_fillings
from albert_mlm.inference.masked_queries import MaskedQuery, run_queries
from albert_mlm.inference.target_scoring import target_candidates
from albert_mlm.inference.text_batch import encode_texts

DECODINGS = ("independent", "joint")


def fill_mask(
    masked_lm, texts, top_k=5, targets=None, batch_size=32, decoding="independent"
):
    """Candidates for every `[MASK]` (any case) of every text; no random
    masking, so the same call gives the same answer.

    Special tokens and `<unk>` are never proposed; a probability is the
    model's, over the whole vocabulary.

    Args:
        masked_lm: an `AlbertMaskedLM` with a preprocessor.
        texts: a string, a list of strings, or sentence pairs: a tuple of
            two lists (a tuple of two strings is one pair). Each text (or
            pair) holds at least one `[MASK]` and fits the preprocessor's
            `sequence_length` (it is never truncated).
        top_k: candidates per mask (fewer when the vocabulary, or
            `targets`, has fewer); with `decoding="joint"`, the beam width
            and the number of fillings returned.
        targets: words or phrases to score in each mask's place instead of
            searching the vocabulary. A target of several pieces takes as
            many slots and is scored by pseudo-log-likelihood (each piece
            masked in turn, the others in place); candidates come back best
            first, with `score` (the summed log-probability) and
            `probability` (its exp), `ids` and `piece` (the pieces,
            space-separated); `id` is the id of a one-piece target, else None.
        batch_size: sequences per model call.
        decoding: `"independent"`: each mask on its own (with the others
            still masked); `"joint"`: masks filled left to right, each
            conditioned on the ones filled before it, keeping a beam of
            `top_k` fillings.

    Returns:
        Per text (or just the text's result, for one string or pair): with
        `"independent"`, one list per `[MASK]` (in order) of candidate dicts
        `{"token", "piece", "id", "probability"}`, most likely first; with
        `"joint"`, a list of fillings, best first, each
        `{"tokens": [a candidate per mask, its probability the step's],
        "score": summed log-probability, "probability": its exp}`.
    """
    _check_arguments(top_k, targets, batch_size, decoding)
    encoded, is_single = encode_texts(masked_lm, texts)
    mask_positions = _mask_positions(masked_lm, encoded)
    if targets is not None:
        found = target_candidates(
            masked_lm, encoded, mask_positions, targets, top_k, batch_size
        )
    elif decoding == "joint":
        found = joint_fillings(masked_lm, encoded, mask_positions, top_k, batch_size)
    else:
        found = _independent(masked_lm, encoded, mask_positions, top_k, batch_size)
    return found[0] if is_single else found


def _check_arguments(top_k, targets, batch_size, decoding):
    require_positive_int("top_k", top_k)
    require_positive_int("batch_size", batch_size)
    require_choice("decoding", decoding, DECODINGS)
    if targets is not None and decoding != "independent":
        raise ValueError(
            "`targets` are scored at each mask independently; they cannot be "
            f"combined with decoding={decoding!r}."
        )


def _mask_positions(masked_lm, encoded):
    """The `[MASK]` positions of each text, which must hold at least one."""
    mask_token_id = masked_lm.preprocessor.tokenizer.mask_token_id
    mask_positions = [
        np.flatnonzero(text.token_ids == mask_token_id) for text in encoded
    ]
    for text, positions in zip(encoded, mask_positions):
        if not len(positions):
            raise ValueError(f"No [MASK] in the text {text.shown}.")
    return mask_positions


def _independent(masked_lm, encoded, mask_positions, top_k, batch_size):
    """One query per text, asking for every mask position at once."""
    tokenizer = masked_lm.preprocessor.tokenizer
    queries = (
        MaskedQuery(text.token_ids, text.segment_ids, tuple(positions))
        for text, positions in zip(encoded, mask_positions)
    )
    found = run_queries(
        masked_lm, queries, batch_size, top_candidates(tokenizer, top_k)
    )
    return [
        [
            [candidate(tokenizer, i, value) for i, value in zip(ids, values)]
            for ids, values in zip(*per_text)
        ]
        for per_text in found
    ]
