"""tools/corpus/r_lazyload.py reads the lazy-load databases that R itself wrote
(tests/data/r_lazyload, made by tools/corpus/make_r_lazyload_goldens.R)."""

import gzip
import shutil

import pytest
from helpers import tool_module

DATA = "tests/data/r_lazyload"
EXPECTED = {
    "latin1": ["na\u00efve"],
    "named": {"first": "one", "second": "two"},
    "nothing": None,
    "novel": ["CHAPTER 1", "", "It was a caf\u00e9 by the sea.", None],
    "numbers": {"count": [3], "ratio": [0.25], "flags": [1, 0, -(2**31)]},
}


@pytest.fixture(scope="module")
def reader():
    with tool_module("corpus/r_lazyload") as module:
        yield module


@pytest.fixture
def database(tmp_path):
    """A copy of the zlib-compressed database that a test may damage."""
    for suffix in (".rdx", ".rdb"):
        shutil.copy(f"{DATA}/compress1{suffix}", tmp_path / f"Rdata{suffix}")
    return tmp_path / "Rdata"


@pytest.mark.parametrize("compression", [1, 2, 3], ids=["zlib", "bzip2", "xz"])
def test_every_compression_r_writes_reads_back_the_same_objects(reader, compression):
    assert reader.read_lazyload(f"{DATA}/compress{compression}") == EXPECTED


def test_a_truncated_database_is_an_error_naming_the_index(reader, database):
    rdb = database.with_suffix(".rdb")
    rdb.write_bytes(rdb.read_bytes()[:-40])
    with pytest.raises(reader.RDataError, match=r"Rdata\.rdx: not an R lazy-load"):
        reader.read_lazyload(database)


def test_an_index_that_is_not_gzip_is_an_error(reader, database):
    database.with_suffix(".rdx").write_bytes(b"not gzip at all")
    with pytest.raises(reader.RDataError, match="not an R lazy-load database"):
        reader.read_lazyload(database)


def test_a_missing_database_is_file_not_found(reader, tmp_path):
    with pytest.raises(FileNotFoundError):
        reader.read_lazyload(tmp_path / "Rdata")


def test_unserialize_refuses_an_ascii_or_binary_serialisation(reader):
    index = gzip.decompress(open(f"{DATA}/compress1.rdx", "rb").read())
    assert reader.unserialize(index)["compressed"] == [1]
    with pytest.raises(reader.RDataError, match="not an R object in XDR format"):
        reader.unserialize(b"A\n" + index[2:])
    with pytest.raises(reader.RDataError, match="ends early"):
        reader.unserialize(index[:20])
