"""ALBERT's whole-word and n-gram masking: properties, statistics and seeds."""

import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_mlm import AlbertMaskedLMPreprocessor
from albert_mlm.text.mask_generator import MaskGenerator
from albert_mlm.text.word_spans import word_start_table

PAD, CLS, SEP, MASK = 0, 2, 3, 4
UNSELECTABLE = [PAD, CLS, SEP, MASK]
WORD_STRATEGIES = ["whole_word", "ngram"]
WORDS = (
    "the quick brown fox jumped over lazy dog . , a cat sat near river 12 "
    "apples for 3.50 euros ! every morning farmer reads letter old town ? "
    "clever robot quietly visit station bicycle ocean children naïve café"
).split()


def _np(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _texts(count, min_words, max_words, seed, specials=False):
    rng = random.Random(seed)
    words = WORDS + (["[MASK]", "[CLS]", "[SEP]", "<unk>"] if specials else [])
    return [
        " ".join(rng.choice(words) for _ in range(rng.randint(min_words, max_words)))
        for _ in range(count)
    ]


def _packed(tokenizer, texts, sequence_length):
    """The packed, unmasked ids of `texts`, as a TensorFlow tensor."""
    packer = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=sequence_length, mask_selection_rate=0.0
    )
    return tf.constant(_np(packer.pack(texts)["token_ids"]))


def _masker(tokenizer, strategy, **settings):
    return MaskGenerator(
        tokenizer.vocabulary_size(),
        MASK,
        UNSELECTABLE,
        mask_strategy=strategy,
        word_starts=word_start_table(tokenizer.get_vocabulary()),
        **settings,
    )


def _words(row, starts_word):
    """`[start, end)` of every word of a packed row, by the definition: a
    "▁" piece, or any piece right after a special token, and the pieces
    after it without "▁"."""
    words = []
    for position, token in enumerate(row):
        if token in UNSELECTABLE:
            continue
        if starts_word[token] or not words or words[-1][1] != position:
            words.append([position, position + 1])
        else:
            words[-1][1] = position + 1
    return words


def _budget(row, rate, mask_selection_length):
    num_selectable = int((~np.isin(row, UNSELECTABLE)).sum())
    return min(int(np.ceil(round(rate * num_selectable, 9))), mask_selection_length)


def _check_spans(token_ids, selected, span_words, starts_word, settings, max_ngram):
    """Every invariant of one selection; returns the span lengths in words."""
    lengths = []
    for row, chosen, spans in zip(token_ids, selected, span_words, strict=True):
        words = _words(row, starts_word)
        word_at = {start: index for index, (start, _) in enumerate(words)}
        covered = np.zeros(len(row), bool)
        for start in np.flatnonzero(spans):
            count = int(spans[start])
            assert 1 <= count <= max_ngram
            span = words[word_at[start] : word_at[start] + count]
            assert len(span) == count
            # Consecutive words of one stretch: no special token inside.
            assert all(a[1] == b[0] for a, b in zip(span, span[1:]))
            assert not covered[span[0][0] : span[-1][1]].any()  # No overlap.
            covered[span[0][0] : span[-1][1]] = True
            lengths.append(count)
        np.testing.assert_array_equal(covered, chosen)
        assert not np.isin(row[chosen], UNSELECTABLE).any()
        for start, end in words:  # A word is selected whole or not at all.
            assert chosen[start:end].all() or not chosen[start:end].any()
        assert chosen.sum() <= _budget(row, **settings)
    return lengths


