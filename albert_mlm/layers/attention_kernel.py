"""Scaled dot-product attention over non-padding keys, in each backend's best form.

- PyTorch and JAX: `keras.ops.dot_product_attention`, which calls their fused
  kernels.
- TensorFlow, and any backend while attention dropout is on: the attention
  spelled out with the fewest passes over the `(query, key)` scores. Keras's
  TensorFlow version scales the scores, builds a full-size boolean mask and
  selects with it, three extra passes over the largest tensor of the layer;
  here the queries are scaled and the padding is one broadcast additive bias.

>>> import keras
>>> q = keras.ops.ones((1, 3, 2, 4))
>>> attend(q, q, q, key_mask=keras.ops.ones((1, 3))).shape
(1, 3, 2, 4)
"""

import keras
from keras import ops

# A padded key's score: far below any real score, finite in float32.
_PADDED_KEY_SCORE = -1e9


def attend(query, key, value, key_mask=None, probability_dropout=None):
    """Each query's softmax-weighted average of `value` over unmasked keys.

    Args:
        query: `(batch, queries, heads, head_dim)`.
        key, value: `(batch, keys, heads, head_dim)`.
        key_mask: `(batch, keys)`, true (or 1) for the keys to attend to;
            `None` attends to every key.
        probability_dropout: a callable applied to the attention
            probabilities (a dropout layer while training), or `None`.

    Returns:
        `(batch, queries, heads, head_dim)` in the dtype of `query`.
    """
    if probability_dropout is None and keras.backend.backend() != "tensorflow":
        mask = None
        if key_mask is not None:
            mask = ops.cast(key_mask, "bool")[:, None, None, :]
        return ops.dot_product_attention(query, key, value, mask=mask)
    head_dim = query.shape[-1]
    scores = ops.einsum("bqhd,bkhd->bhqk", query * (head_dim**-0.5), key)
    scores = ops.cast(scores, "float32")
    if key_mask is not None:
        key_bias = ops.where(ops.cast(key_mask, "bool"), 0.0, _PADDED_KEY_SCORE)
        scores = scores + key_bias[:, None, None, :]
    dtype = keras.backend.standardize_dtype(query.dtype)
    probabilities = ops.cast(ops.softmax(scores, axis=-1), dtype)
    if probability_dropout is not None:
        probabilities = probability_dropout(probabilities)
    return ops.einsum("bhqk,bkhd->bqhd", probabilities, value)
