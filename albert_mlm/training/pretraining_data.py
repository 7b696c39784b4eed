"""What a pretraining run reads: training batches and held-out text, by recipe.

- `packing="none"` (the `line` recipe): every `holdout_every`-th line is held
  out; each other line is one padded sequence.
- `packing="documents"` or `"lines"` (the `albert` recipe): every
  `holdout_every`-th document is held out; the others are packed into
  segment pairs (`document_packing.py`), shuffled in a buffer, and labelled
  for sentence-order prediction when the model learns it.

Either way, batch `n` is masked with the seed `(seed, n)`, so a run resumed
at step `n` (`.skip(n)`) sees exactly the batches an unbroken one would, and
the held-out text is the same lines for every recipe: held-out masked-token
accuracy is measured one line per sequence with single-token masking, the
same way whatever the model was trained with.

>>> import pathlib, tempfile
>>> from albert_mlm import AlbertMaskedLM
>>> from albert_mlm.training.pretrain_options import PretrainOptions
>>> from albert_mlm.training.recipes import resolved
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
>>> _ = corpus.write_text("".join(f"line {i} of the text.\\n" for i in range(100)))
>>> options = resolved(PretrainOptions(corpus=[str(corpus)], out="unused",
...     steps=3, batch_size=4))
>>> preprocessor = AlbertMaskedLM.from_preset("albert_tiny_en_uncased").preprocessor
>>> data = pretraining_data(options, [str(corpus)], preprocessor, sentence_order=False)
>>> data.total_steps, data.unit
(3, 'line')
"""

import dataclasses
import math
import warnings

from albert_mlm.training.corpus import CorpusError, split_lines
from albert_mlm.training.corpus_documents import document_lines, split_line_counts
from albert_mlm.training.document_packing import packed_examples
from albert_mlm.training.evaluation import token_masking

# Packed examples shuffled together, so that neighbouring sequences (often
# from one document) are spread over many batches.
_SHUFFLE_BUFFER = 10_000


@dataclasses.dataclass
class PretrainingData:
    """The datasets of one run.

    Attributes:
        train: endless `(x, y, sample_weight)` training batches.
        total_steps: the steps to train (`steps`, or `epochs` passes).
        validation: held-out batches in the training form, masked once.
        held_out_lines: the held-out text, one string per line.
        train_lines: the training text, one string per line.
        unit: what is held out ("line" or "document").
        line_counts: `(training, held_out)` lines in `train_lines` and
            `held_out_lines`.
    """

    train: object
    total_steps: int
    validation: object
    held_out_lines: object
    train_lines: object
    unit: str
    line_counts: tuple


