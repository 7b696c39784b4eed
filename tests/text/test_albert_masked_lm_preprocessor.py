"""Tests of `AlbertMaskedLMPreprocessor`: packing, masking, tf.data, config."""

import json
import math
import random
from fractions import Fraction

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import (
    ACCENTED_GOLDENS,
    KERAS_HUB_TOKENIZATION,
    MASK_GOLDENS,
    VOCABULARY_PATH,
)

from albert_mlm import AlbertMaskedLMPreprocessor, AlbertTokenizer

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
UNSELECTABLE = [PAD, CLS, SEP, MASK]
VOCABULARY_SIZE = 400
X_KEYS = {"token_ids", "padding_mask", "segment_ids", "mask_positions"}

GOLDENS = KERAS_HUB_TOKENIZATION


WORDS = (
    "the quick brown fox jumped over lazy dog . , a cat sat near river "
    "12 apples for 3.50 euros ! every morning farmer reads letter old town "
    "? clever robot quietly visit station bicycle ocean children"
).split()


def _np(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def _dtype(tensor):
    return keras.backend.standardize_dtype(tensor.dtype)


def _random_texts(count, min_words, max_words, seed, specials=False):
    rng = random.Random(seed)
    words = WORDS + (["[MASK]", "[CLS]", "[SEP]", "<unk>"] if specials else [])
    return [
        " ".join(rng.choice(words) for _ in range(rng.randint(min_words, max_words)))
        for _ in range(count)
    ]


def _expected_selections(rate, num_selectable, mask_selection_length):
    # Exact rational arithmetic: ceil(rate * n), capped.
    return min(math.ceil(Fraction(str(rate)) * num_selectable), mask_selection_length)


def _packer_only(tokenizer, sequence_length=16, **kwargs):
    """A preprocessor that masks nothing: its outputs are the packed ids."""
    return AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=sequence_length,
        mask_selection_rate=0.0,
        mask_selection_length=kwargs.pop("mask_selection_length", 4),
        **kwargs,
    )


def _unmasked_copy(preprocessor):
    """The same preprocessor with nothing masked: its ids are the packed ids."""
    config = preprocessor.get_config()
    config.pop("tokenizer")
    config.pop("name")
    config["mask_selection_rate"] = 0.0
    return AlbertMaskedLMPreprocessor(preprocessor.tokenizer, **config)


def _check_masking(preprocessor, inputs, calls=3):
    """Check every masking invariant on `calls` calls; returns the counts."""
    original_x, _, original_weight = _unmasked_copy(preprocessor)(inputs)
    original = _np(original_x["token_ids"])
    assert not _np(original_weight).any()
    length = preprocessor.mask_selection_length
    rate = preprocessor.mask_selection_rate
    for _ in range(calls):
        x, y, weight = preprocessor(inputs)
        token_ids, positions = _np(x["token_ids"]), _np(x["mask_positions"])
        y, weight = _np(y), _np(weight)
        np.testing.assert_array_equal(
            _np(x["padding_mask"]), _np(original_x["padding_mask"])
        )
        np.testing.assert_array_equal(
            _np(x["segment_ids"]), _np(original_x["segment_ids"])
        )
        assert positions.shape == y.shape == weight.shape == (len(original), length)
        for row in range(len(original)):
            num_selectable = int((~np.isin(original[row], UNSELECTABLE)).sum())
            count = _expected_selections(rate, num_selectable, length)
            assert set(np.unique(weight[row])) <= {0.0, 1.0}
            assert weight[row].sum() == count, (row, num_selectable)
            # Used slots first, then unused ones.
            assert (weight[row][:count] == 1).all()
            assert (weight[row][count:] == 0).all()
            used = positions[row][:count]
            assert (np.diff(used) > 0).all()  # Unique and increasing.
            assert ((used >= 0) & (used < original.shape[1])).all()
            assert not np.isin(original[row][used], UNSELECTABLE).any()
            np.testing.assert_array_equal(y[row][:count], original[row][used])
            assert (positions[row][count:] == 0).all()
            assert (y[row][count:] == 0).all()
            # Only the selected positions may change.
            others = np.setdiff1d(np.arange(original.shape[1]), used)
            np.testing.assert_array_equal(token_ids[row][others], original[row][others])
            assert ((token_ids[row] >= 0) & (token_ids[row] < VOCABULARY_SIZE)).all()


