"""Text to the batches every task and trainer reads: the one place where
strings, documents and packed examples become masked model inputs.

- `string_dataset`: strings (or sentence pairs) for `AlbertMaskedLM.fit`,
  `evaluate` and `predict`, preprocessed batch by batch.
- `document_batches`: documents for `AlbertPreTrainer`, packed into
  sentence-order pairs (`document_packing.py`) and masked.
- `masked_texts` and `masked_pairs`: batches of strings or of packed
  examples, masked with the seeds `(seed, batch number)`, so a run resumed at
  batch `n` sees exactly what an unbroken one would.
- `packed_rows`: token rows packed `[CLS] a [SEP] (b [SEP])` without padding,
  for inference.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> batches = string_dataset(masked_lm.preprocessor, ["a dog.", "a cat."],
...     batch_size=2, shuffle=False, seed=0)
>>> sorted(next(iter(batches))[0])
['mask_positions', 'padding_mask', 'segment_ids', 'token_ids']
"""

import math

import keras
import numpy as np

from albert_mlm.caller_warnings import warn_at_caller
from albert_mlm.datasets.document_packing import packed_examples
from albert_mlm.text.segment_packer import SegmentPacker

# Packed examples shuffled together, so that neighbouring sequences (often
# from one document) are spread over many batches.
SHUFFLE_BUFFER = 10_000


def string_dataset(
    preprocessor, x, batch_size, shuffle, drop_remainder=True, seed=None
):
    """`x` (strings, or a dataset of them) as a batched, preprocessed,
    prefetched `tf.data.Dataset`; with `seed` (an integer), seeded masking.

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

    # Graph code already: AutoGraph would only spend seconds converting it.
    @tf.autograph.experimental.do_not_convert
    def preprocess(index, segments):
        batch_seed = None if seed is None else tf.stack([seed, index])
        outputs = preprocessor(
            segments if len(segments) > 1 else segments[0], seed=batch_seed
        )
        # Keep a static batch size static: Keras needs it to split each
        # batch between the processes of a multi-host distribution.
        batch_shape = segments[0].shape
        if batch_shape.rank == 1:
            for tensor in tf.nest.flatten(outputs):
                tensor.set_shape(batch_shape.concatenate(tensor.shape[1:]))
        return outputs

    dataset = dataset.map(lambda *segments: segments)  # Always a tuple.
    dataset = dataset.enumerate().map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _batch_shards():
    """How many devices split each batch under the current Keras distribution."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    mesh = distribution.device_mesh
    return mesh.shape[mesh.axis_names.index(distribution.batch_dim_name)]


def lists_to_arrays(structure):
    """Nested Python lists of numbers (as on KerasHub's API page) to arrays."""
    if isinstance(structure, list):
        return np.asarray(structure)
    if isinstance(structure, dict):
        return {key: lists_to_arrays(value) for key, value in structure.items()}
    if isinstance(structure, tuple):
        return tuple(lists_to_arrays(value) for value in structure)
    return structure


def document_batches(
    documents, preprocessor, batch_size, seed, endless=True, shuffle=True
):
    """Documents as `AlbertPreTrainer` batches: packed into sentence-order
    pairs (`packed_examples`), masked with the seeds `(seed, batch number)`.

    Args:
        documents: a `tf.data.Dataset` of strings, each a document whose
            lines are its sentences.
        endless: pass after pass, each packed anew, in full batches; or one
            pass, its last batch maybe partial.
        shuffle: shuffle the examples of an endless stream in a buffer.

    Returns:
        `(batches, steps)`, `steps` the number of batches of one pass.
    """
    import tensorflow as tf

    def packed(epochs):
        return packed_examples(
            documents,
            preprocessor.tokenizer,
            preprocessor.sequence_length,
            seed,
            epochs=epochs,
        )

    examples, pairs = packed(1).reduce(
        (0, 0.0),
        lambda counts, example: (
            counts[0] + 1,
            counts[1] + example["sentence_order_weight"],
        ),
    )
    if not pairs:
        warn_at_caller(
            "No document has two sentences (lines), so there is no sentence "
            "order to learn: only the masked LM trains, and the sentence-order "
            "loss stays 0. Write each document's sentences on separate lines."
        )
    steps = math.ceil(int(examples) / batch_size)
    if endless:
        stream = packed(None)
        if shuffle:
            stream = stream.shuffle(min(int(examples), SHUFFLE_BUFFER), seed=seed)
        batches = stream.batch(batch_size, drop_remainder=True)
    else:  # A known length: Keras then reads it to the end without warning.
        batches = packed(1).batch(batch_size)
        batches = batches.apply(tf.data.experimental.assert_cardinality(steps))
    batches = masked_pairs(batches, preprocessor, seed, sentence_order=True)
    return batches.prefetch(tf.data.AUTOTUNE), steps


