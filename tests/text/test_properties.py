"""Property-based tests of the tokenizer, the segment packer and the masker.

Hypothesis draws the inputs. `derandomize=True` and no example database make
every run draw the same examples, so a failure reproduces anywhere.
"""

import functools
import itertools
import math
import queue
import re
from fractions import Fraction

import keras
import numpy as np
import pytest
import sentencepiece
import tensorflow as tf
from helpers import VOCABULARY_PATH
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from albert_mlm import AlbertMaskedLMPreprocessor
from albert_mlm.text.mask_generator import MaskGenerator
from albert_mlm.text.normalization import normalize_text, normalize_text_tf
from albert_mlm.text.segment_packer import TRUNCATION_STRATEGIES, SegmentPacker

# The reference: the `sentencepiece` package reading the test vocabulary.
REFERENCE = sentencepiece.SentencePieceProcessor(model_file=str(VOCABULARY_PATH))
VOCABULARY_SIZE = REFERENCE.get_piece_size()
PAD, UNK, CLS, SEP, MASK = map(
    REFERENCE.piece_to_id, ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
)
UNSELECTABLE = [PAD, CLS, SEP, MASK]
# Written in text, these become one id each.
IN_TEXT_SPECIALS = {"[CLS]": CLS, "[SEP]": SEP, "[MASK]": MASK, "<unk>": UNK}
# Characters that are whole pieces; "▁" is the word boundary, not a character.
PIECE_CHARACTERS = {
    piece
    for piece in map(REFERENCE.id_to_piece, range(VOCABULARY_SIZE))
    if len(piece) == 1 and piece != "▁"
}

