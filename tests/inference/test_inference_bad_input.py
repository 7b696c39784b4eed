"""Bad input to `AlbertMaskedLM.fill_mask` and `AlbertMaskedLM.score`: each
refused, before any model call, with an error naming the argument and the
value received (texts are never truncated, and a text too long says by how
much). One table: the call, the error's type, a part of its message.

Scope: the Python inference API only. The same checks reached through the
`fill-mask` command are in `tests/cli/test_fill_mask_inputs.py`; the other
entry points' bad inputs are in `tests/test_bad_inputs.py`."""

import re

import pytest

LIMIT = 32  # The checkpoint's sequence_length and max_sequence_length.
AT_LIMIT = "[MASK]" + " dog" * (LIMIT - 3)  # [CLS] [MASK] dog x 29 [SEP]
# Messages quote a text's first 80 characters (a pair's, 40 of each).
NOT_TEXTS = (
    "`texts` must be a string, a list of strings, or a tuple of two lists of "
    "strings (sentence pairs; a tuple of two strings is one pair). Received: "
)


def _too_long(length):
    return (
        f"is {length} tokens long with [CLS] and [SEP], {length - LIMIT} more than "
        f"the sequence_length {LIMIT} allows (the model reads at most {LIMIT} "
        "tokens: shorten the text)."
    )


def _fill_mask(*args, **kwargs):
    return lambda masked_lm: masked_lm.fill_mask(*args, **kwargs)


def _score(*args, **kwargs):
    return lambda masked_lm: masked_lm.score(*args, **kwargs)


