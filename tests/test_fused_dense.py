"""`fused_dense` computes what a Keras dense layer computes, on every backend."""

import keras
import numpy as np
import pytest
from keras import ops

from albert_mlm.layers.activations import get_activation
from albert_mlm.layers.fused_dense import fused_dense


def _plain_dense(inputs, kernel, bias, activation):
    outputs = ops.matmul(inputs, kernel)
    if bias is not None:
        outputs = outputs + bias
    return outputs if activation is None else activation(outputs)


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
    outputs = fused_dense(inputs, kernel, bias, function)
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
    kernel = tf.Variable(rng.standard_normal((5, 7)).astype("float32"))
    bias = tf.Variable(rng.standard_normal((7,)).astype("float32"))
    activation = get_activation("gelu_approximate")
    shapes = []

    def gradients(dense, inputs):
        with tf.GradientTape() as tape:
            outputs = dense(inputs, kernel, bias, activation)
            loss = tf.reduce_sum(outputs * outputs)
        shapes.append(outputs.shape.as_list())
        return tape.gradient(loss, [kernel, bias])

    signature = [tf.TensorSpec([None, 3, 5], tf.float32)]
    fused = tf.function(lambda x: gradients(fused_dense, x), input_signature=signature)
    plain = tf.function(lambda x: gradients(_plain_dense, x), input_signature=signature)
    inputs = tf.constant(rng.standard_normal((4, 3, 5)), tf.float32)
    for got, expected in zip(fused(inputs), plain(inputs)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5)
    assert shapes == [[None, 3, 7], [None, 3, 7]]
