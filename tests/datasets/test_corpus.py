"""`corpus_files`: a file is read for its UTF-8 check once per version, and
a file that changes is checked again."""

import os
import sys

import pytest

from albert_mlm.datasets.corpus import CorpusError, corpus_files

_opened = []


def _record_opens(event, args):
    if event == "open" and _opened and args and str(args[0]) == _opened[0]:
        _opened.append(args[0])


sys.addaudithook(_record_opens)


def _opens_of(path, action):
    """How many times `action()` opens `path`."""
    _opened[:] = [str(path)]
    try:
        action()
        return len(_opened) - 1
    finally:
        _opened.clear()


def test_a_file_is_checked_once_until_it_changes(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text.\n")
    assert _opens_of(corpus, lambda: corpus_files([str(corpus)])) == 1
    assert _opens_of(corpus, lambda: corpus_files([str(corpus)])) == 0
    corpus.write_bytes(b"caf\xe9 au lait.\n")  # Latin-1, and a new version.
    os.utime(corpus, ns=(0, 10**9))
    with pytest.raises(CorpusError, match="is not UTF-8 text"):
        corpus_files([str(corpus)])
    # Still refused: a failed check is not remembered as a pass.
    with pytest.raises(CorpusError, match="is not UTF-8 text"):
        corpus_files([str(corpus)])
