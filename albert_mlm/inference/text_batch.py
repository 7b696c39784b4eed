"""Texts as inference reads them: checked, tokenized and packed
`[CLS] a [SEP] (b [SEP])`, and never truncated.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> (text,), is_single = encode_texts(masked_lm, ("the [mask] sat.", "a dog."))
>>> mask_token_id = masked_lm.preprocessor.tokenizer.mask_token_id
>>> is_single, text.token_ids.tolist().count(mask_token_id)
(True, 1)
>>> text.segment_ids.tolist() == [0] * 6 + [1] * 4
True
"""

import re
from typing import NamedTuple

import numpy as np

from albert_mlm.datasets.batches import packed_rows

# `[MASK]` as a person types it: any case, as the uncased presets read text.
_MASK_IN_TEXT = re.compile(re.escape("[MASK]"), re.IGNORECASE)
_TEXTS_KINDS = (
    "a string, a list of strings, or a tuple of two lists of strings "
    "(sentence pairs; a tuple of two strings is one pair)"
)


class EncodedText(NamedTuple):
    """One text (or sentence pair), packed without padding."""

    shown: str  # The text as error messages quote it.
    token_ids: np.ndarray  # int32: [CLS] a [SEP] (b [SEP])
    segment_ids: np.ndarray  # int32: 0 up to the first [SEP], then 1


def encode_texts(masked_lm, texts):
    """`(list of EncodedText, is_single)` for what `fill_mask`/`score` take.

    `is_single` is True when `texts` was one string or one pair, whose
    result the caller returns unwrapped. `[MASK]` is recognised in any case.
    Raises `TypeError` for anything but strings, `ValueError` for an empty
    text or one longer than the preprocessor's `sequence_length`.
    """
    preprocessor = masked_lm.preprocessor
    if preprocessor is None:
        raise ValueError(
            "This AlbertMaskedLM has no preprocessor; fill_mask and score need "
            "one (for its tokenizer and sequence_length)."
        )
    segments, is_single = _as_segments(texts)
    tokenizer = preprocessor.tokenizer
    columns = [
        tokenizer([_MASK_IN_TEXT.sub("[MASK]", text) for text in column])
        for column in zip(*segments)
    ]
    shown = [_shown(texts_of_row) for texts_of_row in segments]
    for index, (texts_of_row, rows) in enumerate(zip(segments, zip(*columns))):
        for text, row in zip(texts_of_row, rows):
            if len(row) == 0:
                raise ValueError(
                    f"`texts` holds an empty text (no pieces once tokenized) at "
                    f"index {index}: {text[:80]!r}"
                )
        length = 1 + sum(len(row) + 1 for row in rows)
        _require_fits(masked_lm, shown[index], length)
    encoded = [
        EncodedText(text, token_ids, segment_ids)
        for text, (token_ids, segment_ids) in zip(
            shown, packed_rows(tokenizer, columns)
        )
    ]
    return encoded, is_single


def too_long_message(masked_lm, what, length):
    """The error for `what` (a quoted text) being `length` tokens long."""
    limit = masked_lm.preprocessor.sequence_length
    most = masked_lm.backbone.max_sequence_length
    if limit < most:
        advice = (
            f"raise it, up to the model's {most}, with `sequence_length=` in "
            "from_preset or --sequence-length"
        )
    else:
        # Advice to raise a limit already at the model's would send the user
        # round in circles.
        advice = f"the model reads at most {most} tokens: shorten the text"
    return (
        f"{what} is {length} tokens long with [CLS] and [SEP], {length - limit} "
        f"more than the sequence_length {limit} allows ({advice})."
    )


def _require_fits(masked_lm, shown, length):
    if length > masked_lm.preprocessor.sequence_length:
        raise ValueError(too_long_message(masked_lm, f"The text {shown}", length))


def _as_segments(texts):
    """`(list of 1- or 2-tuples of strings, is_single)`."""
    if isinstance(texts, str):
        return [(texts,)], True
    if isinstance(texts, list):
        return [(text,) for text in _strings(texts)], False
    if isinstance(texts, tuple) and len(texts) == 2:
        if all(isinstance(text, str) for text in texts):
            return [texts], True
        if all(isinstance(column, list | tuple) for column in texts):
            first, second = (_strings(column) for column in texts)
            if len(first) != len(second):
                raise ValueError(
                    "`texts` as sentence pairs needs two lists of equal length. "
                    f"Received lists of {len(first)} and {len(second)} texts."
                )
            return list(zip(first, second)), False
    raise TypeError(
        f"`texts` must be {_TEXTS_KINDS}. Received: texts={texts!r:.80} of type "
        f"{type(texts).__name__}"
    )


def _strings(column):
    for index, text in enumerate(column):
        if not isinstance(text, str):
            raise TypeError(
                f"`texts` must hold only strings. Received at index {index}: "
                f"{text!r:.80} of type {type(text).__name__}"
            )
    return list(column)


def _shown(texts_of_row):
    if len(texts_of_row) == 1:
        return repr(texts_of_row[0][:80])
    first, second = texts_of_row
    return f"pair ({first[:40]!r}, {second[:40]!r})"