def pretraining_data(options, files, preprocessor, sentence_order):
    """The `PretrainingData` of resolved `options` (see `recipes.resolved`)."""
    import tensorflow as tf

    if options.packing == "none":
        train_lines, held_out_lines = split_lines(files, options.holdout_every)
        if next(iter(train_lines), None) is None:
            raise CorpusError("The corpus has too few lines to train on; add text.")
        shuffled = train_lines.shuffle(_SHUFFLE_BUFFER, seed=options.seed)
        train = _masked_texts(
            shuffled.batch(options.batch_size).repeat(), preprocessor, options.seed
        )
        validation = _masked_texts(
            held_out_lines.batch(options.batch_size), preprocessor, options.seed + 1
        )
        per_pass = train_lines.batch(options.batch_size)
        unit = "line"
        line_counts = (_count(train_lines), _count(held_out_lines))
    else:

        def packed(**settings):
            return packed_examples(
                files,
                preprocessor.tokenizer,
                preprocessor.sequence_length,
                options.seed,
                short_seq_prob=options.short_seq_prob,
                document_format=options.packing,
                holdout_every=options.holdout_every,
                **settings,
            )

        endless = packed(epochs=None).shuffle(_SHUFFLE_BUFFER, seed=options.seed)
        train = _masked_pairs(
            endless.batch(options.batch_size, drop_remainder=True),
            preprocessor,
            options.seed,
            sentence_order,
        )
        validation = _masked_pairs(
            packed(held_out=True).batch(options.batch_size),
            preprocessor,
            options.seed + 1,
            sentence_order,
        )
        per_pass = packed().batch(options.batch_size, drop_remainder=True)
        lines = {
            split: document_lines(
                files, options.packing, options.holdout_every, held_out=split
            )
            for split in (False, True)
        }
        train_lines, held_out_lines = lines[False], lines[True]
        unit = "document"
        # In Python: iterating the datasets above is about 30 times slower.
        line_counts = split_line_counts(files, options.packing, options.holdout_every)
    total_steps = options.steps or (options.epochs or 1) * _count(per_pass)
    if not total_steps:
        raise CorpusError("The corpus is too small for one batch; add text.")
    validation = validation.take(options.evaluation_batches).cache()
    held_out_batches = _count(validation)  # Also fills the cache.
    if not held_out_batches:
        raise CorpusError("The corpus has too little text to hold any out; add text.")
    # A known length: Keras then reads it to the end without warning.
    validation = validation.apply(
        tf.data.experimental.assert_cardinality(held_out_batches)
    )
    return PretrainingData(
        train, total_steps, validation, held_out_lines, train_lines, unit, line_counts
    )


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
        warnings.warn(
            "No document has two sentences (lines), so there is no sentence "
            "order to learn: only the masked LM trains, and the sentence-order "
            "loss stays 0. Write each document's sentences on separate lines.",
            stacklevel=3,
        )
    steps = math.ceil(int(examples) / batch_size)
    if endless:
        stream = packed(None)
        if shuffle:
            stream = stream.shuffle(min(int(examples), _SHUFFLE_BUFFER), seed=seed)
        batches = stream.batch(batch_size, drop_remainder=True)
    else:  # A known length: Keras then reads it to the end without warning.
        batches = packed(1).batch(batch_size)
        batches = batches.apply(tf.data.experimental.assert_cardinality(steps))
    batches = _masked_pairs(batches, preprocessor, seed, sentence_order=True)
    return batches.prefetch(tf.data.AUTOTUNE), steps


def token_masking_batches(lines, preprocessor, options):
    """Held-out lines as batches masked one token at a time with a fixed seed:
    the yardstick every recipe is measured with."""
    batches = _masked_texts(
        lines.batch(options.batch_size), token_masking(preprocessor), options.seed + 2
    )
    return batches.take(options.evaluation_batches).cache()


def _count(dataset):
    return int(dataset.reduce(0, lambda count, _: count + 1))


def _seeds(seed, index):
    import tensorflow as tf

    return tf.stack([tf.constant(seed, "int64"), index])


def _masked_texts(batches, preprocessor, seed):
    """Batches of strings, masked with seeds (`seed`, batch number)."""
    import tensorflow as tf

    @tf.autograph.experimental.do_not_convert
    def mask(index, texts):
        return preprocessor(texts, seed=_seeds(seed, index))

    return batches.enumerate().map(mask, num_parallel_calls=tf.data.AUTOTUNE)


def _masked_pairs(batches, preprocessor, seed, sentence_order):
    """Batches of packed examples, masked with seeds (`seed`, batch number);
    with `sentence_order`, labelled for `AlbertPreTrainer`."""
    import tensorflow as tf

    @tf.autograph.experimental.do_not_convert
    def mask(index, examples):
        inputs = {
            key: examples[key] for key in ("token_ids", "segment_ids", "padding_mask")
        }
        x, mask_ids, mask_weights = preprocessor.mask(inputs, seed=_seeds(seed, index))
        if not sentence_order:
            return x, mask_ids, mask_weights
        y = {"masked_lm": mask_ids, "sentence_order": examples["sentence_order_label"]}
        weights = {
            "masked_lm": mask_weights,
            "sentence_order": examples["sentence_order_weight"],
        }
        return x, y, weights

    return batches.enumerate().map(mask, num_parallel_calls=tf.data.AUTOTUNE)
