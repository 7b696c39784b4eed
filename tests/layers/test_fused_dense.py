"""`FusedDense` computes what a Keras dense layer computes, on every backend,
and casts each shared weight once per forward pass."""

import keras
import numpy as np
import pytest
from helpers import TINY_BACKBONE
from keras import ops

from albert_mlm import AlbertBackbone
from albert_mlm.layers import fused_dense
from albert_mlm.layers.activations import get_activation
from albert_mlm.layers.fused_dense import FusedDense, cast_once_per_pass


def _plain_dense(inputs, kernel, bias, activation):
    outputs = ops.matmul(inputs, kernel)
    if bias is not None:
        outputs = outputs + bias
    return outputs if activation is None else activation(outputs)


def _dense_with(kernel, bias, activation, dtype=None):
    dense = FusedDense(
        kernel.shape[1], activation=activation, use_bias=bias is not None, dtype=dtype
    )
    dense.build((None, kernel.shape[0]))
    dense.kernel.assign(kernel)
    if bias is not None:
        dense.bias.assign(bias)
    return dense


@pytest.mark.parametrize("leading_shape", [(6,), (2, 3), (2, 3, 4)])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", [None, "gelu_approximate", "gelu", "relu"])
def test_matches_matmul_add_activation(leading_shape, use_bias, activation):
    rng = np.random.default_rng(0)
    inputs = ops.convert_to_tensor(rng.standard_normal(leading_shape + (5,)), "float32")
    kernel = ops.convert_to_tensor(rng.standard_normal((5, 7)), "float32")
    bias = ops.convert_to_tensor(rng.standard_normal((7,)), "float32")
    bias = bias if use_bias else None
    function = None if activation is None else get_activation(activation)
    outputs = _dense_with(kernel, bias, function)(inputs)
    assert tuple(outputs.shape) == leading_shape + (7,)
    np.testing.assert_allclose(
        ops.convert_to_numpy(outputs),
        ops.convert_to_numpy(_plain_dense(inputs, kernel, bias, function)),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.function")
def test_keeps_static_shape_and_gradients_inside_a_tensorflow_graph():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    kernel = rng.standard_normal((5, 7)).astype("float32")
    bias = rng.standard_normal((7,)).astype("float32")
    activation = get_activation("gelu_approximate")
    dense = _dense_with(kernel, bias, activation)
    shapes = []

    def gradients(apply, variables, inputs):
        with tf.GradientTape() as tape:
            outputs = apply(inputs)
            loss = tf.reduce_sum(outputs * outputs)
        shapes.append(outputs.shape.as_list())
        return tape.gradient(loss, variables)

    def plain(inputs):
        return _plain_dense(inputs, dense.kernel, dense.bias, activation)

    variables = [dense.kernel.value, dense.bias.value]
    signature = [tf.TensorSpec([None, 3, 5], tf.float32)]
    fused = tf.function(
        lambda x: gradients(dense, variables, x), input_signature=signature
    )
    reference = tf.function(
        lambda x: gradients(plain, variables, x), input_signature=signature
    )
    inputs = tf.constant(rng.standard_normal((4, 3, 5)), tf.float32)
    for got, expected in zip(fused(inputs), reference(inputs)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5)
    assert shapes == [[None, 3, 7], [None, 3, 7]]


# === Cast once per pass ===


def _mixed_dense():
    dense = FusedDense(4, activation="relu", dtype="mixed_bfloat16")
    dense.build((None, 8))
    return dense


def _inputs():
    return keras.ops.convert_to_tensor(
        np.random.default_rng(0).standard_normal((3, 8)), "bfloat16"
    )


def test_cached_pass_computes_what_the_plain_layer_computes():
    dense = _mixed_dense()
    with cast_once_per_pass():
        cached = dense(_inputs())
    plain = keras.layers.Dense(4, activation="relu", dtype="mixed_bfloat16")
    plain.build((None, 8))
    plain.set_weights(dense.get_weights())
    expected = plain(_inputs())
    assert keras.backend.standardize_dtype(cached.dtype) == "bfloat16"
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(keras.ops.cast(cached, "float32")),
        keras.ops.convert_to_numpy(keras.ops.cast(expected, "float32")),
    )


def test_one_cast_per_variable_per_pass_and_none_kept_after():
    dense = _mixed_dense()
    with cast_once_per_pass():
        first = dense._compute_value(dense.kernel)
        assert dense._compute_value(dense.kernel) is first
        assert dense._compute_value(dense.bias) is not first
    with cast_once_per_pass():
        assert dense._compute_value(dense.kernel) is not first
    assert getattr(fused_dense._pass, "casts", None) is None


def test_backbone_pass_casts_each_shared_kernel_once(monkeypatch):
    config = dict(TINY_BACKBONE, num_groups=1, num_inner_repetitions=1)
    backbone = AlbertBackbone(**config, dtype="mixed_bfloat16")
    casts = []
    real_cast = keras.ops.cast

    def counting_cast(x, dtype):
        if isinstance(x, keras.Variable):
            casts.append(x.path)
        return real_cast(x, dtype)

    monkeypatch.setattr(fused_dense.ops, "cast", counting_cast)
    backbone(
        {
            "token_ids": np.ones((2, 6), "int32"),
            "segment_ids": np.zeros((2, 6), "int32"),
            "padding_mask": np.ones((2, 6), "int32"),
        }
    )
    # One block, four layer calls: its 4 kernels and 4 biases, once each.
    assert len(casts) == 8
    assert len(set(casts)) == 8
