"""Masked-token loss and top-k accuracy, and the unigram-frequency baseline.

The baseline always guesses the `k` tokens most frequent in the training
text; a model that learned anything about context must beat it.

>>> import tensorflow as tf
>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> lines = tf.data.Dataset.from_tensor_slices(["a dog barks.", "the sun rises."])
>>> counts = token_counts(masked_lm.preprocessor.tokenizer, lines)
>>> results = evaluate_masked_lm(masked_lm, lines.batch(2).map(masked_lm.preprocessor),
...     counts)
>>> sorted(results)[:3]
['loss', 'masked_tokens', 'top1']
"""

import numpy as np

from albert_mlm.argument_checks import require_positive_int
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor


def token_masking(preprocessor):
    """A preprocessor like `preprocessor` (its tokenizer, length and mask count)
    that masks single tokens at the default rates: the one yardstick for every
    model, whichever `mask_strategy` it was trained with."""
    return AlbertMaskedLMPreprocessor(
        preprocessor.tokenizer,
        sequence_length=preprocessor.sequence_length,
        mask_selection_length=preprocessor.mask_selection_length,
    )


def token_counts(tokenizer, lines, batch_size=1024):
    """How often each token id occurs in a dataset of lines."""
    import tensorflow as tf

    counts = np.zeros(tokenizer.vocabulary_size(), "int64")
    tokenize = tf.autograph.experimental.do_not_convert(tokenizer)
    for batch in lines.batch(batch_size).map(tokenize):
        counts += np.bincount(batch.flat_values.numpy(), minlength=counts.size)
    counts[tokenizer.special_token_ids] = 0
    return counts


def evaluate_masked_lm(masked_lm, batches, counts=None):
    """Loss, top-1 and top-5 accuracy over the real masked tokens of
    preprocessed `(x, y, sample_weight)` batches, and with `counts` the same
    accuracies for the unigram baseline."""
    most_frequent = np.argsort(-counts)[:5] if counts is not None else None
    total = loss = top1 = top5 = base1 = base5 = 0.0
    for x, labels, weights in batches:
        x = {key: value.numpy() for key, value in x.items()}  # Any backend.
        logits = masked_lm.predict_on_batch(x)
        if isinstance(logits, dict):  # An `AlbertPreTrainer`'s two outputs.
            logits = logits["masked_lm"]
        logits = np.asarray(logits, "float64")
        labels, weights = labels.numpy(), weights.numpy().astype(bool)
        logits, labels = logits[weights], labels[weights]
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        loss -= log_probabilities[np.arange(len(labels)), labels].sum()
        ranking = np.argsort(-logits, axis=-1)[:, :5]
        top1 += (ranking[:, 0] == labels).sum()
        top5 += (ranking == labels[:, None]).any(axis=1).sum()
        if most_frequent is not None:
            base1 += (labels == most_frequent[0]).sum()
            base5 += np.isin(labels, most_frequent).sum()
        total += len(labels)
    if not total:
        raise ValueError("The evaluation text produced no masked tokens.")
    results = {
        "masked_tokens": int(total),
        "loss": loss / total,
        "top1": top1 / total,
        "top5": top5 / total,
    }
    if most_frequent is not None:
        results.update(unigram_top1=base1 / total, unigram_top5=base5 / total)
    return results


def evaluate_sentence_order(pretrainer, batches):
    """Sentence-order accuracy over the two-segment examples of
    `(x, y, sample_weight)` batches made for an `AlbertPreTrainer`, or `None`
    when they hold none."""
    correct = total = 0
    for x, labels, weights in batches:
        x = {key: value.numpy() for key, value in x.items()}  # Any backend.
        logits = np.asarray(pretrainer.predict_on_batch(x)["sentence_order"])
        counted = weights["sentence_order"].numpy() > 0
        predictions = logits.argmax(axis=-1)[counted]
        correct += (predictions == labels["sentence_order"].numpy()[counted]).sum()
        total += counted.sum()
    return float(correct / total) if total else None


def non_padding_fractions(examples, batch_size, num_batches):
    """The fraction of real (non-padding) tokens in each of the first
    `num_batches` batches of `batch_size` examples.

    `examples` is a dataset of dicts with a `padding_mask` (1 or True on real
    tokens), such as `packed_examples` or a preprocessor's `pack` gives.

    Example:
    >>> import tensorflow as tf
    >>> examples = tf.data.Dataset.from_tensor_slices(
    ...     {"padding_mask": [[1, 1, 1, 1], [1, 1, 0, 0]]})
    >>> non_padding_fractions(examples, batch_size=2, num_batches=1).tolist()
    [0.75]
    """
    require_positive_int("batch_size", batch_size)
    require_positive_int("num_batches", num_batches)
    batches = examples.batch(batch_size).take(num_batches)
    return np.asarray(
        [
            np.mean(np.asarray(batch["padding_mask"], "float64"))
            for batch in batches.as_numpy_iterator()
        ]
    )
