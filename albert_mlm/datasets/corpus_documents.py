"""A text corpus read as documents: its sentences in order, each with its
document's number; the split into training and held-out documents; and the
counts that check the format.

Two formats: `"documents"`, one sentence per line and a blank line (or the end
of a file) between documents; `"lines"`, every non-empty line a document.
Every `holdout_every`-th document from the first is held out.

>>> import pathlib, tempfile
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
>>> _ = corpus.write_text("One.\\nTwo.\\n\\nThree.\\n")
>>> list(document_sentences(checked_files(str(corpus)), "documents"))
[('One.', 0), ('Two.', 0), ('Three.', 1)]
"""

import os
import warnings
from collections import namedtuple

from albert_mlm.argument_checks import require_choice, require_positive_int
from albert_mlm.datasets.corpus import corpus_files
from albert_mlm.datasets.corpus_storage import open_text

DOCUMENT_FORMATS = ("documents", "lines")

DocumentCount = namedtuple("DocumentCount", ["documents", "sentences"])
"""How many documents and sentences (non-empty lines) a corpus holds."""


def checked_files(files):
    """Checked corpus file names, or a dataset of documents, unbatched."""
    import tensorflow as tf

    if isinstance(files, tf.data.Dataset):
        spec = files.element_spec
        if not (isinstance(spec, tf.TensorSpec) and spec.dtype == tf.string):
            raise TypeError(
                "A dataset of documents must yield strings or batches of them. "
                f"Received elements of spec {spec}."
            )
        return files.unbatch() if spec.shape.rank else files
    if isinstance(files, str | os.PathLike):
        files = [files]
    return corpus_files([os.fspath(path) for path in files])


def _line_groups(files):
    """The lines of each file, or of each document of a dataset."""
    if not isinstance(files, list):
        for document in files.as_numpy_iterator():
            yield document.decode("utf-8").splitlines()
        return
    for path in files:
        with open_text(path) as file:
            yield file


def document_sentences(files, document_format):
    """`(text, document number)` of each non-empty line, in corpus order.

    A document ends at a blank line and at the end of a file (or dataset
    element), and in the `"lines"` format after every line.
    """
    one_per_line = document_format == "lines"
    document = 0
    for lines in _line_groups(files):
        for line in lines:
            text = line.strip()
            if text:
                yield text, document
            if one_per_line or not text:
                document += 1
        document += 1


def _marked(sentences, holdout_every):
    """`(text, document, held_out)` of each sentence: its document is held out
    when it is every `holdout_every`-th from the first (none when 0)."""
    number, last_document = -1, None
    for text, document in sentences:
        if document != last_document:
            number, last_document = number + 1, document
        yield text, document, bool(holdout_every) and number % holdout_every == 0


def split_documents(sentences, holdout_every, held_out, shard=(0, 1)):
    """The training documents' sentences, or the held-out ones'; of the
    training documents only shard `(index, count)`'s, every `count`-th from
    the `index`-th (the held-out ones are never sharded: every reader
    evaluates them all)."""
    index, count = shard
    if holdout_every is None and count == 1:
        yield from sentences
        return
    number, last_document = -1, None
    for text, document, is_held_out in _marked(sentences, holdout_every or 0):
        if is_held_out != held_out:
            continue
        if document != last_document:
            number, last_document = number + 1, document
        if held_out or number % count == index:
            yield text, document


def split_line_counts(files, document_format, holdout_every):
    """`(training, held_out)`: how many lines `document_lines` yields for
    each split, counted in one pass over the files without TensorFlow.

    Example:
    >>> import pathlib, tempfile
    >>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
    >>> _ = corpus.write_text("One.\\nTwo.\\n\\nThree.\\n\\nFour.\\n")
    >>> split_line_counts([str(corpus)], "documents", 2)
    (1, 3)
    """
    counts = shard_line_counts(files, document_format, holdout_every, 1)
    return counts.per_shard[0], counts.held_out


ShardLineCounts = namedtuple("ShardLineCounts", ["per_shard", "held_out", "documents"])
"""The training lines of each shard, the held-out lines, and the documents."""


