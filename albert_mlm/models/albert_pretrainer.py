"""ALBERT's pretraining task: masked-LM and sentence-order prediction."""

import keras
import numpy as np
from keras import ops

from albert_mlm.datasets.batches import document_batches
from albert_mlm.models.albert_encoder import albert_kernel_initializer
from albert_mlm.models.albert_masked_lm import AlbertMaskedLM
from albert_mlm.models.input_checks import check_masked_lm_data

# transformers' `AlbertSOPHead` classifies into in order (0) or swapped (1).
SENTENCE_ORDER_CLASSES = 2


@keras.saving.register_keras_serializable(package="albert_mlm")
class AlbertPreTrainer(AlbertMaskedLM):
    """An `AlbertMaskedLM` that also predicts sentence order (SOP), as ALBERT
    was pretrained (Lan et al., 2019).

    Besides the masked-LM logits, a dense layer over the backbone's pooled
    `[CLS]` output tells whether the two segments are in their original order
    (0) or swapped (1): transformers' `AlbertForPreTraining`'s
    `sop_classifier`. Called, it returns
    `{"masked_lm": (batch, mask_positions, vocabulary), "sentence_order":
    (batch, 2)}` logits. With a preprocessor, `fit` and `evaluate` take raw
    documents (see `fit`); without, preprocessed batches with labels
    `{"masked_lm": ids, "sentence_order": 0 or 1}` and the matching sample
    weights. Presets saved from it load as `AlbertPreTrainer`,
    `AlbertMaskedLM` and `AlbertBackbone`.

    Args: those of `AlbertMaskedLM`.

    Example:
    >>> from albert_mlm import (AlbertBackbone, AlbertMaskedLMPreprocessor,
    ...     AlbertTokenizer)
    >>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
    >>> backbone = AlbertBackbone(vocabulary_size=tokenizer.vocabulary_size(),
    ...     num_layers=2, num_heads=2, embedding_dim=8, hidden_dim=16,
    ...     intermediate_dim=32)
    >>> outputs = AlbertPreTrainer(backbone)({"token_ids": np.ones((2, 6), "int32"),
    ...     "segment_ids": np.zeros((2, 6), "int32"),
    ...     "padding_mask": np.ones((2, 6), "int32"),
    ...     "mask_positions": np.array([[1, 2], [3, 0]])})
    >>> [tuple(outputs[key].shape) for key in ("masked_lm", "sentence_order")]
    [(2, 2, 8000), (2, 2)]

    Trained on documents, one sentence per line:
    >>> preprocessor = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=16,
    ...     mask_selection_length=4, mask_strategy="ngram")
    >>> pretrainer = AlbertPreTrainer(backbone, preprocessor)
    >>> documents = ["the cat sat.\\nit purred.\\nthen it slept.",
    ...     "a dog ran.\\nit barked at the moon."]
    >>> history = pretrainer.fit(documents, batch_size=2, epochs=2, seed=0,
    ...     verbose=0)
    >>> sorted(history.history)  # doctest: +NORMALIZE_WHITESPACE
    ['loss', 'masked_lm_accuracy', 'masked_lm_loss', 'sentence_order_accuracy',
     'sentence_order_loss']
    """

    preset_classes = ("AlbertPreTrainer", "AlbertMaskedLM")

    @staticmethod
    def _heads(backbone, head_layer_norm_epsilon, dtype):
        heads = AlbertMaskedLM._heads(backbone, head_layer_norm_epsilon, dtype)
        heads["sentence_order_head"] = keras.layers.Dense(
            SENTENCE_ORDER_CLASSES,
            kernel_initializer=albert_kernel_initializer(),
            dtype=dtype or backbone.dtype_policy,
            name="sentence_order_head",
        )
        heads["sentence_order_dropout"] = keras.layers.Dropout(
            backbone.dropout, dtype=dtype or backbone.dtype_policy
        )
        return heads

    @staticmethod
    def _outputs(backbone, heads, inputs):
        """The backbone's last block call at [CLS] and the masked positions
        only; the pooler reads [CLS], the masked-LM head the rest."""
        mask_positions = inputs["mask_positions"]
        positions = ops.concatenate(
            [ops.zeros_like(mask_positions[:, :1]), mask_positions], axis=1
        )
        selected = backbone(
            {name: inputs[name] for name in backbone.input},
            output_positions=positions,
        )
        pooled = backbone.pooled_dense(selected[:, 0, :])
        sentence_order = heads["sentence_order_head"](
            heads["sentence_order_dropout"](pooled)
        )
        return {
            "masked_lm": heads["masked_lm_head"](selected[:, 1:, :]),
            # Full precision for the loss, as the masked-LM logits are.
            "sentence_order": ops.cast(sentence_order, "float32"),
        }

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        *,
        weighted_metrics="auto",
        **kwargs,
    ):
        """`AlbertMaskedLM.compile`, with both objectives for `"auto"` values.

        The loss is the sum of the masked tokens' cross-entropy and the
        sentence-order cross-entropy (each averaged over its real items:
        unused mask slots and one-segment sequences have weight 0); the
        metrics are the accuracy of each.
        """
        if loss == "auto":
            loss = {
                output: keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True, reduction="mean_with_sample_weight"
                )
                for output in ("masked_lm", "sentence_order")
            }
        if weighted_metrics == "auto":
            weighted_metrics = {
                "masked_lm": [keras.metrics.SparseCategoricalAccuracy("accuracy")],
                "sentence_order": [keras.metrics.SparseCategoricalAccuracy("accuracy")],
            }
        super().compile(optimizer, loss, weighted_metrics=weighted_metrics, **kwargs)

    # === Raw documents ===

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        sample_weight=None,
        *,
        seed=None,
        **kwargs,
    ):
        """`AlbertMaskedLM.fit`; raw text is read as documents.

        With a preprocessor, `x` may be documents: a list of strings, or a
        `tf.data.Dataset` of strings or of batches of them, each string one
        document whose lines are its sentences. They are packed into
        sentence pairs as `albert-mlm pretrain --packing documents` packs a
        corpus (`albert_mlm.datasets.document_packing`; a sentence longer
        than `sequence_length` is cut), masked by the preprocessor's
        `mask_strategy`, labelled for sentence order and batched by
        `batch_size` (32 by default). An epoch is the batches of one pass
        over the documents, unless `steps_per_epoch` says otherwise; each
        pass packs, swaps and masks anew. A document of one sentence gives
        masked-LM examples only; when no document has two, this warns and
        only the masked LM trains. `validation_data` may be documents too,
        packed and masked the same way for every epoch.

        Args:
            seed: with documents, an integer that fixes the packing, swaps,
                shuffling and masking; `None` draws one.
        """
        if not self._reads_documents(x):
            return super().fit(x, y, batch_size, sample_weight, **kwargs)
        check_masked_lm_data(self, x, batch_size)
        self._require_compiled()
        batch_size, seed = batch_size or 32, _seed(seed)
        x, steps = document_batches(
            _documents(x),
            self.preprocessor,
            batch_size,
            seed,
            shuffle=kwargs.pop("shuffle", True),
        )
        kwargs.setdefault("steps_per_epoch", steps)
        if self._reads_documents(kwargs.get("validation_data")):
            kwargs["validation_data"], _ = document_batches(
                _documents(kwargs["validation_data"]),
                self.preprocessor,
                batch_size,
                seed + 1,
                endless=False,
            )
        return super().fit(x, shuffle=False, **kwargs)

    def evaluate(
        self, x=None, y=None, batch_size=None, sample_weight=None, seed=None, **kwargs
    ):
        """`AlbertMaskedLM.evaluate`; raw text is read as documents, one pass
        packed and masked as `fit` does (`seed` fixes both; `None` draws)."""
        if not self._reads_documents(x):
            return super().evaluate(x, y, batch_size, sample_weight, seed, **kwargs)
        check_masked_lm_data(self, x, batch_size)
        self._require_compiled()
        x, _ = document_batches(
            _documents(x), self.preprocessor, batch_size or 32, _seed(seed), False
        )
        return super().evaluate(x, **kwargs)

    def _reads_documents(self, x):
        """Whether `x` is raw text, which this task reads as documents."""
        import tensorflow as tf

        if self.preprocessor is None:
            return False
        if isinstance(x, tf.data.Dataset):
            specs = tf.nest.flatten(x.element_spec)
            return all(getattr(spec, "dtype", None) == tf.string for spec in specs)
        if isinstance(x, tuple):  # Text pairs, or `(x, y)` of integer dicts.
            return bool(x) and isinstance(x[0], list | np.ndarray)
        return isinstance(x, list | np.ndarray)


def _documents(x):
    """Raw documents as a `tf.data.Dataset` of strings."""
    import tensorflow as tf

    if isinstance(x, tuple):
        raise TypeError(
            "AlbertPreTrainer reads documents, not sentence pairs: pass a list "
            "of documents, each a string with one sentence per line, and it "
            "pairs the sentences itself. Received a tuple."
        )
    return (
        x if isinstance(x, tf.data.Dataset) else tf.data.Dataset.from_tensor_slices(x)
    )


def _seed(seed):
    """`seed`, or a random one drawn from NumPy's global generator (which
    `keras.utils.set_random_seed` seeds)."""
    return int(np.random.randint(2**31 - 1)) if seed is None else seed