BAD_INPUTS = [
    # --- texts: kinds ---
    pytest.param(
        _fill_mask(5), TypeError, NOT_TEXTS + "texts=5 of type int", id="texts-int"
    ),
    pytest.param(
        _fill_mask(None),
        TypeError,
        NOT_TEXTS + "texts=None of type NoneType",
        id="texts-none",
    ),
    pytest.param(
        _score(5), TypeError, NOT_TEXTS + "texts=5 of type int", id="score-texts-int"
    ),
    pytest.param(
        _fill_mask([b"the [MASK]."]),
        TypeError,
        "`texts` must hold only strings. Received at index 0: b'the [MASK].' of "
        "type bytes",
        id="texts-bytes",
    ),
    pytest.param(
        _score(["a dog.", None]),
        TypeError,
        "`texts` must hold only strings. Received at index 1: None of type NoneType",
        id="score-texts-none-in-list",
    ),
    pytest.param(
        _fill_mask(("the [MASK].",)),
        TypeError,
        NOT_TEXTS + "texts=('the [MASK].',) of type tuple",
        id="texts-tuple-of-one",
    ),
    pytest.param(
        _fill_mask((["the [MASK]."], ["a dog.", "a cat."])),
        ValueError,
        "`texts` as sentence pairs needs two lists of equal length. Received "
        "lists of 1 and 2 texts.",
        id="pairs-of-unequal-lists",
    ),
    # --- texts: empty, too long, [MASK] ---
    pytest.param(
        _fill_mask(""),
        ValueError,
        "`texts` holds an empty text (no pieces once tokenized) at index 0: ''",
        id="empty-text",
    ),
    pytest.param(
        _score(["a dog.", "   "]),
        ValueError,
        "`texts` holds an empty text (no pieces once tokenized) at index 1: '   '",
        id="score-blank-text",
    ),
    pytest.param(
        _fill_mask(("the [MASK].", "")),
        ValueError,
        "`texts` holds an empty text (no pieces once tokenized) at index 0: ''",
        id="pair-with-empty-second-text",
    ),
    pytest.param(
        _fill_mask("a dog sat."),
        ValueError,
        "No [MASK] in the text 'a dog sat.'.",
        id="no-mask",
    ),
    pytest.param(
        _fill_mask(["the [MASK] sat.", "a dog sat."]),
        ValueError,
        "No [MASK] in the text 'a dog sat.'.",
        id="no-mask-in-the-second-text",
    ),
    pytest.param(
        _fill_mask(AT_LIMIT + " dog"),
        ValueError,
        f"The text {(AT_LIMIT + ' dog')[:80]!r} " + _too_long(LIMIT + 1),
        id="one-piece-too-long",
    ),
    pytest.param(
        _fill_mask(AT_LIMIT + " dog" * 5, decoding="joint"),
        ValueError,
        _too_long(LIMIT + 5),
        id="five-pieces-too-long-joint",
    ),
    pytest.param(
        _fill_mask(("the [MASK] sat.", "a" + " dog" * 23)),
        ValueError,
        "The text pair ('the [MASK] sat.', 'a dog dog dog dog dog dog dog dog dog "
        "do') " + _too_long(LIMIT + 1),
        id="pair-too-long",
    ),
    pytest.param(
        _score(AT_LIMIT.replace("[MASK]", "dog") + " dog dog"),
        ValueError,
        _too_long(LIMIT + 2),
        id="score-too-long",
    ),
    pytest.param(
        _fill_mask(AT_LIMIT, targets=["dog", "the"]),
        ValueError,
        f"The text {AT_LIMIT[:80]!r} with the target 'the' (2 pieces) in place of "
        "[MASK] 1 " + _too_long(LIMIT + 1),
        id="target-makes-the-text-too-long",
    ),
    pytest.param(
        _score("the [MASK] sat."),
        ValueError,
        "`texts` holds a [MASK] in the text 'the [MASK] sat.'; score rates text "
        "as written: fill the mask first (fill_mask).",
        id="score-mask",
    ),
    pytest.param(
        _score(("a dog.", "the [mask] sat.")),
        ValueError,
        "`texts` holds a [MASK] in the text pair ('a dog.', 'the [mask] sat.')",
        id="score-lowercase-mask-in-pair",
    ),
    pytest.param(
        _score("[SEP]"),
        ValueError,
        "`texts` holds a text with no pieces to score (only special tokens): '[SEP]'",
        id="score-only-special-tokens",
    ),
    # --- top_k, batch_size, decoding, per_token ---
    pytest.param(
        _fill_mask("the [MASK].", top_k=0),
        ValueError,
        "`top_k` must be a positive integer. Received: top_k=0",
        id="top-k-zero",
    ),
    pytest.param(
        _fill_mask("the [MASK].", top_k=2.0),
        ValueError,
        "`top_k` must be a positive integer. Received: top_k=2.0",
        id="top-k-float",
    ),
    pytest.param(
        _score("a dog.", batch_size=0),
        ValueError,
        "`batch_size` must be a positive integer. Received: batch_size=0",
        id="score-batch-size-zero",
    ),
    pytest.param(
        _fill_mask("the [MASK].", decoding="beam"),
        ValueError,
        "`decoding` must be one of ['independent', 'joint']. Received: decoding='beam'",
        id="unknown-decoding",
    ),
    pytest.param(
        _fill_mask("the [MASK].", targets=["dog"], decoding="joint"),
        ValueError,
        "`targets` are scored at each mask independently; they cannot be "
        "combined with decoding='joint'.",
        id="targets-with-joint",
    ),
    pytest.param(
        _score("a dog.", per_token="yes"),
        TypeError,
        "`per_token` must be True or False. Received: per_token='yes' of type str",
        id="score-per-token-string",
    ),
    # --- targets ---
    pytest.param(
        _fill_mask("the [MASK].", targets=["dog", ""]),
        ValueError,
        "`targets` holds an empty target at index 1: ''",
        id="empty-target",
    ),
    pytest.param(
        _fill_mask("the [MASK].", targets=" "),
        ValueError,
        "`targets` holds an empty target at index 0: ' '",
        id="blank-target-string",
    ),
    pytest.param(
        _fill_mask("the [MASK].", targets=["\u200b"]),
        ValueError,
        "`targets` holds a target that tokenizes to no pieces at index 0: '\\u200b'",
        id="target-of-no-pieces",
    ),
    pytest.param(
        _fill_mask("the [MASK].", targets=["[SEP]"]),
        ValueError,
        "`targets` holds a special token ([CLS], [SEP], [MASK]) at index 0: "
        "'[SEP]'; a target must be plain text.",
        id="special-token-target",
    ),
    pytest.param(
        _fill_mask("the [MASK].", targets=[]),
        TypeError,
        "`targets` must be a non-empty list of strings. Received: targets=[] of "
        "type list",
        id="no-targets",
    ),
    pytest.param(
        _fill_mask("the [MASK].", targets=["dog", 5]),
        TypeError,
        "`targets` must hold only strings. Received at index 1: 5 of type int",
        id="target-int",
    ),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_bad_input_is_refused_naming_the_argument_and_value(
    checkpoint_masked_lm, call, error, message, monkeypatch
):
    assert checkpoint_masked_lm.preprocessor.sequence_length == LIMIT

    def no_model_call(*args, **kwargs):
        raise AssertionError("the model ran on bad input")

    monkeypatch.setattr(checkpoint_masked_lm, "predict_on_batch", no_model_call)
    with pytest.raises(error, match=re.escape(message)):
        call(checkpoint_masked_lm)
