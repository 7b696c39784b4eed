"""`AlbertTokenizer(proto, sequence_length=...)` (`text/albert_tokenizer.py`):
every output is cut or padded with the padding id to `sequence_length`, a
single string to a vector and a batch to a dense matrix, eagerly and inside
`tf.data`; the setting survives `get_config` and a preset."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import VOCABULARY_PATH, to_numpy

from albert_mlm import AlbertTokenizer

LENGTH = 8
SHORT = "a dog."
LONG = "the quick brown fox jumped over the lazy dog and more"
TEXTS = [SHORT, LONG, "", "[MASK] sat."]


@pytest.fixture
def fixed_length_tokenizer():
    return AlbertTokenizer(str(VOCABULARY_PATH), sequence_length=LENGTH)


def _expected(tokenizer, text):
    ids = list(tokenizer(text))[:LENGTH]
    return ids + [tokenizer.pad_token_id] * (LENGTH - len(ids))


def test_single_string_is_padded_and_truncated(tokenizer, fixed_length_tokenizer):
    assert len(tokenizer(SHORT)) < LENGTH < len(tokenizer(LONG))
    short = to_numpy(fixed_length_tokenizer(SHORT))
    assert short.shape == (LENGTH,)
    assert short.tolist() == _expected(tokenizer, SHORT)
    assert short[len(tokenizer(SHORT)) :].tolist() == [tokenizer.pad_token_id] * (
        LENGTH - len(tokenizer(SHORT))
    )
    long = to_numpy(fixed_length_tokenizer(LONG))
    assert long.shape == (LENGTH,)
    assert long.tolist() == tokenizer(LONG).tolist()[:LENGTH]


def test_batch_is_a_dense_matrix(tokenizer, fixed_length_tokenizer):
    batch = to_numpy(fixed_length_tokenizer(TEXTS))
    assert batch.shape == (len(TEXTS), LENGTH)
    assert batch.dtype == np.int32
    assert batch.tolist() == [_expected(tokenizer, text) for text in TEXTS]
    assert batch[2].tolist() == [tokenizer.pad_token_id] * LENGTH


def test_tf_data_gives_the_same_fixed_length_ids(tokenizer, fixed_length_tokenizer):
    expected = [_expected(tokenizer, text) for text in TEXTS]
    batched = tf.data.Dataset.from_tensor_slices(TEXTS).batch(3)
    rows = []
    for batch in batched.map(fixed_length_tokenizer):
        assert isinstance(batch, tf.Tensor) and not isinstance(batch, tf.RaggedTensor)
        assert batch.shape[1] == LENGTH
        rows.extend(batch.numpy().tolist())
    assert rows == expected
    single = tf.data.Dataset.from_tensor_slices(TEXTS).map(fixed_length_tokenizer)
    assert single.element_spec.shape.as_list() == [LENGTH]
    assert [ids.numpy().tolist() for ids in single] == expected


def test_config_round_trip_keeps_the_length(fixed_length_tokenizer):
    config = fixed_length_tokenizer.get_config()
    assert config["sequence_length"] == LENGTH
    rebuilt = AlbertTokenizer.from_config(config)
    assert rebuilt.sequence_length == LENGTH
    rebuilt.set_proto(str(VOCABULARY_PATH))
    np.testing.assert_array_equal(
        to_numpy(rebuilt(TEXTS)), to_numpy(fixed_length_tokenizer(TEXTS))
    )


def test_preset_round_trip_keeps_the_length(fixed_length_tokenizer, tmp_path):
    fixed_length_tokenizer.save_to_preset(tmp_path / "tokenizer")
    loaded = AlbertTokenizer.from_preset(tmp_path / "tokenizer")
    assert loaded.sequence_length == LENGTH
    np.testing.assert_array_equal(
        to_numpy(loaded(TEXTS)), to_numpy(fixed_length_tokenizer(TEXTS))
    )


@pytest.mark.parametrize("length", [0, -3, 2.5, True])
def test_invalid_sequence_length_is_refused(length):
    with pytest.raises(
        ValueError, match=f"integer. Received: sequence_length={length}$"
    ):
        AlbertTokenizer(str(VOCABULARY_PATH), sequence_length=length)
