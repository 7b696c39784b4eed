"""The ALBERT encoder's layers and its one forward definition, from input ids
to `sequence_output`: embeddings, projection, then the shared blocks in call
order. `AlbertBackbone` traces its functional graph from `AlbertEncoder`.

>>> config = dict(vocabulary_size=50, num_layers=4, num_heads=2, embedding_dim=8,
...     hidden_dim=16, intermediate_dim=32, num_groups=2, num_inner_repetitions=1,
...     dropout=0.0, max_sequence_length=16, num_segments=2,
...     activation="gelu_approximate", layer_norm_epsilon=1e-12)
>>> layers = backbone_layers(config, dtype=None)
>>> [block.name for block in layers["block_calls"]]
['group_0_inner_layer_0', 'group_0_inner_layer_0', 'group_1_inner_layer_0',
 'group_1_inner_layer_0']
"""

import dataclasses

import keras

from albert_mlm.layers.encoder_block import EncoderBlock
from albert_mlm.layers.position_embedding import PositionEmbedding
from albert_mlm.models.input_checks import known_unpadded


def albert_kernel_initializer():
    return keras.initializers.TruncatedNormal(stddev=0.02)


# The layers the backbone exposes as attributes (KerasHub's names where it
# has them); the embeddings' add and dropout stay inside the encoder.
PUBLIC_LAYERS = (
    "token_embedding",
    "position_embedding",
    "segment_embedding",
    "embeddings_layer_norm",
    "embeddings_projection",
    "groups",
    "pooled_dense",
)


def backbone_layers(config, dtype):
    """Every layer of a backbone of `config` (its constructor arguments), by
    name, and `"encoder"`, the `AlbertEncoder` that calls them in order."""
    layers = _embedding_layers(config, dtype)
    layers["groups"] = groups = [
        [
            EncoderBlock(
                num_heads=config["num_heads"],
                intermediate_dim=config["intermediate_dim"],
                activation=config["activation"],
                layer_norm_epsilon=config["layer_norm_epsilon"],
                dropout=config["dropout"],
                kernel_initializer=albert_kernel_initializer(),
                dtype=dtype,
                name=f"group_{group}_inner_layer_{inner}",
            )
            for inner in range(config["num_inner_repetitions"])
        ]
        for group in range(config["num_groups"])
    ]
    # Call `i` runs group `i // calls_per_group`, each of its blocks once.
    calls_per_group = config["num_layers"] // config["num_groups"]
    layers["block_calls"] = [
        block
        for layer_index in range(config["num_layers"])
        for block in groups[layer_index // calls_per_group]
    ]
    layers["pooled_dense"] = keras.layers.Dense(
        config["hidden_dim"],
        activation="tanh",
        kernel_initializer=albert_kernel_initializer(),
        dtype=dtype,
        name="pooled_dense",
    )
    fields = [field.name for field in dataclasses.fields(AlbertEncoder)]
    layers["encoder"] = AlbertEncoder(**{name: layers[name] for name in fields})
    return layers


def _embedding_layers(config, dtype):
    """Token, position and segment embeddings, their sum, normalisation,
    dropout and projection to `hidden_dim`."""
    return dict(
        token_embedding=keras.layers.ReversibleEmbedding(
            input_dim=config["vocabulary_size"],
            output_dim=config["embedding_dim"],
            embeddings_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="token_embedding",
        ),
        position_embedding=PositionEmbedding(
            sequence_length=config["max_sequence_length"],
            initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="position_embedding",
        ),
        segment_embedding=keras.layers.Embedding(
            input_dim=config["num_segments"],
            output_dim=config["embedding_dim"],
            embeddings_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="segment_embedding",
        ),
        embeddings_add=keras.layers.Add(dtype=dtype, name="embeddings_add"),
        embeddings_layer_norm=keras.layers.LayerNormalization(
            epsilon=config["layer_norm_epsilon"],
            dtype=dtype,
            name="embeddings_layer_norm",
        ),
        embeddings_dropout=keras.layers.Dropout(
            config["dropout"], dtype=dtype, name="embeddings_dropout"
        ),
        embeddings_projection=keras.layers.Dense(
            config["hidden_dim"],
            kernel_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="embeddings_projection",
        ),
    )


@dataclasses.dataclass
class AlbertEncoder:
    """The backbone's layers in call order, from input ids to `sequence_output`.

    The one definition of the forward pass: the functional graph is traced
    from it, and a call with `output_positions` runs it. A plain object, so
    Keras tracks the layers only where the backbone sets them as attributes.
    """

    token_embedding: keras.layers.Layer
    position_embedding: keras.layers.Layer
    segment_embedding: keras.layers.Layer
    embeddings_add: keras.layers.Layer
    embeddings_layer_norm: keras.layers.Layer
    embeddings_dropout: keras.layers.Layer
    embeddings_projection: keras.layers.Layer
    block_calls: list

    def __call__(self, inputs, training=None, output_positions=None):
        tokens = self.token_embedding(inputs["token_ids"])
        x = self.embeddings_add(
            (
                tokens,
                self.position_embedding(tokens),
                self.segment_embedding(inputs["segment_ids"]),
            )
        )
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x, training=training)
        x = self.embeddings_projection(x)
        padding_mask = inputs["padding_mask"]
        if known_unpadded(padding_mask):
            # No key is padding: attention needs no mask, and takes the
            # fastest kernel. A mask only on a device is kept, unread.
            padding_mask = None
        for block in self.block_calls[:-1]:
            x = block(x, padding_mask=padding_mask, training=training)
        return self.block_calls[-1](
            x,
            padding_mask=padding_mask,
            training=training,
            output_positions=output_positions,
        )
