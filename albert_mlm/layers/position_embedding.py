"""Learned absolute position embeddings."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="albert_mlm")
class PositionEmbedding(keras.layers.Layer):
    """Adds no input: returns one learned vector per position of `inputs`.

    Args:
        sequence_length: the largest sequence length the table holds.
        initializer: initializer for the `(sequence_length, dim)` table.

    Example:
    >>> layer = PositionEmbedding(sequence_length=16)
    >>> tuple(layer(keras.ops.zeros((2, 5, 8))).shape)
    (2, 5, 8)
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.initializer = keras.initializers.get(initializer)

    def build(self, inputs_shape):
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
        )

    def call(self, inputs):
        shape = ops.shape(inputs)
        positions = ops.cast(self.position_embeddings[: shape[1]], self.compute_dtype)
        return ops.broadcast_to(positions[None], shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
