r"""A text corpus as a stream of ALBERT pretraining examples, packed and unmasked.

`packed_examples` reads the files (or a dataset of documents) line by line,
tokenizes the sentences a block at a time, and builds ALBERT's sentence-order
instances (`sentence_order_instances.py`): `[CLS] A [SEP] B [SEP]`, B the text
that follows A in one document, A and B swapped half of the time.

Design:
- **Packing.** A chunk that reaches the end of a document before its target
  length takes in the next document's sentences, so short documents share a
  sequence instead of each padding one (on a corpus of one-line documents,
  about 99% of tokens are real without short sequences, about 95% with the
  default 10%, against 13% for one line per 128-token sequence). Sentence
  order stays meaningful: A and B are split only at a sentence boundary inside
  one document, so the A|B junction is always a true continuation (other
  documents may sit at the outer ends of A and B). A chunk with no such
  boundary (one-line documents, a one-sentence document) becomes one segment
  `[CLS] A [SEP]` with `sentence_order_weight` 0: a masked-LM example only.
- **Input formats.** `"documents"`: one sentence per line, a blank line (or
  the end of a file) between documents. `"lines"`: every non-empty line is a
  document. A corpus without blank lines read as `"documents"` is one long
  document per file: it trains, but its "continuations" join unrelated lines,
  which makes sentence order unlearnable. `corpus_documents.check_document_format`
  scans the files once, counts documents and warns about exactly that mistake.
- **Cuts.** A sentence longer than the room is cut to fit, so nothing is
  longer than `sequence_length`; a document of one sentence still gives
  masked-LM examples.
- **Determinism and resuming.** Pass `p` over the corpus draws every choice
  (target lengths, splits, swaps, cuts) from `np.random.default_rng([seed,
  p])`, in stream order. The same seed gives the same stream, so after a
  restart `dataset.skip(k)` yields exactly what an uninterrupted run saw after
  its first `k` examples (skipping re-reads and re-tokenizes those `k`).
  Each pass draws anew, so passes pack and swap differently; `epochs=None`
  repeats forever, for step-based training (its first passes are those of
  any finite `epochs`).

>>> import pathlib, tempfile
>>> from albert_mlm import AlbertTokenizer
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
>>> _ = corpus.write_text("The cat sat.\nIt purred.\n\nA dog ran.\nIt barked.\n")
>>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
>>> examples = packed_examples([str(corpus)], tokenizer, sequence_length=16, seed=1)
>>> example = next(examples.as_numpy_iterator())
>>> sorted(example)
['padding_mask', 'segment_ids', 'sentence_order_label',
 'sentence_order_weight', 'token_ids']
>>> example["token_ids"].shape, float(example["sentence_order_weight"])
((16,), 1.0)
"""

import itertools
import numbers

import numpy as np

from albert_mlm.argument_checks import (
    require_choice,
    require_positive_int,
    require_rate,
)
from albert_mlm.datasets.corpus import CorpusError
from albert_mlm.datasets.corpus_documents import (
    DOCUMENT_FORMATS,
    checked_files,
    document_sentences,
    split_documents,
)
from albert_mlm.datasets.sentence_order_instances import MIN_SEQUENCE_LENGTH, instances
from albert_mlm.text.albert_tokenizer import AlbertTokenizer

# Sentences per SentencePiece call: one call per block is much faster than
# one per sentence, and a block (unlike a whole document) bounds the memory
# even when a corpus without blank lines is one huge document.
_SENTENCES_PER_CALL = 256


def packed_examples(
    files,
    tokenizer,
    sequence_length,
    seed,
    short_seq_prob=0.1,
    document_format="documents",
    epochs=1,
    holdout_every=None,
    held_out=False,
    shard=(0, 1),
):
    """A `tf.data.Dataset` of packed, unmasked sentence-order examples.

    Each example holds `token_ids` (int32, `[CLS] A [SEP] B [SEP]` padded with
    the padding id), `segment_ids` (0 for `[CLS]`, A and its `[SEP]`, 1 for B
    and its `[SEP]`), `padding_mask` (int32, 1 on real tokens), and the
    scalars `sentence_order_label` (int32, 1 when A and B are swapped) and
    `sentence_order_weight` (float32, 1.0 with two segments, else 0.0). The
    module docstring explains the design. Runs on any Keras backend.

    Args:
        files: corpus file names or glob patterns (or one of them); every
            file must be non-empty UTF-8 text (checked once, up front). Or a
            `tf.data.Dataset` of documents (strings, or batches of them),
            each read as a file: its lines are its sentences.
        tokenizer: an `AlbertTokenizer`.
        sequence_length: the packed length, at least 5 (`[CLS]`, a token of A,
            `[SEP]`, a token of B, `[SEP]`).
        seed: a non-negative integer; the same seed gives the same stream.
        short_seq_prob: the probability, in [0, 1], that an instance aims at a
            random shorter length.
        document_format: `"documents"` (blank line between documents) or
            `"lines"` (one document per line: no sentence order to learn, so
            every example has `sentence_order_weight` 0).
        epochs: passes over the corpus, or `None` to repeat forever.
        holdout_every: leave out every `holdout_every`-th document, or with
            `held_out` keep only those; `None` keeps all.
        shard: `(index, count)`: read and tokenize only every `count`-th
            training document from the `index`-th (one data-parallel
            replica's share); `(0, 1)` reads them all.

    Example:
    >>> import pathlib, tempfile
    >>> from albert_mlm import AlbertTokenizer
    >>> corpus = pathlib.Path(tempfile.mkdtemp()) / "lines.txt"
    >>> _ = corpus.write_text("a dog.\\nthe cat sat.\\nbirds sing.\\n")
    >>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
    >>> examples = packed_examples(str(corpus), tokenizer, sequence_length=32,
    ...     seed=0, short_seq_prob=0.0, document_format="lines")
    >>> [(tokenizer.detokenize(example["token_ids"]),
    ...   float(example["sentence_order_weight"]))
    ...  for example in examples.as_numpy_iterator()]
    [('a dog. the cat sat. birds sing.', 0.0)]
    """
    _check_arguments(
        tokenizer, sequence_length, seed, short_seq_prob, document_format, epochs
    )
    documents = _document_reader(files, document_format, holdout_every, held_out, shard)
    return _dataset(documents, tokenizer, sequence_length, seed, short_seq_prob, epochs)


