"""Multi-head self-attention with one fused query/key/value projection."""

import functools

import keras
from keras import ops

from albert_mlm.layers.fused_dense import FusedDense

# A padded key's score: far below any real score, finite in float32.
_PADDED_KEY_SCORE = -1e9


def attend(query, key, value, key_mask=None, probability_dropout=None):
    """Each query's softmax-weighted average of `value` over unmasked keys.

    PyTorch and JAX run `keras.ops.dot_product_attention`, which calls their
    fused kernels. TensorFlow (and any backend while attention dropout is on)
    runs it spelled out with the fewest passes over the `(query, key)` scores:
    Keras' TensorFlow version scales the scores, builds a full-size boolean
    mask and selects with it, three extra passes over the largest tensor of
    the layer; here the queries are scaled and the padding is one broadcast
    additive bias.

    Args:
        query: `(batch, queries, heads, head_dim)`.
        key, value: `(batch, keys, heads, head_dim)`.
        key_mask: `(batch, keys)`, true (or 1) for the keys to attend to;
            `None` attends to every key.
        probability_dropout: a callable applied to the attention
            probabilities (a dropout layer while training), or `None`.

    Returns:
        `(batch, queries, heads, head_dim)` in the dtype of `query`.

    Example:
    >>> q = keras.ops.ones((1, 3, 2, 4))
    >>> tuple(attend(q, q, q, key_mask=keras.ops.ones((1, 3))).shape)
    (1, 3, 2, 4)
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


@keras.saving.register_keras_serializable(package="albert_mlm")
class SelfAttention(keras.layers.Layer):
    """Bidirectional multi-head self-attention over non-padding keys.

    With `query_positions` (a `(batch, positions)` integer tensor), only
    those positions attend (to every key), and only their outputs are
    returned.

    The query, key and value projections are one `(hidden, 3 * hidden)` dense
    kernel, laid out `[query | key | value]`, each part head-major (column
    `head * head_dim + d`), so one matrix multiply feeds all three.

    Args:
        num_heads: number of attention heads; must divide the hidden size.
        dropout: dropout rate on the attention probabilities.
        kernel_initializer: initializer of both dense kernels.

    Example:
    >>> attention = SelfAttention(num_heads=2)
    >>> x = keras.ops.ones((1, 4, 8))
    >>> tuple(attention(x, padding_mask=keras.ops.ones((1, 4))).shape)
    (1, 4, 8)
    """

    def __init__(
        self, num_heads, dropout=0.0, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads != 0:
            raise ValueError(
                f"The hidden size ({hidden_dim}) must be divisible by "
                f"`num_heads`. Received: num_heads={self.num_heads}"
            )
        self.head_dim = hidden_dim // self.num_heads
        self.query_key_value_dense = FusedDense(
            3 * hidden_dim,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="query_key_value",
        )
        self.query_key_value_dense.build(inputs_shape)
        self.output_dense = FusedDense(
            hidden_dim,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="output",
        )
        self.output_dense.build(inputs_shape)
        self.probability_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy
        )

    def call(self, inputs, padding_mask=None, training=None, query_positions=None):
        qkv = self.query_key_value_dense(inputs)
        qkv = ops.reshape(
            qkv, ops.shape(inputs)[:-1] + (3, self.num_heads, self.head_dim)
        )
        # unstack, not three slices: a slice's gradient is a zero-filled copy
        # of the whole projection, unstack's is one stack of the three.
        query, key, value = ops.unstack(qkv, 3, axis=2)
        if query_positions is not None:
            query = ops.take_along_axis(query, query_positions[:, :, None, None], 1)
        dropout = None
        if training and self.dropout > 0:
            dropout = functools.partial(self.probability_dropout, training=True)
        attended = attend(query, key, value, padding_mask, probability_dropout=dropout)
        attended = ops.reshape(attended, ops.shape(query)[:2] + (-1,))
        return self.output_dense(attended)

    def compute_output_shape(
        self, inputs_shape, padding_mask_shape=None, query_positions_shape=None
    ):
        if query_positions_shape is None:
            return inputs_shape
        return tuple(query_positions_shape) + (inputs_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
