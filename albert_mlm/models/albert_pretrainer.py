"""ALBERT's pretraining task: masked-LM and sentence-order prediction."""

import keras
from keras import ops

from albert_mlm.models.albert_backbone import albert_kernel_initializer
from albert_mlm.models.albert_masked_lm import AlbertMaskedLM

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
    (batch, 2)}` logits; `fit` takes preprocessed batches with labels
    `{"masked_lm": ids, "sentence_order": 0 or 1}` and the matching sample
    weights (`albert_mlm.training.pretraining_data` makes them from text).
    Presets saved from it load as `AlbertPreTrainer`, `AlbertMaskedLM` and
    `AlbertBackbone`.

    Args: those of `AlbertMaskedLM`.

    Example:
    >>> from albert_mlm import AlbertBackbone
    >>> backbone = AlbertBackbone(vocabulary_size=100, num_layers=2, num_heads=2,
    ...     embedding_dim=8, hidden_dim=16, intermediate_dim=32)
    >>> outputs = AlbertPreTrainer(backbone)({"token_ids": np.ones((2, 6), "int32"),
    ...     "segment_ids": np.zeros((2, 6), "int32"),
    ...     "padding_mask": np.ones((2, 6), "int32"),
    ...     "mask_positions": np.array([[1, 2], [3, 0]])})
    >>> [tuple(outputs[key].shape) for key in ("masked_lm", "sentence_order")]
    [(2, 2, 100), (2, 2)]
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
