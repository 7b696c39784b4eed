"""One post-LayerNorm transformer encoder block."""

import keras
from keras import ops

from albert_mlm.layers.activations import get_activation
from albert_mlm.layers.fused_dense import FusedDense
from albert_mlm.layers.self_attention import SelfAttention


@keras.saving.register_keras_serializable(package="albert_mlm")
class EncoderBlock(keras.layers.Layer):
    """Self-attention, add & norm, feed-forward, add & norm.

    With `output_positions` (a `(batch, positions)` integer tensor), only
    those positions are computed (each still attends to the whole sequence):
    the output is `(batch, positions, hidden)`.

    Args:
        num_heads: attention heads.
        intermediate_dim: width of the feed-forward layer.
        activation: feed-forward activation name (see `layers.activations`).
        dropout: dropout on attention probabilities and on both residuals.
        layer_norm_epsilon: epsilon of both layer norms.
        kernel_initializer: initializer of every dense kernel.

    Example:
    >>> block = EncoderBlock(num_heads=2, intermediate_dim=16,
    ...     activation="gelu_approximate", layer_norm_epsilon=1e-12)
    >>> tuple(block(keras.ops.ones((1, 4, 8))).shape)
    (1, 4, 8)
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        activation,
        layer_norm_epsilon,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        get_activation(activation)  # Fail on an unknown name now, not in build.

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        policy = self.dtype_policy
        self.attention = SelfAttention(
            self.num_heads,
            dropout=self.dropout,
            kernel_initializer=self.kernel_initializer,
            dtype=policy,
            name="attention",
        )
        self.attention.build(inputs_shape)
        self.attention_dropout = keras.layers.Dropout(self.dropout, dtype=policy)
        self.attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="attention_layer_norm"
        )
        self.attention_layer_norm.build(inputs_shape)
        self.intermediate_dense = FusedDense(
            self.intermediate_dim,
            activation=get_activation(self.activation),
            kernel_initializer=self.kernel_initializer,
            dtype=policy,
            name="intermediate_dense",
        )
        self.intermediate_dense.build(inputs_shape)
        self.output_dense = FusedDense(
            hidden_dim,
            kernel_initializer=self.kernel_initializer,
            dtype=policy,
            name="output_dense",
        )
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.output_dropout = keras.layers.Dropout(self.dropout, dtype=policy)
        self.output_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="output_layer_norm"
        )
        self.output_layer_norm.build(inputs_shape)

    def call(self, inputs, padding_mask=None, training=None, output_positions=None):
        attended = self.attention(
            inputs,
            padding_mask=padding_mask,
            training=training,
            query_positions=output_positions,
        )
        if output_positions is not None:
            inputs = ops.take_along_axis(inputs, output_positions[:, :, None], 1)
        x = self.attention_layer_norm(
            inputs + self.attention_dropout(attended, training=training)
        )
        transformed = self.output_dense(self.intermediate_dense(x))
        return self.output_layer_norm(
            x + self.output_dropout(transformed, training=training)
        )

    def compute_output_shape(
        self, inputs_shape, padding_mask_shape=None, output_positions_shape=None
    ):
        if output_positions_shape is None:
            return inputs_shape
        return tuple(output_positions_shape) + (inputs_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
