"""`attend` is softmax attention over the unmasked keys, in every form."""

import keras
import numpy as np
import pytest
from keras import ops

from albert_mlm.layers.self_attention import attend


def _reference_attention(query, key, value, key_mask):
    scores = np.einsum("bqhd,bkhd->bhqk", query, key) / np.sqrt(query.shape[-1])
    if key_mask is not None:
        scores = np.where(key_mask[:, None, None, :], scores, -np.inf)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probabilities = scores / scores.sum(-1, keepdims=True)
    return np.einsum("bhqk,bkhd->bqhd", probabilities, value)


def _doubled(probabilities):
    return probabilities * 2.0


@pytest.mark.parametrize("query_length", [1, 3, 5])
@pytest.mark.parametrize("head_dim", [4, 6])
@pytest.mark.parametrize("with_mask", [True, False])
@pytest.mark.parametrize("probability_dropout", [None, _doubled])
def test_matches_softmax_attention(
    query_length, head_dim, with_mask, probability_dropout
):
    rng = np.random.default_rng(query_length * head_dim)
    query = rng.standard_normal((2, query_length, 3, head_dim)).astype("float32")
    key, value = rng.standard_normal((2, 2, 5, 3, head_dim)).astype("float32")
    key_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]) if with_mask else None
    outputs = attend(
        ops.convert_to_tensor(query),
        ops.convert_to_tensor(key),
        ops.convert_to_tensor(value),
        None if key_mask is None else ops.convert_to_tensor(key_mask),
        probability_dropout=probability_dropout,
    )
    expected = _reference_attention(query, key, value, key_mask)
    if probability_dropout is not None:
        expected = expected * 2.0
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), expected, atol=1e-5)


def test_keeps_bfloat16_and_ignores_padded_keys():
    rng = np.random.default_rng(1)
    query, key, value = rng.standard_normal((3, 1, 2, 2, 8)).astype("float32")
    # A huge padded key would dominate if it were attended to.
    key[0, 1] = 1e4
    value[0, 1] = 1e4
    mask = ops.convert_to_tensor([[1, 0]])
    tensors = [ops.convert_to_tensor(t, "bfloat16") for t in (query, key, value)]
    for dropout in (None, _doubled):
        outputs = attend(*tensors, mask, probability_dropout=dropout)
        assert ops.convert_to_numpy(ops.cast(outputs, "float32")).max() < 10
        assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
