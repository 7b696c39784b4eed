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
from albert_mlm.datasets.corpus_documents import document_lines, shard_line_counts
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
        local_lines: the training lines this process reads and tokenizes:
            its replicas' share of `line_counts[0]`.
    """

    train: object
    total_steps: int
    validation: object
    held_out_lines: object
    train_lines: object
    unit: str
    line_counts: tuple
    local_lines: int


def pretraining_data(options, files, preprocessor, sentence_order, layout=None):
    """The `PretrainingData` of resolved `options` (see `recipes.resolved`),
    for the replicas that this process of `layout` (a `DeviceLayout`; one
    device when `None`) feeds."""
    share = _Share.of(layout)
    if options.packing == "none":
        return _line_data(options, files, preprocessor, share)
    return _packed_data(options, files, preprocessor, sentence_order, share)


@dataclasses.dataclass(frozen=True)
class _Share:
    """The data-parallel replicas (`count`) and those this process feeds
    (`local`), and how processes agree on a number (`minimum`)."""

    count: int = 1
    local: tuple = (0,)
    gather: object = None

    def __post_init__(self):
        if self.gather is None:  # One process: its own number.
            object.__setattr__(self, "gather", lambda value: [value])

    @classmethod
    def of(cls, layout):
        if layout is None:
            return cls()
        return cls(layout.replicas, layout.local_replicas, layout.gather)

    def batch_size(self, options):
        """Each replica's rows of a global batch."""
        return options.batch_size // self.count

    def minimum(self, value):
        return min(self.gather(value))


def _local_batches(streams):
    """The batches of this process: its replicas' batches side by side."""
    import tensorflow as tf

    if len(streams) == 1:
        return streams[0]

    def joined(*parts):
        return tf.nest.map_structure(lambda *rows: tf.concat(rows, 0), *parts)

    return tf.data.Dataset.zip(tuple(streams)).map(joined)


def _line_data(options, files, preprocessor, share):
    """`packing="none"`: each line one sequence, every `holdout_every`-th held
    out; replica `r` trains on every `count`-th training line from the `r`-th."""
    train_lines, held_out_lines = split_lines(files, options.holdout_every)
    if next(iter(train_lines), None) is None:
        raise CorpusError("The corpus has too few lines to train on; add text.")
    batch_size, whole = share.batch_size(options), share.count == 1
    streams, per_pass, shares = [], [], []
    for replica in share.local:
        lines, _ = split_lines(files, options.holdout_every, (replica, share.count))
        batches = lines.batch(batch_size, drop_remainder=not whole)
        shuffled = lines.shuffle(SHUFFLE_BUFFER, seed=options.seed)
        shuffled = shuffled.batch(batch_size, drop_remainder=not whole).repeat()
        number = (replica, share.count)
        streams.append(masked_texts(shuffled, preprocessor, options.seed, number))
        per_pass.append(batches)
        shares.append(lines)
    validation = masked_texts(
        held_out_lines.batch(options.batch_size),
        preprocessor,
        options.seed + 1,
    )
    line_counts = (_count(train_lines), _count(held_out_lines))
    return PretrainingData(
        train=_local_batches(streams),
        total_steps=_total_steps(options, per_pass, share),
        validation=_held_out_batches(validation, options, len(share.local)),
        held_out_lines=held_out_lines,
        train_lines=train_lines,
        unit="line",
        line_counts=line_counts,
        local_lines=line_counts[0] if whole else sum(map(_count, shares)),
    )


def _packed_data(options, files, preprocessor, sentence_order, share):
    """`packing="documents"` or `"lines"`: packed segment pairs, every
    `holdout_every`-th document held out; replica `r` packs every `count`-th
    training document from the `r`-th."""

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

    batch_size = share.batch_size(options)
    streams, per_pass = [], []
    for replica in share.local:
        shard = (replica, share.count)
        endless = packed(epochs=None, shard=shard)
        endless = endless.shuffle(SHUFFLE_BUFFER, seed=options.seed)
        batches = endless.batch(batch_size, drop_remainder=True)
        streams.append(
            masked_pairs(batches, preprocessor, options.seed, sentence_order, shard)
        )
        per_pass.append(packed(shard=shard).batch(batch_size, drop_remainder=True))
    validation = masked_pairs(
        packed(held_out=True).batch(options.batch_size),
        preprocessor,
        options.seed + 1,
        sentence_order,
    )
    lines = {
        split: document_lines(
            files, options.packing, options.holdout_every, held_out=split
        )
        for split in (False, True)
    }
    # In Python: iterating the datasets above is about 30 times slower.
    # Also warns about a corpus that looks like the other format.
    per_shard, held_out, _ = shard_line_counts(
        files, options.packing, options.holdout_every, share.count
    )
    return PretrainingData(
        train=_local_batches(streams),
        total_steps=_total_steps(options, per_pass, share),
        validation=_held_out_batches(validation, options, len(share.local)),
        held_out_lines=lines[True],
        train_lines=lines[False],
        unit="document",
        line_counts=(sum(per_shard), held_out),
        local_lines=sum(per_shard[replica] for replica in share.local),
    )


def _total_steps(options, per_pass, share):
    """`steps`, or `epochs` passes of the batches of the replica with fewest
    (`per_pass`: this process's replicas' batches of one pass)."""
    if options.steps:
        return options.steps
    fewest = share.minimum(min(_count(batches) for batches in per_pass))
    total_steps = (options.epochs or 1) * fewest
    if not total_steps:
        raise CorpusError("The corpus is too small for one batch; add text.")
    return total_steps


def _held_out_batches(validation, options, local_replicas=1):
    """The first `evaluation_batches` of `validation`, cached, of known
    length; each cut to a multiple of the `local_replicas` it is split over
    (every process evaluates the whole held-out batch)."""
    import tensorflow as tf

    if local_replicas > 1:

        def whole_shares(*batch):
            rows = tf.shape(tf.nest.flatten(batch)[0])[0]
            kept = rows // local_replicas * local_replicas
            return tf.nest.map_structure(lambda tensor: tensor[:kept], batch)

        validation = validation.map(whole_shares).filter(
            lambda *batch: tf.shape(tf.nest.flatten(batch)[0])[0] > 0
        )
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