# Fixtures are built once per test, not per example: fine, since the
# tokenizer keeps no state between calls.
property_settings = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _np(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


# === Strategies ===

WHITESPACE = [chr(code) for code in range(0x3001) if chr(code).isspace()]
# Characters that stress one step of the pipeline each: combining marks, CJK,
# emoji (with a skin tone and a flag), zero-width and control characters,
# quotes, brackets of the special tokens, SentencePiece's own "▁" and "⁇",
# compatibility forms and case oddities.
NOTABLE_CHARACTERS = list(
    "\u0301\u0308\u0327漢字猫😀👍🏽🇫🇷\u200b\u200d\ufeff\x00\x01\x7f\x9f`'\"[]<>"
    "▁⁇ﬁＡ\u212aİẞΣ"
)
# Quote pairs the normalisation turns into '"'.
QUOTE_PAIRS = ["``", "''"]
# Strings: decomposed accents, whitespace runs, a ZWJ emoji sequence, and
# near misses of the special tokens, which must stay plain text.
NOTABLE_STRINGS = [
    *QUOTE_PAIRS,
    "e\u0301",
    "A\u0308\u0301",
    " \t\u3000\n ",
    "👩\u200d👩\u200d👧",
    "[mask]",
    "[MASK",
    "<UNK>",
    "[ CLS]",
    "<pad>",
]
unicode_characters = st.one_of(
    st.characters(codec="utf-8"), st.sampled_from(WHITESPACE + NOTABLE_CHARACTERS)
)
unicode_text = st.lists(
    st.one_of(
        st.text(unicode_characters, max_size=10), st.sampled_from(NOTABLE_STRINGS)
    ),
    max_size=5,
).map("".join)
# Any text, with the in-text special tokens mixed in.
text_with_specials = st.lists(
    st.one_of(unicode_text, st.sampled_from(list(IN_TEXT_SPECIALS))), max_size=5
).map("".join)
# Text in which no special token is written (NUL is dropped before matching).
plain_text = unicode_text.filter(
    lambda text: (
        not any(token in text.replace("\x00", "") for token in IN_TEXT_SPECIALS)
    )
)
# Whole words of the vocabulary: one or two ids each, so a text's length in
# tokens follows its number of words.
vocabulary_words = sorted(
    piece[1:]
    for piece in map(REFERENCE.id_to_piece, range(VOCABULARY_SIZE))
    if piece.startswith("▁") and len(piece) > 1
)

# TensorFlow flushes subnormal floats to zero on CPU, so a subnormal rate
# would select nothing where ceil(rate * n) is 1: no one asks for such rates.
# Percentages too: the rates people write.
rates = st.one_of(
    st.floats(0, 1, allow_subnormal=False),
    st.integers(0, 100).map(lambda percent: percent / 100),
)
# Selection rates as people write them, up to four decimals: the count must
# be the exact decimal ceil(rate * n), whatever float rounding does.
selection_rates = st.integers(0, 10_000).map(
    lambda ten_thousandths: ten_thousandths / 10_000
)
# (mask_token_rate, random_token_rate), summing to at most 1.
replacement_rates = rates.flatmap(
    lambda mask_rate: st.tuples(
        st.just(mask_rate), st.floats(0, 1 - mask_rate, allow_subnormal=False)
    )
).filter(lambda pair: sum(pair) <= 1)


@functools.cache
def _covered_characters():
    """Characters whose uncased normalisation is only whole pieces and spaces.

    Scans the Basic Multilingual Plane, the mathematical letters (bold,
    italic, ...) and the enclosed alphanumerics ("🄐"): the rest of Unicode
    adds only rare combining marks and digits, and would take seconds.
    """
    allowed = PIECE_CHARACTERS | {" "}
    code_points = itertools.chain(
        range(0xD800),
        range(0xE000, 0x10000),
        range(0x1D400, 0x1D800),
        range(0x1F100, 0x1F200),
    )
    return [
        chr(code) for code in code_points if set(normalize_text(chr(code))) <= allowed
    ]


covered_text = st.lists(
    st.one_of(
        st.text(st.deferred(lambda: st.sampled_from(_covered_characters()))),
        st.sampled_from(QUOTE_PAIRS),
    ),
    max_size=6,
).map("".join)


# === Tokenizer ===


def _decoded_by_reference(text):
    """What decoding the ids of `text` (no special tokens written) gives.

    SentencePiece normalises the uncased text once more (NFKC, whitespace
    runs to one "▁", a "▁" prefix). Each maximal run of characters that are
    not pieces, between two "▁", becomes one `<unk>`, which decodes to " ⁇ ";
    decoding turns "▁" back into spaces and drops the leading one.
    """
    normalized = REFERENCE.normalize(normalize_text(text.replace("\x00", "")))
    known = re.escape("".join(sorted(PIECE_CHARACTERS)) + "▁")
    decoded = re.sub(f"[^{known}]+", " ⁇ ", normalized).replace("▁", " ")
    return decoded.removeprefix(" ")


@property_settings
@given(texts=st.lists(unicode_text.map(lambda text: text.replace("\x00", ""))))
def test_normalization_python_and_tf_agree(texts):
    # The tokenizer drops NUL before normalising, and `tf.strings.lower`
    # would cut a string at its first NUL.
    expected = [normalize_text(text) for text in texts]
    got = normalize_text_tf(tf.constant(texts, tf.string, shape=[len(texts)]))
    assert [text.decode("utf-8") for text in got.numpy()] == expected


@property_settings
@given(text=covered_text)
def test_round_trip_is_exact_on_covered_characters(tokenizer, text):
    ids = tokenizer(text)
    assert UNK not in ids.tolist()
    # SentencePiece also collapses the spaces that decomposition can leave
    # ("¨" becomes a space and a dropped mark).
    assert tokenizer.detokenize(ids) == " ".join(normalize_text(text).split())


@property_settings
@given(text=plain_text)
def test_round_trip_of_any_text(tokenizer, text):
    assert tokenizer.detokenize(tokenizer(text)) == _decoded_by_reference(text)


@property_settings
@given(
    first=plain_text,
    rest=st.lists(
        st.tuples(st.sampled_from(list(IN_TEXT_SPECIALS)), plain_text), max_size=4
    ),
)
def test_ids_are_reference_pieces_between_special_tokens(tokenizer, first, rest):
    # No special token can span a joint: every one of them starts with its
    # only "[" or "<".
    parts = [first, *itertools.chain.from_iterable(rest)]
    expected = []
    for index, part in enumerate(parts):
        if index % 2:
            expected.append(IN_TEXT_SPECIALS[part])
        else:
            expected.extend(REFERENCE.encode(normalize_text(part.replace("\x00", ""))))
    assert tokenizer("".join(parts)).tolist() == expected


@pytest.fixture
def tf_data_tokenize(tokenizer):
    """Tokenize and detokenize batches in one long-lived `tf.data` pipeline."""
    requests = queue.Queue()

    def batches():
        while (texts := requests.get()) is not None:
            yield texts

    def tokenize_and_detokenize(texts):
        ids = tokenizer(texts)
        return ids, tokenizer.detokenize(ids)

    dataset = tf.data.Dataset.from_generator(
        batches, output_signature=tf.TensorSpec([None], tf.string)
    ).map(tokenize_and_detokenize)
    iterator = iter(dataset)

    def run(texts):
        requests.put(tf.constant(texts, tf.string, shape=[len(texts)]))
        ids, detokenized = next(iterator)
        return ids.to_list(), [text.decode("utf-8") for text in detokenized.numpy()]

    yield run
    requests.put(None)


@property_settings
@given(texts=st.lists(text_with_specials, max_size=4))
def test_eager_and_tf_data_agree(tokenizer, tf_data_tokenize, texts):
    eager_ids = [row.tolist() for row in tokenizer(texts)]
    ids, detokenized = tf_data_tokenize(texts)
    assert ids == eager_ids
    # Row by row: eagerly, an empty list reads as one empty sequence.
    assert detokenized == [tokenizer.detokenize(row) for row in eager_ids]


# === Packing ===


def _check_packed_row(token_ids, segment_ids, segments, sequence_length, truncate):
    """Check one packed row against its segments' full token ids.

    The tokens kept from each segment are read off the output (segment ids
    and padding), then the whole row, its segment ids and the truncation
    rule's allocation are checked.
    """
    assert len(token_ids) == len(segment_ids) == sequence_length
    num_real = int((token_ids != PAD).sum())  # Content never holds padding.
    kept = [int((segment_ids == 1).sum()) - 1] if len(segments) == 2 else []
    kept.insert(0, num_real - 1 - len(segments) - sum(kept))
    expected_ids, expected_segment_ids = [CLS], [0]
    for index, (segment, count) in enumerate(zip(segments, kept, strict=True)):
        assert 0 <= count <= len(segment)
        expected_ids += [*segment[:count], SEP]
        expected_segment_ids += [index] * (count + 1)
    padding = sequence_length - num_real
    assert token_ids.tolist() == expected_ids + [PAD] * padding
    assert segment_ids.tolist() == expected_segment_ids + [0] * padding

    budget = sequence_length - 1 - len(segments)
    lengths = [len(segment) for segment in segments]
    assert sum(kept) == min(budget, sum(lengths))
    if truncate == "waterfall":
        assert kept[0] == min(lengths[0], budget)
    elif len(segments) == 2 and kept[0] < lengths[0] and kept[1] < lengths[1]:
        # Both cut: one token to each in turn, the first segment first.
        assert kept[0] - kept[1] in (0, 1)


# Content ids: `<unk>` and ordinary pieces, never a special token.
content_ids = st.one_of(st.just(UNK), st.integers(MASK + 1, VOCABULARY_SIZE - 1))


@st.composite
def packing_cases(draw, segment_of_size, min_sequence_length):
    """`(sequence_length, batch)` with one or two segments per example.

    Segment sizes are on the scale of `sequence_length`, so that segments fit,
    just fit, or are cut (one or both of them).
    """
    sequence_length = draw(st.integers(min_sequence_length, 24))
    num_segments = draw(st.integers(1, 2))
    segment = st.integers(0, sequence_length + 2).flatmap(segment_of_size)
    examples = st.lists(segment, min_size=num_segments, max_size=num_segments)
    return sequence_length, draw(st.lists(examples, min_size=1, max_size=3))


def _ids_of_size(size):
    return st.lists(content_ids, min_size=size, max_size=size)


def _text_of_size(size):
    words = st.sampled_from(vocabulary_words + list(IN_TEXT_SPECIALS))
    word_text = st.lists(words, min_size=size, max_size=size).map(" ".join)
    return st.one_of(word_text, text_with_specials)


@pytest.mark.parametrize("truncate", TRUNCATION_STRATEGIES)
@property_settings
@given(case=packing_cases(_ids_of_size, min_sequence_length=1))
def test_segment_packer(truncate, case):
    sequence_length, batch = case
    num_segments = len(batch[0])
    segments = tuple(
        tf.ragged.constant([row[index] for row in batch], tf.int32, ragged_rank=1)
        for index in range(num_segments)
    )
    packer = SegmentPacker(CLS, SEP, PAD, sequence_length, truncate)
    if sequence_length < 1 + num_segments:
        with pytest.raises(ValueError, match="leaves no room for"):
            packer(segments)
        return
    token_ids, segment_ids = (tensor.numpy() for tensor in packer(segments))
    assert token_ids.shape == segment_ids.shape == (len(batch), sequence_length)
    for row, row_segments in enumerate(batch):
        _check_packed_row(
            token_ids[row], segment_ids[row], row_segments, sequence_length, truncate
        )


def _preprocessor_inputs(batch):
    """A batch of one or two segments per example, as the preprocessor takes it."""
    return tuple(list(segments) for segments in zip(*batch, strict=True))


@pytest.mark.parametrize("truncate", TRUNCATION_STRATEGIES)
@property_settings
@given(case=packing_cases(_text_of_size, min_sequence_length=3))
def test_preprocessor_packing(tokenizer, truncate, case):
    sequence_length, batch = case
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=sequence_length,
        truncate=truncate,
        mask_selection_rate=0.0,
        mask_selection_length=1,
    )
    x, _, sample_weight = preprocessor(_preprocessor_inputs(batch))
    token_ids, segment_ids = _np(x["token_ids"]), _np(x["segment_ids"])
    assert not _np(sample_weight).any()
    np.testing.assert_array_equal(_np(x["padding_mask"]), token_ids != PAD)
    for row, texts in enumerate(batch):
        segments = [tokenizer(text).tolist() for text in texts]
        _check_packed_row(
            token_ids[row], segment_ids[row], segments, sequence_length, truncate
        )


