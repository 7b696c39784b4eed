"""Multi-head self-attention with one fused query/key/value projection."""

import functools

import keras
from keras import ops

from albert_mlm.layers.attention_kernel import attend
from albert_mlm.layers.shared_weight_casts import apply_dense


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
    >>> attention(x, padding_mask=keras.ops.ones((1, 4))).shape
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
        self.query_key_value_dense = keras.layers.Dense(
            3 * hidden_dim,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="query_key_value",
        )
        self.query_key_value_dense.build(inputs_shape)
        self.output_dense = keras.layers.Dense(
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
        qkv = apply_dense(self.query_key_value_dense, inputs)
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
        return apply_dense(self.output_dense, attended)

    def compute_output_shape(
        self, inputs_shape, padding_mask_shape=None, query_positions_shape=None
    ):
        if query_positions_shape is None:
            return inputs_shape
        return tuple(query_positions_shape) + (inputs_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
