"""The ALBERT encoder: factorized embeddings and a weight-shared layer stack."""

import dataclasses

import keras
from keras import ops

from albert_mlm.argument_checks import constructor_arguments
from albert_mlm.layers.encoder_block import EncoderBlock
from albert_mlm.layers.fused_dense import cast_once_per_pass
from albert_mlm.layers.position_embedding import PositionEmbedding
from albert_mlm.models.backbone_arguments import check_backbone_arguments
from albert_mlm.models.input_checks import check_model_inputs, known_unpadded
from albert_mlm.models.layout_map import albert_layout_map
from albert_mlm.presets.loading import load_backbone
from albert_mlm.presets.preset_methods import PresetMethods
from albert_mlm.presets.saving import save_backbone


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

    Called with `output_positions` (a `(batch, positions)` integer tensor),
    it returns `sequence_output` at those positions only, and its last block
    call computes only them (each still attends to the whole sequence): what
    a masked-LM head needs, for less work.

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
    >>> [tuple(outputs[key].shape) for key in ("sequence_output", "pooled_output")]
    [(1, 6, 16), (1, 16)]
    """

    _load_preset = staticmethod(load_backbone)
    _save_preset = staticmethod(save_backbone)

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
        arguments = locals()
        check_backbone_arguments(arguments)

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
                    layer_norm_epsilon=layer_norm_epsilon,
                    dropout=dropout,
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
            **kwargs,
        )
        if dtype is not None:
            # A functional model does not take `dtype`; without this the
            # backbone would report (and save) float32 under any policy.
            self.dtype_policy = keras.dtype_policies.get(dtype)

        self.token_embedding = token_embedding
        self.position_embedding = position_embedding
        self.segment_embedding = segment_embedding
        self.embeddings_layer_norm = embeddings_layer_norm
        self.embeddings_projection = embeddings_projection
        self.groups = groups
        self.pooled_dense = pooled_dense
        self._encoder = encoder

        # === Config ===
        for name in constructor_arguments(type(self)):
            if name != "dtype":  # Keras keeps the policy (`self.dtype_policy`).
                setattr(self, name, arguments[name])

    def __call__(self, inputs, *args, **kwargs):
        check_model_inputs(self, inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None, output_positions=None):
        # Shared blocks run many times per pass: their kernels are cast to the
        # compute dtype once, not once per layer call (see `FusedDense`).
        with cast_once_per_pass():
            if output_positions is None:
                return super().call(inputs, training=training, mask=mask)
            return self._encoder(
                inputs,
                training=training,
                output_positions=ops.cast(output_positions, "int32"),
            )

    def compute_output_spec(
        self, inputs, training=None, mask=None, output_positions=None
    ):
        if output_positions is None:
            return super().compute_output_spec(inputs, training=training, mask=mask)
        return keras.KerasTensor(
            tuple(output_positions.shape) + (self.hidden_dim,),
            dtype=self.compute_dtype,
        )

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self._policy_with_quantization()),
            **{
                name: getattr(self, name)
                for name in constructor_arguments(type(self))
                if name != "dtype"
            },
        }

    def _policy_with_quantization(self):
        """The dtype policy, as a map that also holds each quantized layer's
        policy once `quantize` has run (so `from_config` rebuilds them)."""
        policy = self.dtype_policy
        if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
            return policy
        policy_map = keras.dtype_policies.DTypePolicyMap(default_policy=policy)
        for layer in self._flatten_layers():
            if layer.quantization_mode is not None:
                policy_map[layer.path] = layer.dtype_policy
        return policy_map if len(policy_map) else policy

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
        and their other axis over `data_parallel_dim_name`, and replicates the
        rest (which kernels, and along which axis: `models/layout_map.py`).

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
        return albert_layout_map(
            device_mesh, model_parallel_dim_name, data_parallel_dim_name
        )


@dataclasses.dataclass
class _Encoder:
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
