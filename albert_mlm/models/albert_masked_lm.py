"""ALBERT with a masked-language-modelling head, trainable on raw strings."""

import warnings

import keras

from albert_mlm.datasets.batches import lists_to_arrays, string_dataset
from albert_mlm.inference.fill_mask import fill_mask
from albert_mlm.inference.pseudo_log_likelihood import score
from albert_mlm.layers.masked_lm_head import MaskedLMHead
from albert_mlm.models.albert_backbone import AlbertBackbone
from albert_mlm.models.albert_encoder import albert_kernel_initializer
from albert_mlm.models.input_checks import check_masked_lm_data, check_masked_lm_inputs
from albert_mlm.models.task_methods import TaskMethods
from albert_mlm.presets.loading import load_task
from albert_mlm.presets.preset_methods import PresetMethods
from albert_mlm.presets.saving import save_task
from albert_mlm.presets.transformers_export import export_task
from albert_mlm.quantization import quantized_head_config
from albert_mlm.serving.saved_model import DEFAULT_MAX_MASKS, export_for_serving
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor


@keras.saving.register_keras_serializable(package="albert_mlm")
class AlbertMaskedLM(PresetMethods, TaskMethods, keras.Model):
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
    # Tasks whose presets hold this one's weights (a pretrainer's has the
    # masked-LM head too).
    preset_classes = ("AlbertMaskedLM", "AlbertPreTrainer")
    _load_preset = staticmethod(load_task)
    _save_preset = staticmethod(save_task)
    _export_transformers = staticmethod(export_task)

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
        # The heads compute in the backbone's policy; `dtype` comes back from
        # `get_config` only once `quantize` has changed a head.
        heads = self._heads(
            backbone, head_layer_norm_epsilon, kwargs.pop("dtype", None)
        )

        # === Functional Model ===
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            ),
        }
        outputs = self._outputs(backbone, heads, inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # Set after the functional model exists (see `AlbertBackbone`).
        self.backbone = backbone
        self.preprocessor = preprocessor
        for name, layer in heads.items():
            setattr(self, name, layer)

        # === Config ===
        self.head_layer_norm_epsilon = head_layer_norm_epsilon
        if compile:
            self.compile()

    @staticmethod
    def _heads(backbone, head_layer_norm_epsilon, dtype):
        """The task's layers on top of the backbone, by attribute name."""
        return {
            "masked_lm_head": MaskedLMHead(
                token_embedding=backbone.token_embedding,
                activation=backbone.activation,
                layer_norm_epsilon=head_layer_norm_epsilon,
                kernel_initializer=albert_kernel_initializer(),
                dtype=dtype or backbone.dtype_policy,
                name="mlm_head",
            )
        }

    @staticmethod
    def _outputs(backbone, heads, inputs):
        """The forward pass: the backbone's last block call at the masked
        positions only, then the head."""
        masked_output = backbone(
            {name: inputs[name] for name in backbone.input},
            output_positions=inputs["mask_positions"],
        )
        return heads["masked_lm_head"](masked_output)

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
        tokens' cross-entropy however many slots are unused. A plain
        `SparseCategoricalCrossentropy(from_logits=True)` (as on KerasHub's
        API page) averages over every slot, the unused ones counting as 0:
        its figure is lower (2.7 where the masked tokens' is 7.3, with 4 of
        every 10 slots used), though training is the same up to the learning
        rate's scale.

        On the torch backend `jit_compile=True` trains eagerly, with one
        warning: Keras traces its torch train step with `torch.compile`,
        which breaks the graph at `backward()` and recompiles as layers are
        called with new shapes, so the first epoch takes minutes
        (`benchmarks/RESULTS.md` has the figures).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            )
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy()]
        if kwargs.get("jit_compile") is True and keras.backend.backend() == "torch":
            warnings.warn(
                "jit_compile=True on the torch backend: AlbertMaskedLM trains "
                "eagerly instead (torch.compile of Keras' train step recompiles "
                "for minutes and breaks at backward()).",
                stacklevel=2,
            )
            kwargs["jit_compile"] = False
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
        """`keras.Model.fit`; on raw strings, freshly masked on every epoch.

        The masked-LM objective does not reach the backbone's pooler (a
        sentence-level layer over `[CLS]`), so its weights get no gradient
        and stay as they are; Keras' warning that says so is silenced.
        """
        check_masked_lm_data(self, x, batch_size)
        self._require_compiled()
        if self.preprocessor is not None:
            shuffle = kwargs.get("shuffle", True)
            x = string_dataset(self.preprocessor, x, batch_size, shuffle=shuffle)
            kwargs["shuffle"] = False  # Done in the dataset; Keras would warn.
            if kwargs.get("validation_data") is not None:
                kwargs["validation_data"] = string_dataset(
                    self.preprocessor,
                    kwargs["validation_data"],
                    batch_size,
                    shuffle=False,
                )
            y = sample_weight = batch_size = None
        else:
            x, y, sample_weight = lists_to_arrays((x, y, sample_weight))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_UNUSED_POOLER_WARNING)
            return super().fit(
                x=x, y=y, batch_size=batch_size, sample_weight=sample_weight, **kwargs
            )

    def evaluate(
        self, x=None, y=None, batch_size=None, sample_weight=None, seed=None, **kwargs
    ):
        """`keras.Model.evaluate`; raw strings are masked at random.

        Args:
            seed: with raw strings, an integer that fixes the masking, so two
                evaluations of the same text give the same figures; without
                it, each evaluation masks anew.
        """
        check_masked_lm_data(self, x, batch_size)
        self._require_compiled()
        if self.preprocessor is not None:
            x = string_dataset(
                self.preprocessor, x, batch_size, shuffle=False, seed=seed
            )
            y = sample_weight = batch_size = None
        else:
            x, y, sample_weight = lists_to_arrays((x, y, sample_weight))
        return super().evaluate(
            x=x, y=y, batch_size=batch_size, sample_weight=sample_weight, **kwargs
        )

    def predict(self, x, batch_size=None, **kwargs):
        """`keras.Model.predict`: logits `(batch, mask_selection_length, vocab)`.

        On raw strings the preprocessor masks random positions, anew on every
        call, as in training: it does not fill the `[MASK]` a text holds. To
        fill those, use `fill_mask` (or `albert-mlm fill-mask`). With
        integer dicts, `mask_positions` says which positions get logits.
        """
        check_masked_lm_data(self, x, batch_size)
        if self.preprocessor is not None:
            x = string_dataset(
                self.preprocessor, x, batch_size, shuffle=False, drop_remainder=False
            )
            batch_size = None
        else:
            x = lists_to_arrays(x)
        return super().predict(x, batch_size=batch_size, **kwargs)

    def fill_mask(
        self, texts, top_k=5, targets=None, batch_size=32, decoding="independent"
    ):
        """Candidates for each `[MASK]` written in `texts`, or `targets` scored
        in its place; `decoding="joint"` fills several masks together. See
        `albert_mlm.inference.fill_mask.fill_mask` for arguments and results.

        >>> AlbertMaskedLM.from_preset("albert_tiny_en_uncased").fill_mask(
        ...     "the [MASK] barked.", top_k=1)[0][0]["token"]
        '...'
        """
        return fill_mask(self, texts, top_k, targets, batch_size, decoding)

    def score(self, texts, batch_size=32, per_token=False, within_word_l2r=False):
        """Pseudo-log-likelihood and pseudo-perplexity of each text. See
        `albert_mlm.inference.pseudo_log_likelihood.score`.

        >>> AlbertMaskedLM.from_preset("albert_tiny_en_uncased").score(
        ...     "the dog barked.")["num_pieces"]
        5
        """
        return score(self, texts, batch_size, per_token, within_word_l2r)

    def export_for_serving(self, directory, top_k=5, max_masks=DEFAULT_MAX_MASKS):
        """Write a TensorFlow SavedModel whose `fill_mask` signature fills
        `[MASK]` in raw strings, from any backend. See
        `albert_mlm.serving.saved_model`. Example (any backend):
        `AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
        .export_for_serving("served_albert", top_k=3)`.
        """
        export_for_serving(self, directory, top_k, max_masks)

    def _require_compiled(self):
        # A `ValueError` starting with Keras' own words, as Keras and KerasHub
        # raise, so code that catches theirs catches ours.
        if not self.compiled:
            raise ValueError(
                "You must call `compile()` before using the model. This "
                f"{type(self).__name__} was built with compile=False; "
                "`compile()` with no arguments uses the masked-LM defaults."
            )

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
            **quantized_head_config(self),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)


# Keras' warning when the pooler, which the masked-LM loss never reaches,
# gets no gradient.
_UNUSED_POOLER_WARNING = (
    r"Gradients do not exist for variables \['pooled_dense/kernel', "
    r"'pooled_dense/bias'\]"
)
