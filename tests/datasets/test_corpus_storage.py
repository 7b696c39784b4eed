"""Corpus files on another filesystem (`ram://` here, as `gs://` in a
bucket) are read by the same names and glob patterns as local ones."""

import numpy as np
import pytest
import tensorflow as tf

from albert_mlm import AlbertTokenizer
from albert_mlm.datasets.corpus import CorpusError, corpus_files, iterate_lines
from albert_mlm.datasets.corpus_documents import shard_line_counts
from albert_mlm.datasets.document_packing import packed_examples

TEXTS = {
    "b.txt": "The cat sat.\nIt purred.\n\nA dog ran.\nIt barked loudly.\n",
    "a.txt": "Birds sing.\nThe sun rose.\n\nRain fell.\n",
}


@pytest.fixture
def corpora(tmp_path, request):
    """The same files in a local folder and on the `ram://` filesystem."""
    remote = f"ram://{request.node.name}"
    for name, text in TEXTS.items():
        (tmp_path / name).write_text(text)
        with tf.io.gfile.GFile(f"{remote}/{name}", "w") as file:
            file.write(text)
    return str(tmp_path), remote


def test_remote_globs_expand_and_read_like_local_ones(corpora):
    local, remote = corpora
    local_files = corpus_files([f"{local}/*.txt"])
    remote_files = corpus_files([f"{remote}/*.txt"])
    assert remote_files == [f"{remote}/a.txt", f"{remote}/b.txt"]
    assert [path.rsplit("/", 1)[1] for path in local_files] == ["a.txt", "b.txt"]
    assert list(iterate_lines(remote_files)) == list(iterate_lines(local_files))
    assert shard_line_counts(remote_files, "documents", 3, 2) == shard_line_counts(
        local_files, "documents", 3, 2
    )


def test_remote_corpus_packs_the_local_corpus_examples(corpora):
    local, remote = corpora
    tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")

    def examples(directory):
        files = corpus_files([f"{directory}/*.txt"])
        stream = packed_examples(files, tokenizer, sequence_length=16, seed=5)
        return list(stream.as_numpy_iterator())

    ours, theirs = examples(remote), examples(local)
    assert len(ours) == len(theirs) > 0
    for mine, reference in zip(ours, theirs):
        for key in reference:
            np.testing.assert_array_equal(mine[key], reference[key])


def test_remote_problems_are_named(corpora):
    _, remote = corpora
    with pytest.raises(CorpusError, match="No corpus file matches"):
        corpus_files([f"{remote}/*.md"])
    with pytest.raises(CorpusError, match="does not exist"):
        corpus_files([f"{remote}/missing.txt"])
    with pytest.raises(CorpusError, match="is a directory"):
        corpus_files([remote])
    with tf.io.gfile.GFile(f"{remote}/binary.txt", "wb") as file:
        file.write(b"text\x00more")
    with pytest.raises(CorpusError, match="NUL bytes"):
        corpus_files([f"{remote}/binary.txt"])
