"""Cast each shared kernel to the compute dtype once per forward pass.

Under a mixed precision policy Keras casts a float32 variable to the compute
dtype every time a layer reads it. ALBERT reads each shared block's kernels
once per layer call, so a 12-layer, 1-group model would cast the same
kernels 12 times per pass (and, when training, cast 12 gradients back).
Inside `cast_once_per_pass()` the first read caches the cast value and the
other layer calls of the same pass reuse it. Outside it, reads behave
exactly as usual.

>>> import keras
>>> dense = keras.layers.Dense(4, dtype="mixed_bfloat16")
>>> dense.build((None, 8))
>>> with cast_once_per_pass():
...     outputs = [apply_dense(dense, keras.ops.ones((2, 8))) for _ in range(3)]
>>> str(outputs[0].dtype).endswith("bfloat16")
True
"""

import contextlib
import threading

from keras import ops

from albert_mlm.layers.fused_dense import fused_dense

_state = threading.local()


@contextlib.contextmanager
def cast_once_per_pass():
    """Within this context, `compute_value` casts each variable only once."""
    previous = getattr(_state, "cache", None)
    _state.cache = {}
    try:
        yield
    finally:
        _state.cache = previous


def compute_value(variable, dtype):
    """`variable` as a tensor of `dtype`, cast once per pass when cached."""
    cache = getattr(_state, "cache", None)
    if cache is None:
        return ops.cast(variable, dtype)
    key = (id(variable), dtype)
    if key not in cache:
        cache[key] = ops.cast(variable, dtype)
    return cache[key]


def apply_dense(dense, inputs):
    """What `dense(inputs)` computes, reading its weights through the cache."""
    dtype = dense.compute_dtype
    return fused_dense(
        inputs,
        compute_value(dense.kernel, dtype),
        compute_value(dense.bias, dtype) if dense.use_bias else None,
        dense.activation,
    )