# === Output structure ===


def _check_structure(outputs, batch_shape, sequence_length=16, selection_length=4):
    assert isinstance(outputs, tuple) and len(outputs) == 3
    x, y, sample_weight = outputs
    assert isinstance(x, dict)
    assert set(x) == X_KEYS
    for key in ("token_ids", "padding_mask", "segment_ids"):
        assert tuple(x[key].shape) == (*batch_shape, sequence_length), key
    assert tuple(x["mask_positions"].shape) == (*batch_shape, selection_length)
    assert tuple(y.shape) == (*batch_shape, selection_length)
    assert tuple(sample_weight.shape) == (*batch_shape, selection_length)
    assert _dtype(x["token_ids"]) == "int32"
    for tensor in (x["padding_mask"], x["segment_ids"], x["mask_positions"], y):
        assert _dtype(tensor).startswith("int"), _dtype(tensor)
    assert _dtype(sample_weight).startswith("float")
    for tensor in (*x.values(), y, sample_weight):
        assert keras.ops.is_tensor(tensor)
        assert not isinstance(tensor, np.ndarray)


def test_single_string(preprocessor):
    outputs = preprocessor("the quick brown fox.")
    _check_structure(outputs, ())
    x, y, weight = outputs
    assert _np(x["token_ids"])[0] == CLS
    assert _np(x["padding_mask"]).tolist() == [1] * 8 + [0] * 8
    assert _np(weight).sum() == 1  # ceil(0.15 * 6)


def test_batch(preprocessor):
    texts = ["the quick brown fox.", "a dog.", "hello"]
    _check_structure(preprocessor(texts), (3,))
    _check_structure(preprocessor(np.array(texts)), (3,))
    _check_structure(preprocessor(tf.constant(texts)), (3,))
    _check_structure(preprocessor((texts,)), (3,))  # A 1-tuple: one segment.


def test_pairs(preprocessor):
    firsts = ["the dog slept.", "where is the market?", "hello"]
    seconds = ["the cat did not.", "by the sea.", "a dog."]
    _check_structure(preprocessor((firsts, seconds)), (3,))
    _check_structure(preprocessor(("the dog slept.", "the cat did not.")), ())


def test_backend_tensors_match_backend(preprocessor):
    x, y, weight = preprocessor(["the quick brown fox.", "a dog."])
    backend = keras.backend.backend()
    for tensor in (*x.values(), y, weight):
        assert keras.ops.is_tensor(tensor)
        if backend == "tensorflow":
            assert isinstance(tensor, tf.Tensor)
        elif backend == "torch":
            import torch

            assert isinstance(tensor, torch.Tensor)
        elif backend == "jax":
            import jax

            assert isinstance(tensor, jax.Array)


def test_three_segments(preprocessor):
    texts = ["a dog.", "a cat."]
    with pytest.raises(ValueError, match="pair of segments. Received a tuple of 3"):
        preprocessor((texts, texts, texts))


def test_empty_tuple(preprocessor):
    with pytest.raises(ValueError, match="pair of segments. Received a tuple of 0"):
        preprocessor(())


# === Packing ===


def _golden_params():
    params = []
    for truncate in ("round_robin", "waterfall"):
        for kind in ("single", "pairs"):
            for row, entry in enumerate(GOLDENS["preprocess"][truncate][kind]):
                # Deliberate differences from KerasHub: see the tokenizer tests.
                if entry["inputs"][0] in ACCENTED_GOLDENS | MASK_GOLDENS:
                    continue
                params.append(
                    pytest.param(truncate, kind, row, id=f"{truncate}-{kind}{row}")
                )
    return params


