"""ALBERT with a masked-language-modelling head, trainable on raw strings."""

import keras
import numpy as np

from albert_mlm.layers.masked_lm_head import MaskedLMHead
from albert_mlm.models.albert_backbone import AlbertBackbone, albert_kernel_initializer
from albert_mlm.models.input_checks import check_masked_lm_data, check_masked_lm_inputs
from albert_mlm.presets.loading import load_task
from albert_mlm.presets.preset_methods import PresetMethods
from albert_mlm.presets.saving import save_task
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor


@keras.saving.register_keras_serializable(package="albert_mlm")
class AlbertMaskedLM(PresetMethods, keras.Model):
    """An end-to-end ALBERT model for masked language modelling.

    Predicts the original tokens at `mask_positions`: the backbone computes
    its last layer call at those positions only, and the head turns them into
    vocabulary logits. With a `preprocessor`,
    `fit()`, `evaluate()` and `predict()` take raw strings (a list, a tuple of
    two lists for sentence pairs, or a `tf.data.Dataset` of string batches),
    which are tokenized and freshly masked on every pass. Without one, they
    take the integer dicts the preprocessor would produce, plus labels.

    Args:
        backbone: an `AlbertBackbone`.
        preprocessor: an `AlbertMaskedLMPreprocessor`, or `None`.
        head_layer_norm_epsilon: epsilon of the head's layer norm (1e-5 as in
            KerasHub; Hugging Face checkpoints use their `layer_norm_eps`).
        compile: compile with the defaults of `compile()` now (as KerasHub's
            tasks do); with `False`, call `compile()` yourself before `fit`.

    Example:
    >>> from albert_mlm import (AlbertBackbone, AlbertMaskedLM,
    ...     AlbertMaskedLMPreprocessor, AlbertTokenizer)
    >>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
    >>> backbone = AlbertBackbone(vocabulary_size=tokenizer.vocabulary_size(),
    ...     num_layers=2, num_heads=2, embedding_dim=8, hidden_dim=16,
    ...     intermediate_dim=32)
    >>> preprocessor = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=16)
    >>> masked_lm = AlbertMaskedLM(backbone, preprocessor)
    >>> history = masked_lm.fit(["the quick brown fox.", "a dog."], batch_size=2,
    ...     verbose=0)
    """

    backbone_cls = AlbertBackbone
    preprocessor_cls = AlbertMaskedLMPreprocessor
    _load_preset = staticmethod(load_task)
    _save_preset = staticmethod(save_task)

    def __init__(
        self,
        backbone,
        preprocessor=None,
        head_layer_norm_epsilon=1e-5,
        *,
        compile=True,
        **kwargs,
    ):
        if not isinstance(backbone, self.backbone_cls):
            raise TypeError(
                "`backbone` must be an `AlbertBackbone`. Received: "
                f"{type(backbone).__name__}"
            )
        if preprocessor is not None:
            if not isinstance(preprocessor, self.preprocessor_cls):
                raise TypeError(
                    "`preprocessor` must be an `AlbertMaskedLMPreprocessor` or "
                    f"None. Received: {type(preprocessor).__name__}"
                )
            if preprocessor.sequence_length > backbone.max_sequence_length:
                raise ValueError(
                    "The preprocessor's `sequence_length` "
                    f"({preprocessor.sequence_length}) exceeds the backbone's "
                    f"`max_sequence_length` ({backbone.max_sequence_length})."
                )
        # === Layers ===
        masked_lm_head = MaskedLMHead(
            token_embedding=backbone.token_embedding,
            activation=backbone.activation,
            layer_norm_epsilon=head_layer_norm_epsilon,
            kernel_initializer=albert_kernel_initializer(),
            # The head computes in the backbone's policy; `dtype` comes back
            # from `get_config` only once `quantize` has changed the head.
            dtype=kwargs.pop("dtype", None) or backbone.dtype_policy,
            name="mlm_head",
        )

        # === Functional Model ===
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            ),
        }
        masked_output = backbone(
            backbone.input, output_positions=inputs["mask_positions"]
        )
        logits = masked_lm_head(masked_output)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        # Set after the functional model exists (see `AlbertBackbone`).
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = masked_lm_head

        # === Config ===
        self.head_layer_norm_epsilon = head_layer_norm_epsilon
        if compile:
            self.compile()

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        *,
        weighted_metrics="auto",
        **kwargs,
    ):
        """`keras.Model.compile` with masked-LM defaults for `"auto"` values.

        Defaults: `Adam(5e-5)`, `SparseCategoricalCrossentropy(from_logits=True)`
        and a weighted `SparseCategoricalAccuracy` (unused mask slots have
        weight 0). The default loss averages over the real masked tokens
        (`reduction="mean_with_sample_weight"`), so it reads as the masked
        tokens' cross-entropy however many slots are unused.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            )
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy()]
        super().compile(
            optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics, **kwargs
        )

    def compile_from_config(self, config):
        # Lets `keras.saving.load_model` restore the compiled state.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def __call__(self, inputs, *args, **kwargs):
        check_masked_lm_inputs(self, inputs)
        return super().__call__(inputs, *args, **kwargs)

    # === Raw-string entry points ===

    def fit(self, x=None, y=None, batch_size=None, sample_weight=None, **kwargs):
        check_masked_lm_data(self, x)
        self._require_compiled()
        if self.preprocessor is not None:
            x = self._string_dataset(x, batch_size, shuffle=kwargs.get("shuffle", True))
            kwargs["shuffle"] = False  # Done in the dataset; Keras would warn.
            if kwargs.get("validation_data") is not None:
                kwargs["validation_data"] = self._string_dataset(
                    kwargs["validation_data"], batch_size, shuffle=False
                )
            y = sample_weight = batch_size = None
        else:
            x, y, sample_weight = _lists_to_arrays((x, y, sample_weight))
        return super().fit(
            x=x, y=y, batch_size=batch_size, sample_weight=sample_weight, **kwargs
        )

    def evaluate(self, x=None, y=None, batch_size=None, sample_weight=None, **kwargs):
        check_masked_lm_data(self, x)
        self._require_compiled()
        if self.preprocessor is not None:
            x = self._string_dataset(x, batch_size, shuffle=False)
            y = sample_weight = batch_size = None
        else:
            x, y, sample_weight = _lists_to_arrays((x, y, sample_weight))
        return super().evaluate(
            x=x, y=y, batch_size=batch_size, sample_weight=sample_weight, **kwargs
        )

    def predict(self, x, batch_size=None, **kwargs):
        check_masked_lm_data(self, x)
        if self.preprocessor is not None:
            x = self._string_dataset(x, batch_size, shuffle=False, drop_remainder=False)
            batch_size = None
        else:
            x = _lists_to_arrays(x)
        return super().predict(x, batch_size=batch_size, **kwargs)

    def _require_compiled(self):
        if not self.compiled:
            raise RuntimeError(
                f"This {type(self).__name__} is not compiled (it was built with "
                "compile=False). Call `compile()` first: with no arguments it "
                "uses the masked-LM defaults."
            )

    def _string_dataset(self, x, batch_size, shuffle, drop_remainder=True):
        """A batched, preprocessed, prefetched `tf.data.Dataset` of strings.

        Under a Keras distribution that splits each batch over `n` devices,
        `batch_size` is the global batch and must be a multiple of `n`, and
        with `drop_remainder` a final partial batch is dropped, since every
        device needs an equal share.
        """
        import tensorflow as tf

        if isinstance(x, tf.data.Dataset):
            dataset = x
        else:
            batch_size = batch_size or 32
            batch_shards = _batch_shards()
            if batch_size % batch_shards:
                raise ValueError(
                    f"`batch_size` must be a multiple of the {batch_shards} "
                    "devices the distribution splits each batch over. "
                    f"Received: batch_size={batch_size}"
                )
            dataset = tf.data.Dataset.from_tensor_slices(x)
            if shuffle:
                dataset = dataset.shuffle(int(dataset.cardinality()))
            dataset = dataset.batch(
                batch_size, drop_remainder=drop_remainder and batch_shards > 1
            )
        spec = dataset.element_spec
        if isinstance(spec, dict) or (
            isinstance(spec, tuple) and isinstance(spec[0], dict)
        ):
            return dataset  # Already preprocessed: integer dicts.
        preprocessor = self.preprocessor

        def preprocess(*segments):
            outputs = preprocessor(segments if len(segments) > 1 else segments[0])
            # Keep a static batch size static: Keras needs it to split each
            # batch between the processes of a multi-host distribution.
            batch_shape = segments[0].shape
            if batch_shape.rank == 1:
                for tensor in tf.nest.flatten(outputs):
                    tensor.set_shape(batch_shape.concatenate(tensor.shape[1:]))
            return outputs

        dataset = dataset.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.prefetch(tf.data.AUTOTUNE)

    # === Config ===

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.layers.serialize(self.backbone),
            "preprocessor": (
                keras.layers.serialize(self.preprocessor)
                if self.preprocessor is not None
                else None
            ),
            "head_layer_norm_epsilon": self.head_layer_norm_epsilon,
            **self._quantized_head_policy(),
        }

    def _quantized_head_policy(self):
        """`{"dtype": policy map}` once `quantize` has changed head layers."""
        policy_map = keras.dtype_policies.DTypePolicyMap(
            default_policy=self.backbone.dtype_policy
        )
        for layer in self.masked_lm_head._flatten_layers():
            if layer.quantization_mode is not None:
                policy_map[layer.path] = layer.dtype_policy
        if not len(policy_map):
            return {}
        return {"dtype": keras.dtype_policies.serialize(policy_map)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)


def _batch_shards():
    """How many devices split each batch under the current Keras distribution."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    mesh = distribution.device_mesh
    return mesh.shape[mesh.axis_names.index(distribution.batch_dim_name)]


def _lists_to_arrays(structure):
    """Nested Python lists of numbers (as on KerasHub's API page) to arrays."""
    if isinstance(structure, list):
        return np.asarray(structure)
    if isinstance(structure, dict):
        return {key: _lists_to_arrays(value) for key, value in structure.items()}
    if isinstance(structure, tuple):
        return tuple(_lists_to_arrays(value) for value in structure)
    return structure
