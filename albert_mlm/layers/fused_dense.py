"""`FusedDense`: a `keras.layers.Dense` computed in the form each backend runs best.

It computes exactly what `keras.layers.Dense` computes, with two speed tricks
that change no value:

- **The product, bias and activation fused.** TensorFlow's graph optimizer
  (oneDNN on CPU) fuses a two-dimensional `MatMul`, `BiasAdd` and GELU or
  ReLU into one kernel, but not the batched product and broadcast add of
  `keras.ops.matmul` and `keras.ops.add`, so there the flattened
  `(tokens, features)` matrix is multiplied. PyTorch's `linear` adds the bias
  inside the product (one `addmm`). JAX (XLA) fuses the plain ops itself.
- **Weights cast once per pass.** Under a mixed precision policy Keras casts
  a float32 variable to the compute dtype every time a layer reads it. An
  ALBERT block is called once per layer that shares it (12 times per pass in
  the base model), so inside `cast_once_per_pass()`, which `AlbertBackbone`
  opens around each forward pass, the first call casts the kernel and bias
  and the later calls of the same pass reuse them (and, when training, one
  gradient is cast back instead of 12).

Quantized (`quantize("int8")` and Keras' other modes), it runs Keras' own
quantized `Dense` path: the tricks apply to float weights only.

>>> import keras
>>> dense = FusedDense(4, activation="relu")
>>> tuple(dense(keras.ops.ones((2, 3, 8))).shape)
(2, 3, 4)
"""

import contextlib
import threading

import keras
from keras import ops

_pass = threading.local()


@contextlib.contextmanager
def cast_once_per_pass():
    """Within this context, each `FusedDense` weight is cast only once."""
    previous = getattr(_pass, "casts", None)
    _pass.casts = {}
    try:
        yield
    finally:
        _pass.casts = previous


@keras.saving.register_keras_serializable(package="albert_mlm")
class FusedDense(keras.layers.Dense):
    """`keras.layers.Dense`, with its weights read once per pass and fused ops.

    Takes the arguments of `keras.layers.Dense`.

    Example:
    >>> dense = FusedDense(4, dtype="mixed_bfloat16")
    >>> with cast_once_per_pass():
    ...     outputs = [dense(keras.ops.ones((2, 8))) for _ in range(3)]
    >>> keras.backend.standardize_dtype(outputs[0].dtype)
    'bfloat16'
    """

    def call(self, inputs, training=None):
        kernel = self._compute_value(self.kernel)
        bias = self._compute_value(self.bias) if self.use_bias else None
        backend = keras.backend.backend()
        if backend == "tensorflow" and len(inputs.shape) > 2:
            return _tensorflow_dense(inputs, kernel, bias, self.activation)
        if backend == "torch":
            import torch

            outputs = torch.nn.functional.linear(inputs, kernel.T, bias)
        else:
            outputs = ops.matmul(inputs, kernel)
            if bias is not None:
                outputs = ops.add(outputs, bias)
        return outputs if self.activation is None else self.activation(outputs)

    def quantize(self, mode=None, type_check=True, config=None):
        # Keras quantizes `Dense` itself but not its subclasses, which may
        # compute something else; this one computes exactly what `Dense` does.
        super().quantize(mode, type_check=False, config=config)

    def _compute_value(self, weight):
        """`weight` in the compute dtype, cast once per pass when in one."""
        casts = getattr(_pass, "casts", None)
        if casts is None or _compiling():
            return ops.cast(weight, self.compute_dtype)
        key = (id(weight), self.compute_dtype)
        if key not in casts:
            casts[key] = ops.cast(weight, self.compute_dtype)
        return casts[key]


def _compiling():
    """True while `torch.compile` traces: it guards on the cache's keys and
    would recompile for every layer call; its own fusion makes casts cheap."""
    if keras.backend.backend() != "torch":
        return False
    import torch

    return torch.compiler.is_compiling()


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