def test_golden_preprocess_settings():
    for truncate in ("round_robin", "waterfall"):
        config = GOLDENS["preprocess"][truncate]["preprocessor_config"]
        assert config["truncate"] == truncate
        assert config["sequence_length"] == 16
        assert config["mask_selection_rate"] == 0.0
        assert config["mask_selection_length"] == 4
        assert len(GOLDENS["preprocess"][truncate]["single"]) == 12
        assert len(GOLDENS["preprocess"][truncate]["pairs"]) == 5


@pytest.mark.parametrize("truncate, kind, row", _golden_params())
def test_matches_keras_hub_packing(tokenizer, truncate, kind, row):
    golden = GOLDENS["preprocess"][truncate]
    config = golden["preprocessor_config"]
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=config["sequence_length"],
        truncate=config["truncate"],
        mask_selection_rate=0.0,
        mask_selection_length=config["mask_selection_length"],
        mask_token_rate=config["mask_token_rate"],
        random_token_rate=config["random_token_rate"],
    )
    entries = golden[kind]
    segments = tuple(list(column) for column in zip(*(e["inputs"] for e in entries)))
    x, y, weight = preprocessor(segments if kind == "pairs" else segments[0])
    assert not _np(weight).any()
    assert not _np(y).any()
    entry = entries[row]
    for key in ("token_ids", "segment_ids", "padding_mask"):
        assert _np(x[key])[row].tolist() == entry[key], key


def test_keras_hub_pairs_truncate_differently():
    # The goldens really exercise the two strategies (guards the test above).
    round_robin = GOLDENS["preprocess"]["round_robin"]["pairs"]
    waterfall = GOLDENS["preprocess"]["waterfall"]["pairs"]
    differ = [a["token_ids"] != b["token_ids"] for a, b in zip(round_robin, waterfall)]
    assert any(differ)


def test_segment_ids_and_padding(tokenizer):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=20, mask_selection_rate=0.0, mask_selection_length=3
    )
    first, second = "a dog.", "the cat sat."
    a, b = tokenizer(first).tolist(), tokenizer(second).tolist()
    x, _, _ = preprocessor(([first, "hello"], [second, "a dog."]))
    token_ids = _np(x["token_ids"])[0].tolist()
    segment_ids = _np(x["segment_ids"])[0].tolist()
    padding_mask = _np(x["padding_mask"])[0].tolist()
    real = [CLS] + a + [SEP] + b + [SEP]
    padding = 20 - len(real)
    assert padding > 0
    assert token_ids == real + [PAD] * padding
    assert segment_ids == [0] * (len(a) + 2) + [1] * (len(b) + 1) + [0] * padding
    assert padding_mask == [1] * len(real) + [0] * padding

    # One segment: all segment ids 0.
    x, _, _ = preprocessor(first)
    assert _np(x["token_ids"]).tolist() == [CLS] + a + [SEP] + [PAD] * (18 - len(a))
    assert _np(x["segment_ids"]).tolist() == [0] * 20
    assert _np(x["padding_mask"]).tolist() == [1] * (len(a) + 2) + [0] * (18 - len(a))


def test_empty_strings(tokenizer):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=8, mask_selection_length=2
    )
    x, y, weight = preprocessor(["", "hello"])
    assert _np(x["token_ids"])[0].tolist() == [CLS, SEP] + [PAD] * 6
    assert _np(x["padding_mask"])[0].tolist() == [1, 1] + [0] * 6
    assert _np(weight)[0].tolist() == [0.0, 0.0]
    x, _, _ = preprocessor(("", ""))
    assert _np(x["token_ids"]).tolist() == [CLS, SEP, SEP] + [PAD] * 5
    assert _np(x["segment_ids"]).tolist() == [0, 0, 1] + [0] * 5


