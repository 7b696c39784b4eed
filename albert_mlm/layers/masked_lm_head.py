"""The masked-LM head: gather, transform, project onto the tied embedding."""

import keras
from keras import ops

from albert_mlm.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="albert_mlm")
class MaskedLMHead(keras.layers.Layer):
    """Vocabulary logits at `mask_positions` only (never the full sequence).

    Gathers the encoder output at the masked positions (or takes it already
    gathered when `mask_positions` is `None`), applies a dense layer
    back to the embedding width with `activation`, a layer norm, then the
    transposed token embedding (tied weights) plus a bias.

    Args:
        token_embedding: the backbone's `keras.layers.ReversibleEmbedding`.
        activation: activation name of the dense transform.
        layer_norm_epsilon: epsilon of the layer norm.
        kernel_initializer: initializer of the dense kernel.

    Example:
    >>> embedding = keras.layers.ReversibleEmbedding(50, 8)
    >>> embedding.build((None,))
    >>> head = MaskedLMHead(embedding)
    >>> head(keras.ops.ones((2, 6, 16)), keras.ops.array([[1, 3]] * 2)).shape
    (2, 2, 50)
    """

    def __init__(
        self,
        token_embedding,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        get_activation(activation)

    def build(self, inputs_shape, mask_positions_shape=None):
        embedding_dim = self.token_embedding.output_dim
        self.dense = keras.layers.Dense(
            embedding_dim,
            activation=get_activation(self.activation),
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="dense",
        )
        self.dense.build(inputs_shape)
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )
        self.layer_norm.build(tuple(inputs_shape[:-1]) + (embedding_dim,))
        self.output_bias = self.add_weight(
            name="output_bias",
            shape=(self.token_embedding.input_dim,),
            initializer="zeros",
        )

    def call(self, inputs, mask_positions=None):
        if mask_positions is not None:
            positions = ops.cast(mask_positions, "int32")[..., None]
            inputs = ops.take_along_axis(inputs, positions, axis=1)
        x = self.layer_norm(self.dense(inputs))
        logits = self.token_embedding(x, reverse=True)
        logits = ops.cast(logits, self.compute_dtype) + ops.cast(
            self.output_bias, self.compute_dtype
        )
        # Losses and softmax want full precision under mixed precision.
        return ops.cast(logits, self.variable_dtype)

    def compute_output_shape(self, inputs_shape, mask_positions_shape=None):
        if mask_positions_shape is None:
            return tuple(inputs_shape[:-1]) + (self.token_embedding.input_dim,)
        return tuple(mask_positions_shape) + (self.token_embedding.input_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "token_embedding": keras.layers.serialize(self.token_embedding),
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        embedding = keras.layers.deserialize(config["token_embedding"])
        embedding.build((None,))
        config["token_embedding"] = embedding
        return cls(**config)