# === Masking ===


def _check_masking(original, outputs, selection_rate, selection_length, rates):
    """Check a masker's numpy `outputs` against the unmasked `original` ids."""
    mask_token_rate, random_token_rate = rates
    batch_size, length = original.shape
    token_ids, positions = outputs["token_ids"], outputs["mask_positions"]
    mask_ids, weights = outputs["mask_ids"], outputs["mask_weights"]
    assert token_ids.shape == original.shape
    for tensor in (positions, mask_ids, weights):
        assert tensor.shape == (batch_size, selection_length)
    for row in range(batch_size):
        num_selectable = int((~np.isin(original[row], UNSELECTABLE)).sum())
        # Exact decimal arithmetic: 0.07 * 100 selects 7, although the float
        # product is just above 7.
        exact = Fraction(str(selection_rate)) * num_selectable
        count = min(math.ceil(exact), selection_length)
        assert weights[row].tolist() == [1.0] * count + [0.0] * (
            selection_length - count
        )
        selected = positions[row][:count]
        assert len(set(selected.tolist())) == count
        assert ((selected >= 0) & (selected < length)).all()
        assert not np.isin(original[row][selected], UNSELECTABLE).any()
        np.testing.assert_array_equal(mask_ids[row][:count], original[row][selected])
        # Unused slots hold position 0 and id 0.
        assert not positions[row][count:].any() and not mask_ids[row][count:].any()
        unselected = np.setdiff1d(np.arange(length), selected)
        np.testing.assert_array_equal(
            token_ids[row][unselected], original[row][unselected]
        )
        replaced = token_ids[row][selected]
        assert ((replaced >= 0) & (replaced < VOCABULARY_SIZE)).all()
        if mask_token_rate == 1:
            assert (replaced == MASK).all()
        if mask_token_rate + random_token_rate == 0:
            np.testing.assert_array_equal(replaced, original[row][selected])