@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_truncation_single(tokenizer, truncate):
    preprocessor = _packer_only(tokenizer, truncate=truncate)
    texts = _random_texts(6, 30, 40, seed=3)
    x, _, _ = preprocessor(texts)
    token_ids = _np(x["token_ids"])
    assert token_ids.shape == (6, 16)
    assert (_np(x["padding_mask"]) == 1).all()
    for row, text in enumerate(texts):
        ids = tokenizer(text).tolist()
        assert len(ids) > 14
        assert token_ids[row].tolist() == [CLS] + ids[:14] + [SEP]
        assert token_ids[row][-1] == SEP


@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_truncation_pairs(tokenizer, truncate):
    preprocessor = _packer_only(tokenizer, truncate=truncate)
    firsts = _random_texts(5, 10, 20, seed=4)
    seconds = _random_texts(5, 1, 20, seed=5)
    x, _, _ = preprocessor((firsts, seconds))
    token_ids, segment_ids = _np(x["token_ids"]), _np(x["segment_ids"])
    padding_mask = _np(x["padding_mask"])
    for row, (first, second) in enumerate(zip(firsts, seconds, strict=True)):
        a, b = tokenizer(first).tolist(), tokenizer(second).tolist()
        real = int(padding_mask[row].sum())
        assert real == min(16, len(a) + len(b) + 3)
        ids = token_ids[row][:real].tolist()
        assert ids[0] == CLS and ids[-1] == SEP
        assert ids.count(SEP) == 2
        split = ids.index(SEP)
        kept_a, kept_b = ids[1:split], ids[split + 1 : -1]
        assert kept_a == a[: len(kept_a)] and kept_b == b[: len(kept_b)]
        assert segment_ids[row][: split + 1].tolist() == [0] * (split + 1)
        assert segment_ids[row][split + 1 : real].tolist() == [1] * (real - split - 1)
        if len(a) + len(b) > 13:
            if truncate == "waterfall":
                assert len(kept_a) == min(len(a), 13)
            else:
                assert len(kept_a) == min(len(a), max(13 - len(b), 7))


# === Masking ===


@pytest.mark.parametrize(
    "settings",
    [
        dict(sequence_length=16, mask_selection_length=4),
        dict(sequence_length=16, mask_selection_length=20, mask_selection_rate=0.5),
        dict(sequence_length=12, mask_selection_length=3, mask_selection_rate=1.0),
        dict(sequence_length=8, mask_selection_length=8, mask_selection_rate=0.3),
        dict(sequence_length=24, mask_selection_length=2, mask_selection_rate=0.7),
    ],
)
def test_masking_invariants(tokenizer, settings):
    preprocessor = AlbertMaskedLMPreprocessor(tokenizer, **settings)
    texts = _random_texts(40, 0, 20, seed=11, specials=True) + ["", "[MASK] [CLS]"]
    _check_masking(preprocessor, texts)


def test_masking_invariants_pairs(tokenizer):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=20,
        mask_selection_length=5,
        mask_selection_rate=0.4,
    )
    firsts = _random_texts(30, 0, 12, seed=12, specials=True)
    seconds = _random_texts(30, 0, 12, seed=13, specials=True)
    _check_masking(preprocessor, (firsts, seconds))


def test_masking_invariants_single_string(tokenizer):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=16, mask_selection_length=6, mask_selection_rate=0.5
    )
    text = "the quick [MASK] fox jumped over the lazy dog."
    original = _np(_unmasked_copy(preprocessor)(text)[0]["token_ids"])
    n = int((~np.isin(original, UNSELECTABLE)).sum())
    for _ in range(5):
        x, y, weight = preprocessor(text)
        count = _expected_selections(0.5, n, 6)
        assert _np(weight).sum() == count
        positions = _np(x["mask_positions"])[:count]
        np.testing.assert_array_equal(_np(y)[:count], original[positions])
        assert not np.isin(original[positions], UNSELECTABLE).any()


def test_selection_count_exact_for_100_tokens(tokenizer):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=102, mask_selection_length=96
    )
    text = " ".join(["dog"] * 100)
    assert len(tokenizer(text)) == 100
    _, _, weight = preprocessor(text)
    assert _np(weight).sum() == 15


