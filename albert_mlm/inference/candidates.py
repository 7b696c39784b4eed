"""Candidates for a mask: which ids are never proposed, the top-k of a
distribution, and the dict a caller receives for each.

>>> from albert_mlm import AlbertTokenizer
>>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
>>> candidate(tokenizer, tokenizer.token_to_id("\u2581dog"), np.log(0.25))
{'token': 'dog', 'piece': '▁dog', 'id': ..., 'probability': 0.25}
"""

import numpy as np


def never_proposed_ids(tokenizer):
    """Special tokens (padding, `[CLS]`, `[SEP]`, `[MASK]`) and `<unk>`."""
    return sorted({*tokenizer.special_token_ids, tokenizer.unk_token_id})


def top_candidates(tokenizer, top_k):
    """A `run_queries` reduce: at each of a query's positions, the `top_k`
    likeliest ids outside `never_proposed_ids` (fewer when the vocabulary
    has fewer), most likely first (ties: lower id first), as
    `(ids, log_probabilities)`, each `(positions, k)`."""
    never = never_proposed_ids(tokenizer)
    top_k = min(top_k, tokenizer.vocabulary_size() - len(never))

    def reduce(log_probabilities, queries):
        ranked = log_probabilities.copy()
        ranked[..., never] = -np.inf
        ids = np.argsort(-ranked, axis=-1, kind="stable")[..., :top_k]
        values = np.take_along_axis(log_probabilities, ids, axis=-1)
        return [
            (ids[row, : len(query.positions)], values[row, : len(query.positions)])
            for row, query in enumerate(queries)
        ]

    return reduce


def candidate(tokenizer, token_id, log_probability):
    """`{"token", "piece", "id", "probability"}` of one id: `token` is the
    piece as a reader sees it (`"▁paris"` -> `"paris"`; a piece that
    continues a word keeps no mark), `piece` the vocabulary piece itself."""
    piece = tokenizer.id_to_token(int(token_id))
    return {
        "token": piece.replace("\u2581", "") or piece,
        "piece": piece,
        "id": int(token_id),
        "probability": float(np.exp(log_probability)),
    }
