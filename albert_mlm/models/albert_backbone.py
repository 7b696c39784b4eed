"""The ALBERT encoder: factorized embeddings and a weight-shared layer stack."""

import keras
from keras import ops

from albert_mlm.layers.fused_dense import cast_once_per_pass
from albert_mlm.models import lora
from albert_mlm.models.albert_encoder import (
    PUBLIC_LAYERS,
    backbone_layers,
)
from albert_mlm.models.backbone_arguments import check_backbone_arguments
from albert_mlm.models.input_checks import check_model_inputs
from albert_mlm.models.layout_map import (
    albert_layout_map,
    require_distribution_support,
)
from albert_mlm.presets.loading import load_backbone
from albert_mlm.presets.preset_methods import PresetMethods
from albert_mlm.presets.saving import save_backbone
from albert_mlm.presets.transformers_export import export_backbone
from albert_mlm.quantization import quantized_policy_map
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor
from albert_mlm.text.albert_tokenizer import AlbertTokenizer


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
    _export_transformers = staticmethod(export_backbone)
    cls_token_index = 0  # The position the pooler reads, KerasHub's name.

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
        config = dict(
            vocabulary_size=vocabulary_size, num_layers=num_layers,
            num_heads=num_heads, embedding_dim=embedding_dim, hidden_dim=hidden_dim,
            intermediate_dim=intermediate_dim, num_groups=num_groups,
            num_inner_repetitions=num_inner_repetitions, dropout=dropout,
            max_sequence_length=max_sequence_length, num_segments=num_segments,
            activation=activation, layer_norm_epsilon=layer_norm_epsilon,
        )  # fmt: skip
        check_backbone_arguments(config)
        require_distribution_support()

        # === Layers ===
        # Kept in locals until the functional model exists: the torch backend
        # cannot track sub-layers set on a module before its __init__.
        layers = backbone_layers(config, dtype)
        encoder = layers["encoder"]

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        x = encoder(inputs)
        pooled = layers["pooled_dense"](x[:, 0, :])
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": x, "pooled_output": pooled},
            **kwargs,
        )
        if dtype is not None:
            # A functional model does not take `dtype`; without this the
            # backbone would report (and save) float32 under any policy.
            self.dtype_policy = keras.dtype_policies.get(dtype)
        for name in PUBLIC_LAYERS:
            setattr(self, name, layers[name])
        self._encoder = encoder

        # === Config ===
        # `self.num_layers`, ... as `get_config` lists them (`dtype` is Keras').
        for name, value in config.items():
            setattr(self, name, value)

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

    def _policy_with_quantization(self):
        """The dtype policy, as a map that also holds each quantized layer's
        policy once `quantize` has run (so `from_config` rebuilds them)."""
        policy = self.dtype_policy
        if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
            return policy
        policy_map = quantized_policy_map([self], policy)
        return policy_map if len(policy_map) else policy

    # === LoRA (`models/lora.py`) ===

    def default_lora_layer_names(self):
        """The projections `enable_lora` adapts by default: query and value."""
        return list(lora.DEFAULT_LORA_LAYER_NAMES)

    def enable_lora(self, rank, target_layer_names=None):
        """Freeze every backbone weight and add trainable LoRA factors.

        Each shared block's named projections get float32 factors A
        `(hidden, rank)` (`he_uniform`) and B `(rank, hidden)` (zeros), and
        compute `x W + b + x A B` (Keras' `Dense` LoRA, `lora_alpha = rank`).
        Query, key and value are column blocks of one fused kernel: the
        update is added to the named blocks only, the others get zeros, so
        the result is that of LoRA on separate projections. Biases stay
        frozen (the LoRA paper's and PEFT's default): the factors alone
        train, and `save_lora_weights` saves all that trains. The outputs
        are unchanged until training moves B. Enable it once; then compile.

        Args:
            rank: the rank of the factors, a positive integer.
            target_layer_names: names from `query`, `key`, `value`, `output`
                (attention's output), `intermediate_dense`, `output_dense`;
                `default_lora_layer_names()` when `None`.

        Example:
        >>> backbone = AlbertBackbone(vocabulary_size=50, num_layers=2,
        ...     num_heads=2, embedding_dim=8, hidden_dim=16, intermediate_dim=32)
        >>> backbone.enable_lora(4)
        >>> sum(int(np.prod(w.shape)) for w in backbone.trainable_weights)
        256
        """
        lora.enable_lora(self, rank, target_layer_names)

    def save_lora_weights(self, filepath):
        """Write the LoRA factors (every trainable variable) to `filepath`,
        whose name must end in `.lora.h5`, atomically."""
        lora.save_lora_weights(self, filepath)

    def load_lora_weights(self, filepath):
        """Load a `.lora.h5` file from `save_lora_weights`, enabling LoRA
        with its rank and layers if not enabled yet. A file of another rank
        or other layers is refused, and nothing changes."""
        lora.load_lora_weights(self, filepath)

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


# KerasHub's tokenizer and preprocessor name the backbone they serve
# (`backbone_cls`). Ours sit below the models and never import them, so the
# backbone names itself on them; `albert_mlm` imports this module whenever
# it hands out one of its classes.
AlbertTokenizer.backbone_cls = AlbertBackbone
AlbertMaskedLMPreprocessor.backbone_cls = AlbertBackbone
