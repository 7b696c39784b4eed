"""tools/corpus/build_english_corpus.py: WordNet synsets become documents that name
what their glosses define."""

import re
import shutil
from pathlib import Path

import pytest
from helpers import tool_module


@pytest.fixture(scope="module")
def builder():
    with tool_module("corpus/build_english_corpus") as module:
        yield module


# Synset lines in WordNet 3.0's data-file format (trimmed pointer lists).
NOUN = (
    "08932568 15 n 04 Paris 0 City_of_Light 0 French_capital 0 "
    "capital_of_France 0 001 @i 08691669 n 0000 | the capital and largest city "
    "of France; and international center of culture and commerce  \n"
)
VERB = (
    "01192791 34 v 03 run_low 0 run_short 0 go 0 001 @ 02609764 v 0000 01 + 01 "
    '00 | to be spent or finished; "The money had gone after a few days"  \n'
)
ADJECTIVE = (
    "00019731 00 s 02 handy 0 ready_to_hand(p) 0 001 & 00019131 a 0000 | easy "
    'to reach; "found a handy spot for the can opener"  \n'
)
SHORT = '00000002 00 n 01 dog 0 000 | a canine; "the dog barked at us"  \n'
EXAMPLE_ONLY = '00000001 00 n 01 thing 0 000 | "a thing of beauty is a joy"  \n'


def test_a_noun_definition_names_the_synset_and_its_synonyms(builder):
    assert builder._named_definition(NOUN) == [
        "Paris (also City of Light, French capital, capital of France) is the "
        "capital and largest city of France",
        "and international center of culture and commerce",
    ]


def test_a_verb_definition_is_said_with_to_once(builder):
    document = builder._named_definition(VERB)
    assert document[0] == "to run low (also run short, go) is to be spent or finished"
    assert document[1:] == ["The money had gone after a few days"]


def test_an_adjective_loses_its_syntactic_marker(builder):
    assert builder._named_definition(ADJECTIVE) == [
        "handy (also ready to hand) means easy to reach",
        "found a handy spot for the can opener",
    ]


def test_a_gloss_without_a_definition_is_left_as_it_is(builder):
    assert builder._named_definition(EXAMPLE_ONLY) == ["a thing of beauty is a joy"]


def test_a_definition_too_short_alone_is_kept_once_named(builder):
    # "a canine" alone is under the corpus's three-word minimum.
    assert builder._named_definition(SHORT) == [
        "dog is a canine",
        "the dog barked at us",
    ]


NOVEL = """TITLE
By Someone

PREFACE
Not part of the story.

VOLUME I

CHAPTER I

It was a dark and
stormy night.

She opened the door.

VOLUME II

CHAPTER 2. The Second.

The rain stopped.

THE END

Transcriber's notes.
"""


def test_a_novel_is_cut_into_chapters_of_paragraphs(builder):
    assert list(builder._chapters(NOVEL)) == [
        ["It was a dark and stormy night.", "She opened the door."],
        ["The rain stopped."],
    ]


def test_every_source_has_a_licence_notice_naming_its_package(builder):
    presets = Path(__file__).resolve().parents[2] / "presets"
    for source in builder.SOURCES:
        notice = presets / source.notice
        assert notice.is_file(), f"{source.name}: {notice} is missing"
        package = re.escape(source.package.split("-*")[0]).replace("X", r"\d+")
        assert re.search(package, notice.read_text(encoding="utf-8")), source.name


@pytest.fixture
def r_root(tmp_path):
    """A file-system root holding the R packages' data that R itself wrote
    (tools/corpus/make_r_lazyload_goldens.R), where Debian installs it."""
    library = tmp_path / "usr/lib/R/site-library"
    data = Path(__file__).resolve().parents[1] / "data/r_lazyload/site-library"
    shutil.copytree(data, library)
    return tmp_path


def test_austen_novels_become_chapters_without_title_or_end_matter(builder, r_root):
    assert list(builder._jane_austen(r_root)) == [
        [
            "Emma Woodhouse, handsome, clever, and rich, had a comfortable home.",
            "She was the youngest daughter.",
        ],
        ["Sir Walter Elliot never read any book but one."],
        ["Mr Shepherd was a lawyer."],
    ]


def test_moby_dick_loses_the_gutenberg_header_front_matter_and_licence(builder, r_root):
    assert list(builder._moby_dick(r_root)) == [
        ["Call me Ishmael. Some years ago I went to sea."],
        ["The drama's done. Why then here does any one step forth?"],
    ]
