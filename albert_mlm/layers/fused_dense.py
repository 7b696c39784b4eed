"""A dense layer's product, bias and activation, in the form each backend fuses.

- TensorFlow's graph optimizer (oneDNN on CPU) fuses a two-dimensional
  `MatMul`, `BiasAdd` and GELU or ReLU into one kernel, but not the batched
  product and broadcast add of `keras.ops.matmul` and `keras.ops.add`: there
  the flattened `(tokens, features)` matrix is multiplied.
- PyTorch's `linear` adds the bias inside the product (one `addmm`).
- JAX (XLA) fuses the plain ops itself.

>>> import keras
>>> x = keras.ops.ones((2, 3, 4))
>>> fused_dense(x, keras.ops.ones((4, 5)), keras.ops.zeros((5,))).shape
(2, 3, 5)
"""

import keras
from keras import ops


def fused_dense(inputs, kernel, bias=None, activation=None):
    """`activation(inputs @ kernel + bias)` over the last axis of `inputs`."""
    backend = keras.backend.backend()
    if backend == "tensorflow" and len(inputs.shape) > 2:
        return _tensorflow_dense(inputs, kernel, bias, activation)
    if backend == "torch":
        import torch

        outputs = torch.nn.functional.linear(inputs, kernel.T, bias)
    else:
        outputs = ops.matmul(inputs, kernel)
        if bias is not None:
            outputs = ops.add(outputs, bias)
    return outputs if activation is None else activation(outputs)


def _tensorflow_dense(inputs, kernel, bias, activation):
    import tensorflow as tf

    flat_inputs = tf.reshape(inputs, (-1, kernel.shape[0]))
    outputs = tf.matmul(flat_inputs, kernel)
    if bias is not None:
        outputs = tf.nn.bias_add(outputs, bias)
    if activation is not None:
        outputs = activation(outputs)  # Before the reshape, to be fused.
    leading_shape = tf.shape(inputs)[:-1]
    outputs = tf.reshape(outputs, tf.concat([leading_shape, tf.shape(kernel)[1:]], 0))
    # The dynamic reshape loses the static shape; give back what is known.
    outputs.set_shape(inputs.shape[:-1].concatenate(kernel.shape[1:]))
    return outputs
