"""How likely a masked LM finds a text: its pseudo-log-likelihood (PLL).

PLL (Salazar et al., ACL 2020) is the sum, over a text's pieces, of the
piece's log-probability with only that piece masked; the pseudo-perplexity
is exp(-PLL / pieces). PLL-word-l2r (Kauf & Ivanova, 2023) also masks the
later pieces of the piece's word (pieces not starting with "▁"), so a word
cut into pieces cannot spell out its own ending. Every masked copy is a
query for its one masked position, and the copies of all texts run batched
together (`masked_queries`): one model row per piece, no call per piece.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> result = score(masked_lm, "the dog barked.", per_token=True)
>>> sorted(result)
['num_pieces', 'pseudo_log_likelihood', 'pseudo_perplexity', 'tokens']
>>> [token["token"] for token in result["tokens"]]
['the', 'dog', 'bark', 'ed', '.']
"""

import numpy as np

from albert_mlm.argument_checks import require_bool, require_positive_int
from albert_mlm.inference.candidates import candidate
from albert_mlm.inference.masked_queries import (
    MaskedQuery,
    run_queries,
    wanted_log_probabilities,
)
from albert_mlm.inference.text_batch import encode_texts
from albert_mlm.text.word_spans import word_start_table


def score(masked_lm, texts, batch_size=32, per_token=False, within_word_l2r=False):
    """Pseudo-log-likelihood and pseudo-perplexity of each text.

    Args:
        masked_lm: an `AlbertMaskedLM` with a preprocessor.
        texts: a string, a list of strings, or sentence pairs (a tuple of
            two lists; a tuple of two strings is one pair). Each fits the
            preprocessor's `sequence_length` (never truncated) and holds no
            `[MASK]`.
        batch_size: masked copies per model call.
        per_token: also return each piece's log-probability.
        within_word_l2r: PLL-word-l2r: when scoring a piece, mask the later
            pieces of its word too.

    Returns:
        Per text (or the text's result, for one string or pair):
        `{"pseudo_log_likelihood", "pseudo_perplexity", "num_pieces"}`, and
        with `per_token` `"tokens"`: a `{"token", "piece", "id",
        "probability", "score"}` per piece, in order (`score` being its
        log-probability). `[CLS]` and `[SEP]` are not scored.
    """
    require_positive_int("batch_size", batch_size)
    require_bool("per_token", per_token)
    require_bool("within_word_l2r", within_word_l2r)
    encoded, is_single = encode_texts(masked_lm, texts)
    tokenizer = masked_lm.preprocessor.tokenizer
    plans = _plans(tokenizer, encoded, within_word_l2r)
    scores = _log_probabilities(masked_lm, encoded, plans, batch_size)
    results = [
        _result(tokenizer, text, positions, values, per_token)
        for text, (positions, _), values in zip(encoded, plans, scores)
    ]
    return results[0] if is_single else results


def _plans(tokenizer, encoded, within_word_l2r):
    """The `_masked_copies` of each text, once every text is known scorable."""
    for text in encoded:
        if tokenizer.mask_token_id in text.token_ids:
            raise ValueError(
                f"`texts` holds a [MASK] in the text {text.shown}; score rates "
                "text as written: fill the mask first (fill_mask)."
            )
    word_starts = (
        word_start_table(tokenizer.get_vocabulary()) if within_word_l2r else None
    )
    plans = [_masked_copies(tokenizer, text, word_starts) for text in encoded]
    for text, (positions, _) in zip(encoded, plans):
        if not len(positions):
            raise ValueError(
                f"`texts` holds a text with no pieces to score (only special "
                f"tokens): {text.shown}"
            )
    return plans


def _log_probabilities(masked_lm, encoded, plans, batch_size):
    """Per text, the log-probability of each scored piece in its masked copy,
    the copies of all texts run batched together."""
    queries = (
        MaskedQuery(copy, text.segment_ids, (position,), (text.token_ids[position],))
        for text, (positions, copies) in zip(encoded, plans)
        for position, copy in zip(positions.tolist(), copies)
    )
    found = run_queries(masked_lm, queries, batch_size, wanted_log_probabilities)
    found = np.concatenate(found) if found else np.zeros(0)
    ends = np.cumsum([len(positions) for positions, _ in plans])
    return np.split(found, ends[:-1])


def _result(tokenizer, text, positions, values, per_token):
    """One text's result dict from its pieces' log-probabilities `values`."""
    total = float(values.sum())
    result = {
        "pseudo_log_likelihood": total,
        "pseudo_perplexity": float(np.exp(-total / len(values))),
        "num_pieces": len(values),
    }
    if per_token:
        result["tokens"] = [
            {**candidate(tokenizer, text.token_ids[p], value), "score": float(value)}
            for p, value in zip(positions, values)
        ]
    return result


def _masked_copies(tokenizer, text, word_starts):
    """`(positions, copies)`: the positions scored, and for each a copy of
    the text with that piece masked (and, given `word_starts`, the later
    pieces of its word), built for all pieces at once."""
    token_ids = text.token_ids
    is_piece = ~np.isin(token_ids, tokenizer.special_token_ids)
    positions = np.flatnonzero(is_piece)
    masked = positions[:, None] == np.arange(len(token_ids))[None, :]
    if word_starts is not None:
        # A word begins at a "▁" piece, or right after a special token.
        after_special = np.concatenate([[True], ~is_piece[:-1]])
        word = np.cumsum(word_starts[token_ids] | after_special | ~is_piece)
        later = positions[:, None] < np.arange(len(token_ids))[None, :]
        masked |= later & is_piece & (word[None, :] == word[positions][:, None])
    copies = np.where(masked, tokenizer.mask_token_id, token_ids[None, :])
    return positions, copies.astype("int32")
