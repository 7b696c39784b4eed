r"""Text corpora as streaming `tf.data` pipelines, with a held-out split.

Files are read line by line (`tf.data.TextLineDataset`), never whole; every
`holdout_every`-th non-empty line goes to the held-out split.

>>> import pathlib, tempfile
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
>>> _ = corpus.write_text("".join(f"line {i}\n" for i in range(40)))
>>> train, held_out = split_lines(corpus_files([str(corpus)]), holdout_every=20)
>>> [line.decode() for line in held_out.as_numpy_iterator()]
['line 0', 'line 20']
"""

import codecs
import os

from albert_mlm.datasets.corpus_storage import (
    expand,
    is_directory,
    is_file,
    open_text,
    size,
    version,
)

_NUL = b"\x00"
# The files found UTF-8 text, with the version (size, time) that was read.
_checked = {}


class CorpusError(ValueError):
    """A corpus argument that cannot be used (missing or empty files)."""


def corpus_files(patterns):
    """Expand file names and glob patterns (local, or any `tf.io.gfile`
    filesystem: `gs://...`); every match must be a non-empty UTF-8 text
    file (checked by reading it once, in blocks)."""
    files = []
    for pattern in patterns:
        matches = expand(pattern)
        if not matches:
            raise CorpusError(f"No corpus file matches {pattern!r}.")
        for path in matches:
            if is_directory(path):
                raise CorpusError(
                    f"Corpus path {path!r} is a directory; pass the text files "
                    f"in it, e.g. {os.path.join(path, '*.txt')!r}."
                )
            if not is_file(path):
                raise CorpusError(f"Corpus file {path!r} does not exist.")
            if size(path) == 0:
                raise CorpusError(f"Corpus file {path!r} is empty.")
            if _checked.get(path) != version(path):  # Read once, not per use.
                check_utf8_text(path)
                _checked[path] = version(path)
            files.append(path)
    return files


def check_utf8_text(path, block_size=1 << 20):
    """Refuse a file that is not UTF-8 text (a Latin-1 file, a binary one):
    read on, its bytes would silently become replacement characters."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open_text(path, "rb") as file:
        while block := file.read(block_size):
            if _NUL in block:
                raise CorpusError(
                    f"Corpus file {path!r} holds NUL bytes (at byte "
                    f"{offset + block.index(_NUL)}): it looks binary, not text."
                )
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                raise CorpusError(
                    f"Corpus file {path!r} is not UTF-8 text: byte "
                    f"0x{block[error.start]:02x} at offset {offset + error.start} "
                    "cannot be decoded. Convert it first, e.g. `iconv -f latin1 "
                    "-t utf-8`."
                ) from None
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise CorpusError(
            f"Corpus file {path!r} is not UTF-8 text: it ends inside a character."
        ) from None


def iterate_lines(files):
    """Stripped non-empty lines of `files`, one at a time."""
    for path in files:
        with open_text(path) as file:
            for line in file:
                line = line.strip()
                if line:
                    yield line


def split_lines(files, holdout_every, shard=(0, 1)):
    """`(train, held_out)` datasets of stripped, non-empty lines; of the
    training lines only shard `(index, count)`'s, every `count`-th from the
    `index`-th (the held-out lines are never sharded)."""
    import tensorflow as tf

    index, count = shard

    def is_held_out(number, line):
        return number % holdout_every == 0

    def in_training_shard(number, line):
        return number % holdout_every != 0

    def in_shard(number, line):
        return number % count == index

    def drop_number(number, line):
        return line

    lines = tf.data.TextLineDataset(files).map(tf.strings.strip)
    lines = lines.filter(lambda line: tf.strings.length(line) > 0).enumerate()
    held_out = lines.filter(is_held_out).map(drop_number)
    train = lines.filter(in_training_shard).map(drop_number)
    if count > 1:
        train = train.enumerate().filter(in_shard).map(drop_number)
    return train, held_out
