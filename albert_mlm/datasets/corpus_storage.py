"""Where corpus files live: local paths, or any filesystem TensorFlow's
`tf.io.gfile` reads (`gs://bucket/books/*.txt`, `s3://`, `hdfs://`,
`ram://`), by the same names and glob patterns.

Local paths go through Python's own `glob`, `os` and `open`; a path with a
scheme (`scheme://...`) goes through `tf.io.gfile`, so a multi-host run can
read its shares straight from a bucket.

>>> import tensorflow as tf
>>> with tf.io.gfile.GFile("ram://books/a.txt", "w") as file:
...     _ = file.write("One.\\nTwo.\\n")
>>> expand("ram://books/*.txt"), size("ram://books/a.txt")
(['ram://books/a.txt'], 10)
>>> with open_text("ram://books/a.txt") as file:
...     [line.strip() for line in file]
['One.', 'Two.']
"""

import glob
import os


def _remote(path):
    return "://" in path


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def expand(pattern):
    """The file names `pattern` matches, sorted (itself if it has no
    wildcard)."""
    if not glob.has_magic(pattern):
        return [pattern]
    if _remote(pattern):
        return sorted(_gfile().glob(pattern))
    return sorted(glob.glob(pattern))


def is_directory(path):
    return _gfile().isdir(path) if _remote(path) else os.path.isdir(path)


def is_file(path):
    if _remote(path):
        return _gfile().exists(path) and not _gfile().isdir(path)
    return os.path.isfile(path)


def size(path):
    """The file's size in bytes."""
    return _gfile().stat(path).length if _remote(path) else os.path.getsize(path)


def version(path):
    """What changes when the file does: its size and modification time."""
    if _remote(path):
        stat = _gfile().stat(path)
        return stat.length, stat.mtime_nsec
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def open_text(path, mode="r"):
    """The file opened for reading: UTF-8 text lines, or bytes with "rb"."""
    if _remote(path):
        return _gfile().GFile(path, mode)
    if "b" in mode:
        return open(path, mode)
    return open(path, mode, encoding="utf-8")
