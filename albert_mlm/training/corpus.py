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

import glob
import os


class CorpusError(ValueError):
    """A corpus argument that cannot be used (missing or empty files)."""


def corpus_files(patterns):
    """Expand file names and glob patterns; every match must be a non-empty file."""
    files = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise CorpusError(f"No corpus file matches {pattern!r}.")
        for path in matches:
            if not os.path.isfile(path):
                raise CorpusError(f"Corpus file {path!r} does not exist.")
            if os.path.getsize(path) == 0:
                raise CorpusError(f"Corpus file {path!r} is empty.")
            files.append(path)
    return files


def iterate_lines(files):
    """Stripped non-empty lines of `files`, one at a time."""
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                line = line.strip()
                if line:
                    yield line


def split_lines(files, holdout_every):
    """`(train, held_out)` datasets of stripped, non-empty lines."""
    import tensorflow as tf

    def is_held_out(index, line):
        return index % holdout_every == 0

    def is_train(index, line):
        return index % holdout_every != 0

    def drop_index(index, line):
        return line

    lines = tf.data.TextLineDataset(files).map(tf.strings.strip)
    lines = lines.filter(lambda line: tf.strings.length(line) > 0).enumerate()
    held_out = lines.filter(is_held_out).map(drop_index)
    return lines.filter(is_train).map(drop_index), held_out