def shard_line_counts(files, document_format, holdout_every, shards):
    """The training lines of each of `shards` shards (as `split_documents`
    deals the training documents out), the held-out lines and the documents,
    counted in one pass over the files; warns as `check_document_format`
    does about a corpus that looks like the other format.

    Example:
    >>> import pathlib, tempfile
    >>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
    >>> _ = corpus.write_text("Zero.\\n\\nOne.\\nTwo.\\n\\nThree.\\n")
    >>> shard_line_counts([str(corpus)], "documents", 3, shards=2)
    ShardLineCounts(per_shard=[2, 1], held_out=1, documents=3)
    """
    require_choice("document_format", document_format, DOCUMENT_FORMATS)
    require_positive_int("holdout_every", holdout_every)
    require_positive_int("shards", shards)
    per_shard, held_out, documents = [0] * shards, 0, 0
    number, last_training, last = -1, None, None
    files = checked_files(files)
    marked = _marked(document_sentences(files, document_format), holdout_every)
    for _, document, is_held_out in marked:
        documents += document != last
        last = document
        if is_held_out:
            held_out += 1
            continue
        if document != last_training:
            number, last_training = number + 1, document
        per_shard[number % shards] += 1
    count = DocumentCount(documents, sum(per_shard) + held_out)
    warn_about_format(files, document_format, count, stacklevel=3)
    return ShardLineCounts(per_shard, held_out, documents)


def document_lines(files, document_format, holdout_every, held_out):
    """A `tf.data.Dataset` of the sentences of the training documents, or of
    the held-out ones: what `packed_examples(..., holdout_every=...)` trains
    on, or leaves out.

    Example:
    >>> import pathlib, tempfile
    >>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
    >>> _ = corpus.write_text("One.\\nTwo.\\n\\nThree.\\n\\nFour.\\n")
    >>> lines = document_lines([str(corpus)], "documents", 2, held_out=True)
    >>> [line.decode() for line in lines.as_numpy_iterator()]
    ['One.', 'Two.', 'Four.']
    """
    import tensorflow as tf

    require_choice("document_format", document_format, DOCUMENT_FORMATS)
    require_positive_int("holdout_every", holdout_every)
    files = checked_files(files)

    def stream():
        for text, _ in split_documents(
            document_sentences(files, document_format), holdout_every, held_out
        ):
            yield text

    return tf.data.Dataset.from_generator(
        stream, output_signature=tf.TensorSpec([], tf.string)
    )


def check_document_format(files, document_format="documents"):
    """Count the documents of a corpus, warning when the format looks wrong.

    Read as `"documents"`, a corpus without a single blank line (each file one
    document of many sentences) is usually one document per line, meant for
    `"lines"`: this warns (`UserWarning`) then. Scans the files once; turn
    the warning into an error with `warnings.simplefilter("error")`.

    Returns:
        A `DocumentCount(documents, sentences)`.

    Example:
    >>> import pathlib, tempfile
    >>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
    >>> _ = corpus.write_text("One.\\nTwo.\\n\\nThree.\\n")
    >>> check_document_format([str(corpus)])
    DocumentCount(documents=2, sentences=3)
    """
    require_choice("document_format", document_format, DOCUMENT_FORMATS)
    files = checked_files(files)
    documents = sentences = 0
    last_document = None
    for _, document in document_sentences(files, document_format):
        sentences += 1
        documents += document != last_document
        last_document = document
    count = DocumentCount(documents, sentences)
    warn_about_format(files, document_format, count, stacklevel=3)
    return count


def warn_about_format(files, document_format, count, stacklevel=2):
    """Warns when a corpus read as `"documents"` has no blank line: each
    file is then one document, and sentence-order pairs join unrelated lines."""
    documents, sentences = count
    no_blank_line = documents <= len(files) and sentences > documents
    if document_format == "documents" and no_blank_line:
        warnings.warn(
            f"No blank line separates documents in {files}: read with "
            f"document_format='documents', each file is one document "
            f"({sentences} sentences in {documents} documents), so sentence-order "
            "pairs join unrelated lines. For one document per line, pass "
            "document_format='lines'.",
            stacklevel=stacklevel,
        )
