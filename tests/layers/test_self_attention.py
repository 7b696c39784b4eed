"""`attend` is softmax attention over the unmasked keys, in every form."""

import keras
import numpy as np
import pytest
from keras import ops

from albert_mlm.layers.self_attention import (
    _flash_attention,
    _flash_kernel_fits,
    attend,
)


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


# === Kernel choice: every branch gives the reference numbers ===


@pytest.fixture
def flash_setting():
    """Sets Keras' flash attention setting; puts back the default after."""
    from keras.src.backend.common import global_state

    yield lambda enabled: global_state.set_global_attribute("flash_attention", enabled)
    global_state.set_global_attribute("flash_attention", None)


def _random_attention_inputs(seed=0):
    rng = np.random.default_rng(seed)
    query, key, value = rng.standard_normal((3, 2, 6, 2, 8)).astype("float32")
    return query, key, value


@pytest.mark.parametrize("enabled", [None, True, False])
@pytest.mark.parametrize("mask", ["kept", "all ones", "dropped"])
@pytest.mark.parametrize("probability_dropout", [None, _doubled])
def test_every_kernel_choice_gives_the_reference(
    flash_setting, enabled, mask, probability_dropout
):
    """Flash requested (refused quietly where no kernel fits, as on a CPU),
    left to Keras or disabled; a padding mask kept, all ones, or none; with
    and without dropout: the same numbers as numpy's attention."""
    flash_setting(enabled)
    query, key, value = _random_attention_inputs()
    key_mask = {
        "kept": np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0]]),
        "all ones": np.ones((2, 6), "int32"),
        "dropped": None,
    }[mask]
    outputs = attend(
        *(ops.convert_to_tensor(t) for t in (query, key, value)),
        None if key_mask is None else ops.convert_to_tensor(key_mask),
        probability_dropout=probability_dropout,
    )
    expected = _reference_attention(
        query, key, value, None if key_mask is None else key_mask.astype(bool)
    )
    if probability_dropout is not None:
        expected = expected * 2.0
    np.testing.assert_allclose(ops.convert_to_numpy(outputs), expected, atol=1e-5)


def test_a_row_of_padding_only_stays_finite():
    """A padded key's score is finite: a row with no key to attend to
    averages the values evenly instead of dividing by zero."""
    query, key, value = _random_attention_inputs()
    key_mask = ops.convert_to_tensor(np.array([[1] * 6, [0] * 6]))
    outputs = ops.convert_to_numpy(
        attend(*(ops.convert_to_tensor(t) for t in (query, key, value)), key_mask)
    )
    even = np.broadcast_to(value[1].mean(axis=0), outputs[1].shape)
    np.testing.assert_allclose(outputs[1], even, atol=1e-5)


@pytest.mark.parametrize(
    "facts, fits",
    [
        (("jax", "gpu", "bfloat16", (9, 0), 64), True),
        (("jax", "gpu", "float16", (8, 0), 128), True),
        (("jax", "gpu", "bfloat16", (8, 0), 256), False),  # Wide heads need Hopper.
        (("jax", "gpu", "bfloat16", (9, 0), 256), True),
        (("torch", "gpu", "bfloat16", (9, 0), 64), True),
        (("torch", "gpu", "bfloat16", (8, 6), 256), True),
        (("torch", "gpu", "float32", (9, 0), 64), False),  # Flash is 16-bit only.
        (("torch", "gpu", "bfloat16", (7, 5), 64), False),  # Before Ampere.
        (("torch", "gpu", "bfloat16", (9, 0), 60), False),  # Not a multiple of 8.
        (("torch", "gpu", "bfloat16", (9, 0), 512), False),
        (("torch", "cpu", "bfloat16", None, 64), False),
        (("jax", "cpu", "bfloat16", None, 64), False),
        (("tensorflow", "gpu", "bfloat16", (9, 0), 64), False),
    ],
)
def test_flash_kernel_fits_from_static_facts(facts, fits):
    assert _flash_kernel_fits(*facts) is fits


@pytest.mark.parametrize("enabled", [None, True, False])
def test_flash_is_refused_on_this_cpu_and_with_a_mask(flash_setting, enabled):
    """What `attend` passes to `dot_product_attention`: never a request
    that Keras would refuse with an error."""
    flash_setting(enabled)
    query = ops.ones((1, 4, 2, 8), "bfloat16")
    assert _flash_attention(query, None) is False
    assert _flash_attention(query, ops.zeros((1, 1, 1, 4), "bfloat16")) is False