def _mask_statistics(preprocessor, inputs, calls):
    """Counts of selected tokens turned into [MASK], left alone, randomised."""
    original = _np(_unmasked_copy(preprocessor)(inputs)[0]["token_ids"])
    num_selectable = (~np.isin(original, UNSELECTABLE)).sum(axis=1)
    counts = {"mask": 0, "same": 0, "random": 0}
    random_ids, selected_fractions = [], []
    for _ in range(calls):
        x, y, weight = preprocessor(inputs)
        token_ids, positions = _np(x["token_ids"]), _np(x["mask_positions"])
        weight = _np(weight).astype(bool)
        rows = np.broadcast_to(np.arange(len(original))[:, None], positions.shape)
        new = token_ids[rows[weight], positions[weight]]
        old = original[rows[weight], positions[weight]]
        np.testing.assert_array_equal(_np(y)[weight], old)
        counts["mask"] += int((new == MASK).sum())
        counts["same"] += int((new == old).sum())
        counts["random"] += int(((new != MASK) & (new != old)).sum())
        random_ids.append(new[(new != MASK) & (new != old)])
        selected_fractions.append(weight.sum(axis=1) / num_selectable)
    total = sum(counts.values())
    fractions = {key: value / total for key, value in counts.items()}
    return total, fractions, np.concatenate(random_ids), selected_fractions


@pytest.mark.parametrize(
    "mask_token_rate, random_token_rate",
    [(0.8, 0.1), (0.5, 0.5), (0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (0.3, 0.3)],
)
def test_mask_statistics(tokenizer, mask_token_rate, random_token_rate):
    rate = 0.15
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=64,
        mask_selection_rate=rate,
        mask_selection_length=16,
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
    )
    texts = _random_texts(1000, 10, 60, seed=21)
    total, fractions, random_ids, selected = _mask_statistics(
        preprocessor, texts, calls=2
    )
    assert total > 10000
    size = VOCABULARY_SIZE
    # A random replacement is [MASK] or the original id with chance 1/size.
    expected = {
        "mask": mask_token_rate + random_token_rate / size,
        "same": 1 - mask_token_rate - random_token_rate + random_token_rate / size,
        "random": random_token_rate * (size - 2) / size,
    }
    for key in expected:
        assert abs(fractions[key] - expected[key]) < 0.015, (key, fractions)
    # Selected fraction: ceil(rate * n) / n in every row, so also on average.
    original = _np(_unmasked_copy(preprocessor)(texts)[0]["token_ids"])
    n = (~np.isin(original, UNSELECTABLE)).sum(axis=1)
    assert n.min() > 0
    expected_fraction = np.array([_expected_selections(rate, k, 16) / k for k in n])
    for fractions_of_call in selected:
        np.testing.assert_allclose(fractions_of_call, expected_fraction)
        assert abs(fractions_of_call.mean() - expected_fraction.mean()) < 1e-9
    assert abs(np.mean(expected_fraction) - rate) < 0.05
    # Random replacements cover the vocabulary uniformly.
    assert ((random_ids >= 0) & (random_ids < size)).all()
    if random_token_rate >= 0.5:
        values, occurrences = np.unique(random_ids, return_counts=True)
        assert len(values) >= size - 5
        assert occurrences.max() < 2.5 * len(random_ids) / size


def test_dynamic_masking(preprocessor):
    texts = _random_texts(8, 12, 14, seed=31)
    first_x, first_y, first_weight = preprocessor(texts)
    second_x, second_y, second_weight = preprocessor(texts)
    # Same packing and number of selections...
    np.testing.assert_array_equal(
        _np(first_x["padding_mask"]), _np(second_x["padding_mask"])
    )
    np.testing.assert_array_equal(_np(first_weight), _np(second_weight))
    assert (_np(first_weight).sum(axis=1) >= 2).all()  # ceil(0.15 * n), n > 6.
    # ...but different choices.
    assert not np.array_equal(
        _np(first_x["mask_positions"]), _np(second_x["mask_positions"])
    )
    assert not np.array_equal(_np(first_x["token_ids"]), _np(second_x["token_ids"]))


