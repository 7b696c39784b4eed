"""Given words scored in a mask's place, however many pieces each takes.

A target of n pieces replaces its `[MASK]` by n slots and is scored by
pseudo-log-likelihood over them: the sum, over its pieces, of the piece's
log-probability with that piece masked and the target's other pieces in
place (the text's other masks stay masked). A one-piece target's score is
the model's log-probability at the mask itself.

>>> from albert_mlm import AlbertMaskedLM
>>> from albert_mlm.inference.text_batch import encode_texts
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> encoded, _ = encode_texts(masked_lm, ["the [MASK] barked."])
>>> targets = ["dog", "cat"]
>>> ((ranked,),) = target_candidates(masked_lm, encoded, [np.array([2])], targets, 2, 8)
>>> sorted(ranked[0])
['id', 'ids', 'piece', 'probability', 'score', 'token']
"""

import numpy as np

from albert_mlm.inference.masked_queries import (
    MaskedQuery,
    run_queries,
    wanted_log_probabilities,
)
from albert_mlm.inference.text_batch import too_long_message


def target_candidates(masked_lm, encoded, mask_positions, targets, top_k, batch_size):
    """Per text, per mask, the `top_k` best of `targets` (see `fill_mask`)."""
    tokenizer = masked_lm.preprocessor.tokenizer
    pieces = _target_pieces(tokenizer, targets)
    questions = _Questions(tokenizer.mask_token_id)
    plan = [
        [
            [
                _ask_for_target(masked_lm, questions, text, slot, position, ids)
                for ids in pieces
            ]
            for slot, position in enumerate(positions)
        ]
        for text, positions in zip(encoded, mask_positions)
    ]
    answers = questions.run(masked_lm, batch_size)
    return [
        [
            _ranked(tokenizer, pieces, slot_plan, answers, top_k)
            for slot_plan in text_plan
        ]
        for text_plan in plan
    ]


class _Questions:
    """Queries by content: every one-piece target in one slot shares the
    query that is the text itself, so those cost one row per mask."""

    def __init__(self, mask_token_id):
        self.mask_token_id = mask_token_id
        self.wanted = {}  # (ids, segment ids, position) -> wanted piece ids

    def ask(self, token_ids, segment_ids, position, piece):
        """Ask for `piece` at `position`, masked; returns where its answer lands."""
        masked = token_ids.copy()
        masked[position] = self.mask_token_id
        key = (masked.tobytes(), segment_ids.tobytes(), position)
        wanted = self.wanted.setdefault(key, [])
        if piece not in wanted:
            wanted.append(piece)
        return key, wanted.index(piece)

    def run(self, masked_lm, batch_size):
        """`{key: log-probabilities of the wanted pieces}`."""
        queries = (
            MaskedQuery(
                np.frombuffer(ids, "int32"),
                np.frombuffer(segment_ids, "int32"),
                (position,),
                tuple(wanted),
            )
            for (ids, segment_ids, position), wanted in self.wanted.items()
        )
        found = run_queries(masked_lm, queries, batch_size, wanted_log_probabilities)
        return dict(zip(self.wanted, found))


def _ask_for_target(masked_lm, questions, text, slot, position, ids):
    """The questions scoring target `ids` in place of the mask at `position`."""
    token_ids, segment_ids = _with_target(text, position, ids)
    if len(token_ids) > masked_lm.preprocessor.sequence_length:
        target = masked_lm.preprocessor.tokenizer.detokenize(np.array(ids, "int32"))
        raise ValueError(
            too_long_message(
                masked_lm,
                f"The text {text.shown} with the target {target!r} "
                f"({len(ids)} pieces) in place of [MASK] {slot + 1}",
                len(token_ids),
            )
        )
    return [
        questions.ask(token_ids, segment_ids, position + offset, piece)
        for offset, piece in enumerate(ids)
    ]


def _target_pieces(tokenizer, targets):
    """Each distinct target's ids, in order; refuses bad targets."""
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list | tuple) or not targets:
        raise TypeError(
            "`targets` must be a non-empty list of strings. Received: "
            f"targets={targets!r:.80} of type {type(targets).__name__}"
        )
    special = set(tokenizer.special_token_ids)
    pieces = {}
    for index, target in enumerate(targets):
        if not isinstance(target, str):
            raise TypeError(
                f"`targets` must hold only strings. Received at index {index}: "
                f"{target!r:.80} of type {type(target).__name__}"
            )
        if not target.strip():
            raise ValueError(
                f"`targets` holds an empty target at index {index}: {target!r}"
            )
        ids = tokenizer(target)
        if len(ids) == 0:
            raise ValueError(
                f"`targets` holds a target that tokenizes to no pieces at index "
                f"{index}: {target[:80]!r}"
            )
        if special & set(ids.tolist()):
            raise ValueError(
                f"`targets` holds a special token ([CLS], [SEP], [MASK]) at index "
                f"{index}: {target[:80]!r}; a target must be plain text."
            )
        pieces.setdefault(tuple(ids.tolist()), None)
    return list(pieces)


def _with_target(text, position, ids):
    """The text's ids and segment ids with `ids` in place of one mask."""
    token_ids = np.concatenate(
        [text.token_ids[:position], ids, text.token_ids[position + 1 :]]
    ).astype("int32")
    segment_ids = np.insert(
        text.segment_ids, position, [text.segment_ids[position]] * (len(ids) - 1)
    )
    return token_ids, segment_ids.astype("int32")


def _ranked(tokenizer, pieces, slot_plan, found, top_k):
    scores = [
        sum(float(found[key][index]) for key, index in answers) for answers in slot_plan
    ]
    order = sorted(range(len(pieces)), key=lambda target: -scores[target])
    return [_target_candidate(tokenizer, pieces[t], scores[t]) for t in order[:top_k]]


def _target_candidate(tokenizer, ids, score):
    piece_texts = [tokenizer.id_to_token(i) for i in ids]
    return {
        "token": tokenizer.detokenize(np.array(ids, "int32")),
        "piece": " ".join(piece_texts),
        "id": ids[0] if len(ids) == 1 else None,
        "ids": list(ids),
        "probability": float(np.exp(score)),
        "score": score,
    }