def _check_arguments(
    tokenizer, sequence_length, seed, short_seq_prob, document_format, epochs
):
    if not isinstance(tokenizer, AlbertTokenizer):
        raise TypeError(
            "`tokenizer` must be an `AlbertTokenizer`. Received: "
            f"{type(tokenizer).__name__}"
        )
    require_positive_int("sequence_length", sequence_length)
    if sequence_length < MIN_SEQUENCE_LENGTH:
        raise ValueError(
            f"`sequence_length` must be at least {MIN_SEQUENCE_LENGTH} ([CLS], "
            "a token of A, [SEP], a token of B, [SEP]). Received: "
            f"sequence_length={sequence_length!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            f"`seed` must be a non-negative integer. Received: seed={seed!r:.80}"
        )
    require_rate("short_seq_prob", short_seq_prob)
    require_choice("document_format", document_format, DOCUMENT_FORMATS)
    if epochs is not None:
        require_positive_int("epochs", epochs)


def _document_reader(files, document_format, holdout_every, held_out, shard):
    """Checks the corpus once; returns a function that reads its documents
    (only the held-out ones, with `held_out`) anew, once per pass."""
    files = checked_files(files)
    if holdout_every is not None:
        require_positive_int("holdout_every", holdout_every)
    if next(document_sentences(files, document_format), None) is None:
        what = f"corpus files {files}" if isinstance(files, list) else "documents"
        raise CorpusError(f"The {what} hold no text, only blank lines.")

    def read():
        sentences = document_sentences(files, document_format)
        return split_documents(sentences, holdout_every, held_out, shard)

    return read


def _dataset(read_documents, tokenizer, sequence_length, seed, short_seq_prob, epochs):
    """The examples of `epochs` passes over `read_documents()`, pass `p`
    drawing from `np.random.default_rng([seed, p])`."""
    import tensorflow as tf

    def stream():
        passes = itertools.count() if epochs is None else range(epochs)
        for pass_number in passes:
            rng = np.random.default_rng([int(seed), pass_number])
            sentences = _tokenized_sentences(read_documents(), tokenizer)
            produced = False
            for first, second, swapped in instances(
                sentences, rng, sequence_length, short_seq_prob
            ):
                produced = True
                yield _example(first, second, swapped, tokenizer, sequence_length)
            if not produced:  # Text that tokenizes to nothing: never loop idle.
                return

    token_spec = tf.TensorSpec([sequence_length], tf.int32)
    signature = {
        "token_ids": token_spec,
        "segment_ids": token_spec,
        "padding_mask": token_spec,
        "sentence_order_label": tf.TensorSpec([], tf.int32),
        "sentence_order_weight": tf.TensorSpec([], tf.float32),
    }
    return tf.data.Dataset.from_generator(stream, output_signature=signature)


def _example(first, second, swapped, tokenizer, sequence_length):
    """One instance laid out as `[CLS] first [SEP] (second [SEP])`, padded."""
    cls, sep = [tokenizer.cls_token_id], [tokenizer.sep_token_id]
    segment_a = np.concatenate([cls, first, sep])
    segment_b = np.concatenate([second, sep]) if len(second) else second
    length = len(segment_a) + len(segment_b)
    token_ids = np.full(sequence_length, tokenizer.pad_token_id, "int32")
    token_ids[:length] = np.concatenate([segment_a, segment_b])
    segment_ids = np.zeros(sequence_length, "int32")
    segment_ids[len(segment_a) : length] = 1
    padding_mask = (np.arange(sequence_length) < length).astype("int32")
    return {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
        "sentence_order_label": np.int32(swapped),
        "sentence_order_weight": np.float32(len(second) > 0),
    }


def _tokenized_sentences(sentences, tokenizer):
    """`(token ids, document number)` of each sentence with any tokens."""
    while block := list(itertools.islice(sentences, _SENTENCES_PER_CALL)):
        texts, documents = zip(*block)
        for ids, document in zip(tokenizer.token_rows(list(texts)), documents):
            if len(ids):
                yield ids, document