@pytest.mark.parametrize("strategy", WORD_STRATEGIES)
def test_selection_takes_whole_words_in_disjoint_spans(tokenizer, strategy):
    texts = _texts(24, 0, 30, seed=1, specials=True) + ["", "[MASK] [CLS] <unk>"]
    pairs = (texts, _texts(26, 0, 12, seed=2, specials=True))
    starts_word = word_start_table(tokenizer.get_vocabulary())
    for settings in (
        dict(rate=0.15, mask_selection_length=20),
        dict(rate=0.5, mask_selection_length=6),
        dict(rate=1.0, mask_selection_length=64),
    ):
        masker = _masker(
            tokenizer,
            strategy,
            mask_selection_rate=settings["rate"],
            mask_selection_length=settings["mask_selection_length"],
        )
        for inputs in (texts, pairs):
            token_ids = _packed(tokenizer, inputs, sequence_length=48)
            for seed in range(3):
                selected, span_words = masker.select(token_ids, seed=[seed, 0])
                _check_spans(
                    token_ids.numpy(),
                    selected.numpy(),
                    span_words.numpy(),
                    starts_word,
                    settings,
                    max_ngram=3 if strategy == "ngram" else 1,
                )


@pytest.mark.parametrize("strategy", WORD_STRATEGIES)
def test_outputs_mask_the_selected_words(tokenizer, strategy):
    settings = dict(sequence_length=40, mask_selection_length=8)
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, mask_selection_rate=0.3, mask_strategy=strategy, **settings
    )
    texts = _texts(30, 0, 40, seed=3, specials=True)
    original = _np(preprocessor.pack(texts)["token_ids"])
    starts_word = word_start_table(tokenizer.get_vocabulary())
    x, y, weight = preprocessor(texts, seed=[4, 5])
    token_ids, positions = _np(x["token_ids"]), _np(x["mask_positions"])
    y, weight = _np(y), _np(weight)
    assert positions.shape == y.shape == weight.shape == (30, 8)
    for row in range(30):
        count = int(weight[row].sum())
        assert count <= _budget(original[row], 0.3, 8)
        assert (weight[row][:count] == 1).all() and (weight[row][count:] == 0).all()
        used = positions[row][:count]
        assert (np.diff(used) > 0).all()  # Sorted, no repeats.
        assert (positions[row][count:] == 0).all() and (y[row][count:] == 0).all()
        np.testing.assert_array_equal(y[row][:count], original[row][used])
        chosen = np.zeros(40, bool)
        chosen[used] = True
        for start, end in _words(original[row], starts_word):
            assert chosen[start:end].all() or not chosen[start:end].any()
        np.testing.assert_array_equal(token_ids[row][~chosen], original[row][~chosen])


def test_ngram_span_lengths_follow_one_over_n(tokenizer):
    # Long rows (budget about 75 tokens), so the budget's end matters little.
    token_ids = _packed(tokenizer, _texts(32, 400, 400, seed=6), sequence_length=512)
    masker = _masker(tokenizer, "ngram", mask_selection_length=96)
    counts, selected_fractions = np.zeros(4), []
    selectable = ~np.isin(token_ids.numpy(), UNSELECTABLE)
    budgets = np.array([_budget(row, 0.15, 96) for row in token_ids.numpy()])
    for seed in range(40):
        selected, span_words = masker.select(token_ids, seed=[seed, 1])
        span_words = span_words.numpy()
        counts += np.bincount(span_words[span_words > 0], minlength=4)
        assert (selected.numpy().sum(axis=1) <= budgets).all()
        selected_fractions.append(selected.numpy().sum() / selectable.sum())
    assert counts[0] == 0 and counts.sum() > 30000
    histogram = counts[1:] / counts.sum()
    np.testing.assert_allclose(histogram, np.array([6, 3, 2]) / 11, atol=0.02)
    # The first span that no longer fits ends the selection: a token or two
    # of the budget's 75 stay unused.
    budget_fraction = budgets.sum() / selectable.sum()
    assert budget_fraction - 0.03 < np.mean(selected_fractions) <= budget_fraction