# === tf.data ===


def test_tf_data_batched_matches_direct_call(tokenizer):
    preprocessor = _packer_only(tokenizer)
    texts = _random_texts(10, 0, 20, seed=41, specials=True)
    texts += ["", "The Quick BROWN Fox", "a naïve café"]
    direct, _, _ = preprocessor(texts)
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(4).map(preprocessor)
    batches = list(dataset)
    assert len(batches) == 4
    for x, y, weight in batches:
        for tensor in (*x.values(), y, weight):
            assert isinstance(tensor, tf.Tensor)
        assert x["token_ids"].dtype == tf.int32
        assert weight.dtype.is_floating
    for key in ("token_ids", "segment_ids", "padding_mask", "mask_positions"):
        mapped = np.concatenate([x[key].numpy() for x, _, _ in batches])
        np.testing.assert_array_equal(mapped, _np(direct[key]))


def test_tf_data_unbatched_and_pairs(tokenizer):
    preprocessor = _packer_only(tokenizer)
    firsts = _random_texts(5, 0, 10, seed=42)
    seconds = _random_texts(5, 0, 10, seed=43)
    single = tf.data.Dataset.from_tensor_slices(firsts).map(preprocessor)
    for text, (x, y, weight) in zip(firsts, single, strict=True):
        assert x["token_ids"].shape == (16,) and y.shape == (4,)
        assert weight.numpy().tolist() == [0.0] * 4
        direct, _, _ = preprocessor(text)
        np.testing.assert_array_equal(x["token_ids"].numpy(), _np(direct["token_ids"]))
    pairs = (
        tf.data.Dataset.from_tensor_slices((firsts, seconds))
        .batch(3)
        .map(lambda a, b: preprocessor((a, b)))
    )
    direct, _, _ = preprocessor((firsts, seconds))
    for key in ("token_ids", "segment_ids", "padding_mask"):
        mapped = np.concatenate([x[key].numpy() for x, _, _ in pairs])
        np.testing.assert_array_equal(mapped, _np(direct[key]))


def test_tf_data_masking(preprocessor):
    texts = _random_texts(12, 5, 20, seed=44, specials=True)
    original = _np(_unmasked_copy(preprocessor)(texts)[0]["token_ids"])
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(5).map(preprocessor)
    start = 0
    for x, y, weight in dataset:
        token_ids = x["token_ids"].numpy()
        positions = x["mask_positions"].numpy()
        weight = weight.numpy()
        rows = original[start : start + len(token_ids)]
        start += len(token_ids)
        assert weight.sum() > 0
        for row in range(len(token_ids)):
            n = int((~np.isin(rows[row], UNSELECTABLE)).sum())
            count = _expected_selections(0.15, n, 4)
            assert weight[row].sum() == count
            used = positions[row][:count]
            np.testing.assert_array_equal(y.numpy()[row][:count], rows[row][used])
            assert not np.isin(rows[row][used], UNSELECTABLE).any()
            others = np.setdiff1d(np.arange(16), used)
            np.testing.assert_array_equal(token_ids[row][others], rows[row][others])
    assert start == len(texts)


# === Arguments ===


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(mask_selection_rate=-0.1), "mask_selection_rate"),
        (dict(mask_selection_rate=1.5), "mask_selection_rate"),
        (dict(mask_token_rate=0.7, random_token_rate=0.4), "mask_token_rate"),
        (dict(mask_token_rate=1.2, random_token_rate=0.0), "mask_token_rate"),
        (dict(random_token_rate=-0.5), "random_token_rate"),
        (dict(mask_selection_length=0), "mask_selection_length"),
        (dict(truncate="bogus"), "truncate"),
        (dict(sequence_length=2), "sequence_length"),
        (dict(sequence_length=0), "sequence_length"),
        (dict(sequence_length=-4), "sequence_length"),
    ],
)
def test_invalid_arguments(tokenizer, kwargs, name):
    with pytest.raises(ValueError, match=name):
        AlbertMaskedLMPreprocessor(tokenizer, **kwargs)