def _seeds(seed, index, replica):
    """The masking seeds of batch `index` of replica `(r, count)`'s stream:
    `(seed, index * count + r)`, so that no two replicas' batches share one."""
    import tensorflow as tf

    number, count = replica
    return tf.stack([tf.constant(seed, "int64"), index * count + number])


def masked_texts(batches, preprocessor, seed, replica=(0, 1)):
    """Batches of strings, masked with seeds (`seed`, batch number); one
    data-parallel replica's stream of `(r, count)` numbers its batches
    `r`, `r + count`, ..."""
    import tensorflow as tf

    @tf.autograph.experimental.do_not_convert
    def mask(index, texts):
        return preprocessor(texts, seed=_seeds(seed, index, replica))

    return batches.enumerate().map(mask, num_parallel_calls=tf.data.AUTOTUNE)


def masked_pairs(batches, preprocessor, seed, sentence_order, replica=(0, 1)):
    """Batches of packed examples, masked with seeds (`seed`, batch number,
    numbered as `masked_texts` does); with `sentence_order`, labelled for
    `AlbertPreTrainer`."""
    import tensorflow as tf

    @tf.autograph.experimental.do_not_convert
    def mask(index, examples):
        inputs = {
            key: examples[key] for key in ("token_ids", "segment_ids", "padding_mask")
        }
        x, mask_ids, mask_weights = preprocessor.mask(
            inputs, seed=_seeds(seed, index, replica)
        )
        if not sentence_order:
            return x, mask_ids, mask_weights
        y = {"masked_lm": mask_ids, "sentence_order": examples["sentence_order_label"]}
        weights = {
            "masked_lm": mask_weights,
            "sentence_order": examples["sentence_order_weight"],
        }
        return x, y, weights

    return batches.enumerate().map(mask, num_parallel_calls=tf.data.AUTOTUNE)


def packed_rows(tokenizer, columns):
    """Token rows packed `[CLS] a [SEP] (b [SEP])` by `SegmentPacker`, each
    as long as it needs (nothing is cut, nothing padded).

    Args:
        tokenizer: gives the `[CLS]`, `[SEP]` and padding ids.
        columns: one or two equally long lists of token-id rows (the first
            and second segments of each text).

    Returns:
        A list of `(token_ids, segment_ids)` int32 NumPy arrays, a text each.

    >>> from albert_mlm import AlbertTokenizer
    >>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
    >>> [(token_ids, segment_ids)] = packed_rows(tokenizer, [[[7, 8]], [[9]]])
    >>> token_ids.tolist() == [tokenizer.cls_token_id, 7, 8,
    ...     tokenizer.sep_token_id, 9, tokenizer.sep_token_id]
    True
    >>> segment_ids.tolist()
    [0, 0, 0, 0, 1, 1]
    """
    import tensorflow as tf

    lengths = [
        1 + sum(len(row) + 1 for row in rows_of_text) for rows_of_text in zip(*columns)
    ]
    if not lengths:
        return []
    packer = SegmentPacker(
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.pad_token_id,
        sequence_length=max(lengths),
    )
    segments = tuple(
        tf.RaggedTensor.from_row_lengths(
            np.concatenate([np.asarray(row, "int32") for row in column]),
            [len(row) for row in column],
        )
        for column in columns
    )
    token_ids, segment_ids = (tensor.numpy() for tensor in packer(segments))
    return [
        (token_ids[row, :length], segment_ids[row, :length])
        for row, length in enumerate(lengths)
    ]
