"""The ALBERT encoder: factorized embeddings and a weight-shared layer stack."""

import dataclasses

import keras
from keras import ops

from albert_mlm.argument_checks import (
    check_model_inputs,
    require_positive_int,
    require_rate,
)
from albert_mlm.layers.activations import get_activation
from albert_mlm.layers.encoder_block import EncoderBlock
from albert_mlm.layers.position_embedding import PositionEmbedding
from albert_mlm.layers.shared_weight_casts import cast_once_per_pass
from albert_mlm.presets.preset_methods import PresetMethods


def albert_kernel_initializer():
    return keras.initializers.TruncatedNormal(stddev=0.02)


@keras.saving.register_keras_serializable(package="albert_mlm")
class AlbertBackbone(PresetMethods, keras.Model):
    """ALBERT encoder network (Lan et al., 2019), a functional Keras model.

    Token, position and segment embeddings of width `embedding_dim` are
    summed, normalised and projected to `hidden_dim`. The encoder then makes
    `num_layers` layer calls through only `num_groups` groups of
    `num_inner_repetitions` blocks each: call `i` runs group
    `i // (num_layers // num_groups)`, whose blocks share their weights across
    every call. `pooled_output` is a tanh dense layer over position 0 ([CLS]).

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of layer calls; a multiple of `num_groups`.
        num_heads: attention heads; must divide `hidden_dim`.
        embedding_dim: width of the factorized embeddings.
        hidden_dim: width of the encoder and the pooler.
        intermediate_dim: width of each block's feed-forward layer.
        num_groups: number of distinct groups of weights.
        num_inner_repetitions: encoder blocks in each group.
        dropout: dropout rate in [0, 1) for embeddings and encoder.
        max_sequence_length: number of learned positions.
        num_segments: number of segment ids.
        activation: feed-forward activation: `gelu_approximate` (ALBERT's,
            also called `gelu_new`/`gelu_fast`), `gelu` or `relu`.
        layer_norm_epsilon: epsilon of every layer norm in the backbone.
        dtype: a dtype policy name such as `"float32"`, `"bfloat16"` or
            `"mixed_bfloat16"`, or a `keras.DTypePolicy`.

    Example:
    >>> backbone = AlbertBackbone(vocabulary_size=100, num_layers=4, num_heads=2,
    ...     embedding_dim=8, hidden_dim=16, intermediate_dim=32, num_groups=2)
    >>> outputs = backbone({"token_ids": np.ones((1, 6), "int32"),
    ...     "segment_ids": np.zeros((1, 6), "int32"),
    ...     "padding_mask": np.ones((1, 6), "int32")})
    >>> outputs["sequence_output"].shape, outputs["pooled_output"].shape
    ((1, 6, 16), (1, 16))
    """

    _preset_kind = "backbone"

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        embedding_dim,
        hidden_dim,
        intermediate_dim,
        num_groups=1,
        num_inner_repetitions=1,
        dropout=0.0,
        max_sequence_length=512,
        num_segments=2,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-12,
        dtype=None,
        **kwargs,
    ):
        for name, value in [
            ("vocabulary_size", vocabulary_size),
            ("num_layers", num_layers),
            ("num_heads", num_heads),
            ("embedding_dim", embedding_dim),
            ("hidden_dim", hidden_dim),
            ("intermediate_dim", intermediate_dim),
            ("num_groups", num_groups),
            ("num_inner_repetitions", num_inner_repetitions),
            ("max_sequence_length", max_sequence_length),
            ("num_segments", num_segments),
        ]:
            require_positive_int(name, value)
        if num_layers % num_groups != 0:
            raise ValueError(
                "`num_layers` must be divisible by `num_groups`. Received: "
                f"num_layers={num_layers}, num_groups={num_groups}"
            )
        if hidden_dim % num_heads != 0:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}"
            )
        require_rate("dropout", dropout, allow_one=False)
        get_activation(activation)
        if not layer_norm_epsilon > 0:
            raise ValueError(
                "`layer_norm_epsilon` must be positive. Received: "
                f"layer_norm_epsilon={layer_norm_epsilon!r}"
            )

        # === Layers ===
        # Kept in locals until the functional model exists: the torch backend
        # cannot track sub-layers set on a module before its __init__.
        token_embedding = keras.layers.ReversibleEmbedding(
            input_dim=vocabulary_size,
            output_dim=embedding_dim,
            embeddings_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="token_embedding",
        )
        position_embedding = PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="position_embedding",
        )
        segment_embedding = keras.layers.Embedding(
            input_dim=num_segments,
            output_dim=embedding_dim,
            embeddings_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="segment_embedding",
        )
        embeddings_add = keras.layers.Add(dtype=dtype, name="embeddings_add")
        embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="embeddings_layer_norm"
        )
        embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        embeddings_projection = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="embeddings_projection",
        )
        groups = [
            [
                EncoderBlock(
                    num_heads=num_heads,
                    intermediate_dim=intermediate_dim,
                    activation=activation,
                    dropout=dropout,
                    layer_norm_epsilon=layer_norm_epsilon,
                    kernel_initializer=albert_kernel_initializer(),
                    dtype=dtype,
                    name=f"group_{group}_inner_layer_{inner}",
                )
                for inner in range(num_inner_repetitions)
            ]
            for group in range(num_groups)
        ]
        pooled_dense = keras.layers.Dense(
            hidden_dim,
            activation="tanh",
            kernel_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="pooled_dense",
        )

        calls_per_group = num_layers // num_groups
        encoder = _Encoder(
            token_embedding=token_embedding,
            position_embedding=position_embedding,
            segment_embedding=segment_embedding,
            embeddings_add=embeddings_add,
            embeddings_layer_norm=embeddings_layer_norm,
            embeddings_dropout=embeddings_dropout,
            embeddings_projection=embeddings_projection,
            block_calls=[
                block
                for layer_index in range(num_layers)
                for block in groups[layer_index // calls_per_group]
            ],
        )

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        x = encoder(inputs)
        pooled = pooled_dense(x[:, 0, :])
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": x, "pooled_output": pooled},
            dtype=dtype,
            **kwargs,
        )

        self.token_embedding = token_embedding
        self.position_embedding = position_embedding
        self.segment_embedding = segment_embedding
        self.embeddings_layer_norm = embeddings_layer_norm
        self.embeddings_projection = embeddings_projection
        self.groups = groups
        self.pooled_dense = pooled_dense
        self._encoder = encoder

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.num_groups = num_groups
        self.num_inner_repetitions = num_inner_repetitions
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon

    def __call__(self, inputs, *args, **kwargs):
        check_model_inputs(self, inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        # Shared blocks run many times per pass: cast their kernels to the
        # compute dtype once, not once per layer call.
        with cast_once_per_pass():
            return super().call(inputs, training=training, mask=mask)

    def sequence_output_at(self, inputs, positions, training=None):
        """`sequence_output` at `positions` only, `(batch, positions, hidden_dim)`.

        Equal to gathering `self(inputs)["sequence_output"]` at `positions`
        along the sequence axis, but the last block call computes only those
        positions (each still attends to the whole sequence).

        Args:
            inputs: the backbone's input dict.
            positions: integer tensor `(batch, positions)`.
            training: whether dropout is active.
        """
        with cast_once_per_pass():
            return self._encoder(
                inputs, training=training, output_positions=ops.cast(positions, "int32")
            )

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "embedding_dim": self.embedding_dim,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "num_groups": self.num_groups,
            "num_inner_repetitions": self.num_inner_repetitions,
            "dropout": self.dropout,
            "max_sequence_length": self.max_sequence_length,
            "num_segments": self.num_segments,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)

    @classmethod
    def get_layout_map(
        cls,
        device_mesh,
        model_parallel_dim_name="model",
        data_parallel_dim_name="batch",
    ):
        """A `keras.distribution.LayoutMap` for `keras.distribution.ModelParallel`.

        Splits the large kernels over the mesh axis `model_parallel_dim_name`
        and their other axis over `data_parallel_dim_name`: the token
        embedding by vocabulary rows; the embedding projection, the fused
        query/key/value kernel and the feed-forward `intermediate_dense` by
        output columns; the attention `output` and feed-forward `output_dense`
        by input rows. A group's shared blocks are one set of variables, so
        each is sharded once however many layer calls use it. Every other
        variable (biases, layer norms, position and segment embeddings, the
        pooler, the masked-LM head) is replicated. Each sharded dimension must
        be divisible by the size of its mesh axis.

        Args:
            device_mesh: a `keras.distribution.DeviceMesh`.
            model_parallel_dim_name: the mesh axis the weights are split over.
            data_parallel_dim_name: the mesh axis the batch is split over.

        Example:
        >>> devices = keras.distribution.list_devices()
        >>> mesh = keras.distribution.DeviceMesh((1, len(devices)),
        ...     ("batch", "model"), devices=devices)
        >>> layout_map = AlbertBackbone.get_layout_map(mesh)
        >>> distribution = keras.distribution.ModelParallel(
        ...     layout_map=layout_map, batch_dim_name="batch")
        >>> with distribution.scope():
        ...     backbone = AlbertBackbone(vocabulary_size=100, num_layers=2,
        ...         num_heads=2, embedding_dim=8, hidden_dim=16,
        ...         intermediate_dim=32)
        """
        if not isinstance(device_mesh, keras.distribution.DeviceMesh):
            raise TypeError(
                "`device_mesh` must be a `keras.distribution.DeviceMesh`. "
                f"Received: {type(device_mesh).__name__}"
            )
        for argument, axis in [
            ("model_parallel_dim_name", model_parallel_dim_name),
            ("data_parallel_dim_name", data_parallel_dim_name),
        ]:
            if axis not in device_mesh.axis_names:
                raise ValueError(
                    f"`{argument}` must be an axis of `device_mesh`, one of "
                    f"{list(device_mesh.axis_names)}. Received: {axis!r}"
                )
        model, data = model_parallel_dim_name, data_parallel_dim_name
        block = r"group_\d+_inner_layer_\d+/"
        layout_map = keras.distribution.LayoutMap(device_mesh)
        layout_map["token_embedding/embeddings"] = (model, data)
        layout_map["embeddings_projection/kernel"] = (data, model)
        layout_map[block + "attention/query_key_value/kernel"] = (data, model)
        layout_map[block + "attention/output/kernel"] = (model, data)
        layout_map[block + "intermediate_dense/kernel"] = (data, model)
        layout_map[block + "output_dense/kernel"] = (model, data)
        return layout_map


@dataclasses.dataclass
class _Encoder:
    """The backbone's layers in call order, from input ids to `sequence_output`.

    One definition of the forward pass, for both the functional graph and
    `AlbertBackbone.sequence_output_at`. A plain object, so Keras tracks the
    layers only where the backbone sets them as attributes.
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
        for block in self.block_calls[:-1]:
            x = block(x, padding_mask=padding_mask, training=training)
        return self.block_calls[-1](
            x,
            padding_mask=padding_mask,
            training=training,
            output_positions=output_positions,
        )