def test_rates_summing_above_one_name_both(tokenizer):
    with pytest.raises(ValueError) as info:
        AlbertMaskedLMPreprocessor(
            tokenizer, mask_token_rate=0.8, random_token_rate=0.3
        )
    assert "mask_token_rate" in str(info.value)
    assert "random_token_rate" in str(info.value)


def test_boundary_arguments_are_accepted(tokenizer):
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=3,
        mask_selection_rate=1.0,
        mask_selection_length=1,
        mask_token_rate=0.5,
        random_token_rate=0.5,
    )
    x, y, weight = preprocessor("the dog")
    assert _np(x["token_ids"]).shape == (3,)
    assert _np(x["token_ids"])[[0, 2]].tolist() == [CLS, SEP]
    assert _np(weight).tolist() == [1.0]
    assert _np(x["mask_positions"]).tolist() == [1]


@pytest.mark.parametrize("tokenizer_argument", [str(VOCABULARY_PATH), None, object()])
def test_tokenizer_of_wrong_type(tokenizer_argument):
    received = type(tokenizer_argument).__name__
    expected = f"`tokenizer` must be an `AlbertTokenizer`. Received: {received}$"
    with pytest.raises(TypeError, match=expected):
        AlbertMaskedLMPreprocessor(tokenizer_argument)


# === Config ===


def test_config_round_trip(tokenizer, tmp_path):
    settings = dict(
        sequence_length=24,
        truncate="waterfall",
        mask_selection_rate=0.3,
        mask_selection_length=5,
        mask_token_rate=0.6,
        random_token_rate=0.25,
    )
    preprocessor = AlbertMaskedLMPreprocessor(tokenizer, **settings)
    config = preprocessor.get_config()
    for key, value in settings.items():
        assert config[key] == value, key
    json.dumps(config)  # Serialisable.

    restored = AlbertMaskedLMPreprocessor.from_config(config)
    for key, value in settings.items():
        assert getattr(restored, key) == value, key
    assert isinstance(restored.tokenizer, AlbertTokenizer)
    assert restored.tokenizer.lowercase == tokenizer.lowercase
    assert restored.get_config() == config

    # The vocabulary travels as an asset.
    tokenizer.save_assets(str(tmp_path))
    restored.tokenizer.load_assets(str(tmp_path))
    texts = _random_texts(6, 0, 30, seed=51)
    firsts, seconds = texts[:3], texts[3:]
    x, _, weight = preprocessor((firsts, seconds))
    restored_x, _, restored_weight = restored((firsts, seconds))
    for key in ("segment_ids", "padding_mask"):
        np.testing.assert_array_equal(_np(x[key]), _np(restored_x[key]))
    np.testing.assert_array_equal(_np(weight), _np(restored_weight))
    assert _np(restored_x["token_ids"]).shape == (3, 24)

    # Also through Keras' own (de)serialisation.
    again = keras.layers.deserialize(keras.layers.serialize(preprocessor))
    assert isinstance(again, AlbertMaskedLMPreprocessor)
    for key, value in settings.items():
        assert getattr(again, key) == value, key


def test_config_round_trip_cased_tokenizer(tmp_path):
    cased = AlbertTokenizer(str(VOCABULARY_PATH), lowercase=False)
    preprocessor = AlbertMaskedLMPreprocessor(
        cased, sequence_length=10, mask_selection_length=2
    )
    restored = AlbertMaskedLMPreprocessor.from_config(preprocessor.get_config())
    assert restored.tokenizer.lowercase is False
    assert restored.sequence_length == 10
    assert restored.mask_selection_length == 2
