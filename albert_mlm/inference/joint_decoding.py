"""Several masks filled together: left to right, each conditioned on the
fills before it, keeping a beam of the best partial fillings.

At step i every kept filling of a text asks the model for mask i, with masks
1..i-1 holding that filling's pieces and the later masks still masked; all
texts' beams run as one batch of queries per step. A filling's score is the
sum of its steps' log-probabilities.

>>> from albert_mlm import AlbertMaskedLM
>>> from albert_mlm.inference.text_batch import encode_texts
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> encoded, _ = encode_texts(masked_lm, ["the [MASK] [MASK] barked."])
>>> (fillings,) = joint_fillings(masked_lm, encoded, [np.array([2, 3])], 3, 8)
>>> len(fillings), len(fillings[0]["tokens"]), sorted(fillings[0])
(3, 2, ['probability', 'score', 'tokens'])
"""

from typing import NamedTuple

import numpy as np

from albert_mlm.inference.candidates import candidate, top_candidates
from albert_mlm.inference.masked_queries import MaskedQuery, run_queries


class _Filling(NamedTuple):
    score: float
    ids: tuple = ()
    log_probabilities: tuple = ()


def joint_fillings(masked_lm, encoded, mask_positions, top_k, batch_size):
    """Per text, the `top_k` best joint fillings (see `fill_mask`)."""
    tokenizer = masked_lm.preprocessor.tokenizer
    reduce = top_candidates(tokenizer, top_k)
    beams = [[_Filling(0.0)] for _ in encoded]
    # `default`: no texts (an empty list) is no steps, as for independent.
    for step in range(max((len(p) for p in mask_positions), default=0)):
        asking = [
            (text, filling)
            for text, positions in enumerate(mask_positions)
            if step < len(positions)
            for filling in beams[text]
        ]
        queries = (
            MaskedQuery(
                _filled(encoded[text].token_ids, mask_positions[text], filling.ids),
                encoded[text].segment_ids,
                (mask_positions[text][step],),
            )
            for text, filling in asking
        )
        found = run_queries(masked_lm, queries, batch_size, reduce)
        extended = {}
        for (text, filling), (ids, values) in zip(asking, found):
            extended.setdefault(text, []).extend(
                _Filling(
                    filling.score + float(value),
                    filling.ids + (int(token_id),),
                    filling.log_probabilities + (float(value),),
                )
                for token_id, value in zip(ids[0], values[0])
            )
        for text, fillings in extended.items():
            beams[text] = sorted(fillings, key=lambda f: -f.score)[:top_k]
    return [[_as_dict(tokenizer, filling) for filling in beam] for beam in beams]


def _filled(token_ids, positions, ids):
    """`token_ids` with the first `len(ids)` masks holding `ids`."""
    filled = token_ids.copy()
    if ids:
        filled[positions[: len(ids)]] = ids
    return filled


def _as_dict(tokenizer, filling):
    return {
        "tokens": [
            candidate(tokenizer, token_id, value)
            for token_id, value in zip(filling.ids, filling.log_probabilities)
        ],
        "score": filling.score,
        "probability": float(np.exp(filling.score)),
    }
