"""Read the data objects of an installed R package without R.

An R package's data lives in a lazy-load database: ``data/Rdata.rdx``, a
gzipped index of object names and byte ranges, and ``data/Rdata.rdb``, the
objects one after another, each a 4-byte big-endian length then a compressed
object in R's XDR serialisation (format 2 or 3).  This reader knows the parts
of that serialisation that plain data uses: NULL, symbols, pair lists,
character, logical, integer, double and generic vectors, and attributes.  A
vector with a ``names`` attribute comes back as a dict, any other as a list.

    from r_lazyload import read_lazyload
    novels = read_lazyload("/usr/lib/R/site-library/janeaustenr/data/Rdata")
    novels["emma"][:3]  # ['EMMA', '', 'By Jane Austen']
"""

import bz2
import gzip
import lzma
import struct
import zlib
from pathlib import Path

_NIL, _SYMBOL, _PAIR_LIST, _CHARS = 254, 1, 2, 9
_LOGICAL, _INTEGER, _DOUBLE, _STRINGS, _LIST = 10, 13, 14, 16, 19
_REFERENCE = 255
_HAS_ATTRIBUTES, _HAS_TAG = 1 << 9, 1 << 10
_LATIN1 = 1 << 2


class RDataError(ValueError):
    """The bytes are not an R object this reader knows."""


class _Reader:
    def __init__(self, data):
        self.data = data
        self.position = 0
        self.references = []

    def take(self, size):
        if self.position + size > len(self.data):
            raise RDataError("R object ends early")
        chunk = self.data[self.position : self.position + size]
        self.position += size
        return chunk

    def integers(self, count):
        return list(struct.unpack(f">{count}i", self.take(4 * count)))

    def length(self):
        (length,) = self.integers(1)
        if length == -1:  # a long vector: two more words
            upper, lower = self.integers(2)
            length = (upper << 32) + lower
        return length

    def header(self):
        if self.take(2) != b"X\n":
            raise RDataError("not an R object in XDR format (it must start 'X\\n')")
        version = self.integers(3)[0]
        if version not in (2, 3):
            raise RDataError(f"R serialisation format {version}; 2 or 3 expected")
        if version == 3:
            self.take(self.integers(1)[0])  # the writer's native encoding

    def item(self):
        (flags,) = self.integers(1)
        kind = flags & 0xFF
        if kind == _NIL:
            return None
        if kind == _REFERENCE:
            index = flags >> 8 or self.integers(1)[0]
            return self.references[index - 1]
        if kind == _SYMBOL:
            name = self.item()
            self.references.append(name)
            return name
        if kind == _CHARS:
            (size,) = self.integers(1)
            if size == -1:
                return None  # NA_character_
            encoding = "latin-1" if flags & (_LATIN1 << 12) else "utf-8"
            return self.take(size).decode(encoding)
        if kind == _PAIR_LIST:
            return self.pair_list(flags)
        if kind in (_LOGICAL, _INTEGER):
            values = self.integers(self.length())
        elif kind == _DOUBLE:
            count = self.length()
            values = list(struct.unpack(f">{count}d", self.take(8 * count)))
        elif kind in (_STRINGS, _LIST):
            values = [self.item() for _ in range(self.length())]
        else:
            raise RDataError(f"R object of type {kind}, which this reader skips")
        attributes = self.item() if flags & _HAS_ATTRIBUTES else {}
        names = attributes.get("names") if attributes else None
        return dict(zip(names, values)) if names is not None else values

    def pair_list(self, flags):
        """A pair list's tagged elements as a dict (attributes are one)."""
        elements = {}
        while True:
            if flags & _HAS_ATTRIBUTES:
                self.item()
            tag = self.item() if flags & _HAS_TAG else len(elements)
            elements[tag] = self.item()
            (flags,) = self.integers(1)
            if flags & 0xFF != _PAIR_LIST:
                if flags & 0xFF != _NIL:
                    raise RDataError("a pair list ends in something other than NULL")
                return elements


def unserialize(data):
    """The R object in `data` (bytes of R's XDR serialisation)."""
    reader = _Reader(data)
    reader.header()
    return reader.item()


def _decompress(blob, compression):
    """An .rdb entry's serialised bytes: R writes the uncompressed length,
    then zlib data (compression 1), or a type byte then the data (2 and 3)."""
    (size,) = struct.unpack(">I", blob[:4])
    if compression == 1:  # R's TRUE
        data = zlib.decompress(blob[4:])
    elif blob[4:5] == b"Z":  # a raw LZMA2 stream, without the .xz container
        filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
        data = lzma.decompress(blob[5:], format=lzma.FORMAT_RAW, filters=filters)
    elif blob[4:5] == b"2":
        data = bz2.decompress(blob[5:])
    elif blob[4:5] == b"0":
        data = blob[5:]
    else:
        raise RDataError(f"unknown .rdb compression {compression!r}")
    if len(data) != size:
        raise RDataError(f".rdb entry holds {len(data)} bytes, {size} announced")
    return data


def read_lazyload(prefix):
    """Every object of the lazy-load database at `prefix` (the path without
    ``.rdx``/``.rdb``), as a dict from object name to value."""
    prefix = Path(prefix)
    index_path = prefix.with_name(prefix.name + ".rdx")
    database_path = prefix.with_name(prefix.name + ".rdb")
    index_bytes, database = index_path.read_bytes(), database_path.read_bytes()
    try:
        index = unserialize(gzip.decompress(index_bytes))
        compression = index["compressed"]
        compression = compression[0] if isinstance(compression, list) else 1
        return {
            name: unserialize(_decompress(database[start : start + size], compression))
            for name, (start, size) in index["variables"].items()
        }
    except (  # RDataError is a ValueError; a bad gzip or bzip2 stream, OSError
        ValueError,
        KeyError,
        TypeError,
        EOFError,
        struct.error,
        zlib.error,
        lzma.LZMAError,
        OSError,
    ) as error:
        raise RDataError(
            f"{index_path}: not an R lazy-load database ({error})"
        ) from error