token_batches = st.integers(1, 20).flatmap(
    lambda length: st.lists(
        st.lists(
            st.one_of(st.sampled_from([PAD, UNK, CLS, SEP, MASK]), content_ids),
            min_size=length,
            max_size=length,
        ),
        max_size=4,
    ).map(lambda rows: np.asarray(rows, "int32").reshape(len(rows), length))
)


@property_settings
@given(
    token_ids=token_batches,
    selection_rate=selection_rates,
    selection_length=st.integers(1, 24),
    replacement=replacement_rates,
)
# In float32, 0.6 * 25 is 15.000001, whose ceiling would select 16, not 15;
# in float64, 0.07 * 100 is 7.000000000000001, whose ceiling would select 8.
@example(
    token_ids=np.full((1, 25), MASK + 1, "int32"),
    selection_rate=0.6,
    selection_length=24,
    replacement=(0.8, 0.1),
)
@example(
    token_ids=np.full((1, 100), MASK + 1, "int32"),
    selection_rate=0.07,
    selection_length=24,
    replacement=(0.8, 0.1),
)
def test_mask_generator(token_ids, selection_rate, selection_length, replacement):
    masker = MaskGenerator(
        VOCABULARY_SIZE,
        MASK,
        UNSELECTABLE,
        mask_selection_rate=selection_rate,
        mask_selection_length=selection_length,
        mask_token_rate=replacement[0],
        random_token_rate=replacement[1],
    )
    outputs = {key: value.numpy() for key, value in masker(token_ids).items()}
    _check_masking(token_ids, outputs, selection_rate, selection_length, replacement)