def test_whole_words_fill_the_budget(tokenizer):
    token_ids = _packed(tokenizer, _texts(64, 5, 60, seed=7), sequence_length=64)
    masker = _masker(tokenizer, "whole_word", mask_selection_length=16)
    budgets = np.array([_budget(row, 0.15, 16) for row in token_ids.numpy()])
    selectable = ~np.isin(token_ids.numpy(), UNSELECTABLE)
    counts = []
    for seed in range(10):
        selected, span_words = masker.select(token_ids, seed=[seed, 2])
        counts.append(selected.numpy().sum(axis=1))
        assert set(np.unique(span_words.numpy())) <= {0, 1}
    counts = np.array(counts)
    assert (counts <= budgets).all()
    # Filled exactly unless no word left fits: nearly always, with the
    # single-piece words of this vocabulary.
    assert (counts == budgets).mean() > 0.95
    fractions = counts.sum(axis=1) / selectable.sum()
    assert abs(fractions.mean() - 0.15) < 0.02


@pytest.mark.parametrize("strategy", WORD_STRATEGIES)
def test_replacements_split_80_10_10(tokenizer, strategy):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=128,
        mask_selection_length=32,
        mask_strategy=strategy,
    )
    texts = _texts(64, 100, 120, seed=8)
    original = _np(preprocessor.pack(texts)["token_ids"])
    rows = np.arange(len(texts))[:, None]
    counts = {"mask": 0, "same": 0, "random": 0}
    for seed in range(6):
        x, y, weight = preprocessor(texts, seed=[seed, 3])
        used = _np(weight).astype(bool)
        positions = _np(x["mask_positions"])
        new = _np(x["token_ids"])[rows, positions][used]
        old = original[rows, positions][used]
        counts["mask"] += int((new == MASK).sum())
        counts["same"] += int((new == old).sum())
        counts["random"] += int(((new != MASK) & (new != old)).sum())
    total = sum(counts.values())
    assert total > 6000
    size = tokenizer.vocabulary_size()
    # A random id is [MASK] or the original with chance 1/size each.
    expected = {"mask": 0.8 + 0.1 / size, "same": 0.1 + 0.1 / size}
    expected["random"] = 1 - expected["mask"] - expected["same"]
    for key, value in expected.items():
        assert abs(counts[key] / total - value) < 0.02, (key, counts)


def test_token_strategy_is_the_default(tokenizer):
    texts = _texts(12, 0, 30, seed=9, specials=True)
    default = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=32)
    explicit = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=32, mask_strategy="token", max_ngram=5
    )
    for seed in ([1, 2], [3, 4]):
        expected = tf.nest.flatten(default(texts, seed=seed))
        for a, b in zip(expected, tf.nest.flatten(explicit(texts, seed=seed))):
            np.testing.assert_array_equal(_np(a), _np(b))


def test_seeded_masking_is_the_same_eagerly_and_in_tf_data(tokenizer):
    preprocessors = [
        AlbertMaskedLMPreprocessor(
            tokenizer, sequence_length=32, mask_selection_length=8, mask_strategy=s
        )
        for s in WORD_STRATEGIES
    ]
    texts = _texts(6, 5, 30, seed=10, specials=True)
    # One pipeline for both strategies: tracing the tokenizer is the cost.
    dataset = (
        tf.data.Dataset.from_tensor_slices(texts)
        .batch(6)
        .map(lambda batch: [p(batch, seed=[11, 12]) for p in preprocessors])
    )
    (mapped,) = list(dataset)
    for preprocessor, outputs in zip(preprocessors, mapped, strict=True):
        eager = preprocessor(texts, seed=[11, 12])
        for a, b in zip(tf.nest.flatten(eager), tf.nest.flatten(outputs), strict=True):
            np.testing.assert_array_equal(_np(a), b.numpy())

        def positions(seed=None, preprocessor=preprocessor):
            return _np(preprocessor(texts, seed=seed)[0]["mask_positions"])

        np.testing.assert_array_equal(positions([11, 12]), positions([11, 12]))
        assert not np.array_equal(positions([11, 13]), positions([11, 12]))
        assert not np.array_equal(positions(), positions())
