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

from albert_mlm.datasets.batches import SHUFFLE_BUFFER, masked_pairs, masked_texts
from albert_mlm.datasets.corpus import CorpusError, split_lines
from albert_mlm.datasets.corpus_documents import document_lines, split_line_counts
from albert_mlm.datasets.document_packing import packed_examples
from albert_mlm.training.evaluation import token_masking


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
    if options.packing == "none":
        return _line_data(options, files, preprocessor)
    return _packed_data(options, files, preprocessor, sentence_order)


def _line_data(options, files, preprocessor):
    """`packing="none"`: each line one sequence, every `holdout_every`-th held out."""
    train_lines, held_out_lines = split_lines(files, options.holdout_every)
    if next(iter(train_lines), None) is None:
        raise CorpusError("The corpus has too few lines to train on; add text.")
    shuffled = train_lines.shuffle(SHUFFLE_BUFFER, seed=options.seed)
    train = masked_texts(
        shuffled.batch(options.batch_size).repeat(), preprocessor, options.seed
    )
    validation = masked_texts(
        held_out_lines.batch(options.batch_size), preprocessor, options.seed + 1
    )
    per_pass = train_lines.batch(options.batch_size)
    line_counts = (_count(train_lines), _count(held_out_lines))
    return PretrainingData(
        train=train,
        total_steps=_total_steps(options, per_pass),
        validation=_held_out_batches(validation, options),
        held_out_lines=held_out_lines,
        train_lines=train_lines,
        unit="line",
        line_counts=line_counts,
    )


def _packed_data(options, files, preprocessor, sentence_order):
    """`packing="documents"` or `"lines"`: packed segment pairs, every
    `holdout_every`-th document held out."""

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

    endless = packed(epochs=None).shuffle(SHUFFLE_BUFFER, seed=options.seed)
    train = masked_pairs(
        endless.batch(options.batch_size, drop_remainder=True),
        preprocessor,
        options.seed,
        sentence_order,
    )
    validation = masked_pairs(
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
    # In Python: iterating the datasets above is about 30 times slower.
    line_counts = split_line_counts(files, options.packing, options.holdout_every)
    return PretrainingData(
        train=train,
        total_steps=_total_steps(options, per_pass),
        validation=_held_out_batches(validation, options),
        held_out_lines=lines[True],
        train_lines=lines[False],
        unit="document",
        line_counts=line_counts,
    )


def _total_steps(options, per_pass):
    """`steps`, or `epochs` passes of `per_pass` batches."""
    total_steps = options.steps or (options.epochs or 1) * _count(per_pass)
    if not total_steps:
        raise CorpusError("The corpus is too small for one batch; add text.")
    return total_steps


def _held_out_batches(validation, options):
    """The first `evaluation_batches` of `validation`, cached, of known length."""
    import tensorflow as tf

    validation = validation.take(options.evaluation_batches).cache()
    held_out_batches = _count(validation)  # Also fills the cache.
    if not held_out_batches:
        raise CorpusError("The corpus has too little text to hold any out; add text.")
    # A known length: Keras then reads it to the end without warning.
    return validation.apply(tf.data.experimental.assert_cardinality(held_out_batches))


def token_masking_batches(lines, preprocessor, options):
    """Held-out lines as batches masked one token at a time with a fixed seed:
    the yardstick every recipe is measured with."""
    batches = masked_texts(
        lines.batch(options.batch_size), token_masking(preprocessor), options.seed + 2
    )
    return batches.take(options.evaluation_batches).cache()


def _count(dataset):
    return int(dataset.reduce(0, lambda count, _: count + 1))