@property_settings
@given(
    case=packing_cases(_text_of_size, min_sequence_length=3),
    selection_rate=selection_rates,
    selection_length=st.integers(1, 8),
    replacement=replacement_rates,
)
def test_preprocessor_masking(
    tokenizer, case, selection_rate, selection_length, replacement
):
    sequence_length, batch = case
    lengths = dict(
        sequence_length=sequence_length, mask_selection_length=selection_length
    )
    inputs = _preprocessor_inputs(batch)
    unmasked, _, _ = AlbertMaskedLMPreprocessor(
        tokenizer, mask_selection_rate=0.0, **lengths
    )(inputs)
    x, y, sample_weight = AlbertMaskedLMPreprocessor(
        tokenizer,
        mask_selection_rate=selection_rate,
        mask_token_rate=replacement[0],
        random_token_rate=replacement[1],
        **lengths,
    )(inputs)
    for key in ("padding_mask", "segment_ids"):
        np.testing.assert_array_equal(_np(x[key]), _np(unmasked[key]))
    outputs = {
        "token_ids": _np(x["token_ids"]),
        "mask_positions": _np(x["mask_positions"]),
        "mask_ids": _np(y),
        "mask_weights": _np(sample_weight),
    }
    _check_masking(
        _np(unmasked["token_ids"]),
        outputs,
        selection_rate,
        selection_length,
        replacement,
    )
