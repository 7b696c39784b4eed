"""The masked-LM head: transform, normalise, project onto the tied embedding."""

import keras
from keras import ops

from albert_mlm.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="albert_mlm")
class MaskedLMHead(keras.layers.Layer):
    """Vocabulary logits for encoder outputs (taken at the masked positions).

    A dense layer back to the embedding width with `activation`, a layer
    norm, then the transposed token embedding (tied weights) plus a bias.

    Args:
        token_embedding: the backbone's `keras.layers.ReversibleEmbedding`.
        activation: activation name of the dense transform.
        layer_norm_epsilon: epsilon of the layer norm.
        kernel_initializer: initializer of the dense kernel.

    Example:
    >>> embedding = keras.layers.ReversibleEmbedding(50, 8)
    >>> embedding.build((None,))
    >>> head = MaskedLMHead(embedding, "gelu_approximate", layer_norm_epsilon=1e-5)
    >>> tuple(head(keras.ops.ones((2, 3, 16))).shape)
    (2, 3, 50)
    """

    def __init__(
        self,
        token_embedding,
        activation,
        layer_norm_epsilon,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._tied = _TiedEmbedding(token_embedding)
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        get_activation(activation)

    @property
    def token_embedding(self):
        """The backbone's token embedding, whose transpose projects to logits."""
        return self._tied.layer

    def build(self, inputs_shape):
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

    def call(self, inputs):
        x = self.layer_norm(self.dense(inputs))
        logits = self.token_embedding(x, reverse=True)
        logits = ops.cast(logits, self.compute_dtype) + ops.cast(
            self.output_bias, self.compute_dtype
        )
        # Losses and softmax want full precision under mixed precision.
        return ops.cast(logits, self.variable_dtype)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (self.token_embedding.input_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "token_embedding": keras.layers.serialize(self.token_embedding),
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        embedding = keras.layers.deserialize(config["token_embedding"])
        embedding.build((None,))
        config["token_embedding"] = embedding
        return cls(**config)


class _TiedEmbedding:
    """A reference to the backbone's embedding that Keras does not track.

    The backbone owns the embedding: held as a plain attribute, the head would
    count its weights again (`summary()` rows would add up to more than the
    model's total) and list them among its own.
    """

    def __init__(self, layer):
        self.layer = layer
