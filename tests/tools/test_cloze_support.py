"""tools/preset_release/measure_cloze_support.py: each cloze item's evidence
in a training text, and the share solved at each level of it."""

import pytest
from helpers import tool_module

ITEMS = [
    {"text": "a cup of hot [MASK].", "accepted": ["tea", "coffee"], "topic": "food"},
    {"text": "[MASK] barked at the cat.", "accepted": ["dogs"], "topic": "animals"},
    {"text": "the sky is [MASK].", "accepted": ["blue"], "topic": "colours"},
]
CORPUS = [
    "Hot tea, hot TEA and cold coffee.\n",
    "The hot coffee; dogs barked at night. Dogs barked.\n",
    "blue tea\n",
]


@pytest.fixture(scope="module")
def support():
    with tool_module("preset_release/measure_cloze_support") as module:
        yield module


def test_the_neighbour_is_the_word_before_the_mask_or_else_after_it(support):
    assert support.neighbour("a cup of hot [MASK].") == ("hot", -1)
    assert support.neighbour("[MASK] barked at the cat.") == ("barked", 1)
    assert support.neighbour("[MASK].") == (None, 0)


def test_counts_words_and_the_pairs_beside_the_mask(support):
    words, pairs = support.corpus_counts(CORPUS, ITEMS)
    assert words["tea"] == 3 and words["coffee"] == 2 and words["dogs"] == 2
    # "hot tea" twice, "hot coffee" once; "cold coffee" is not beside "hot".
    assert support.item_support(ITEMS[0], words, pairs) == (3, 3)
    # "dogs barked": the mask comes first, so the pair is answer then neighbour.
    assert support.item_support(ITEMS[1], words, pairs) == (2, 2)
    assert support.item_support(ITEMS[2], words, pairs) == (1, 0)


def test_band_labels_cover_every_count_once(support):
    bands = (0, 1, 10, 100)
    labels = [
        support.band_label(count, bands) for count in (0, 1, 9, 10, 99, 100, 5000)
    ]
    assert labels == ["0", "1-9", "1-9", "10-99", "10-99", "100+", "100+"]
    assert support.band_label(999, (0, 100, 1_000)) == "100-999"
    assert support.band_label(12_000, (0, 100, 1_000)) == "1,000+"


def test_report_groups_solved_shares_by_evidence_and_topic(support):
    words, pairs = support.corpus_counts(CORPUS, ITEMS)
    answers = [["milk", "coffee"], ["cats"], ["blue", "red"]]
    report = support.support_report(ITEMS, words, pairs, answers)
    assert [row["solved_top5"] for row in report["items"]] == [True, False, True]
    assert report["by_word_count"] == {"0-99": {"items": 3, "top5": 2 / 3}}
    assert report["by_neighbour_count"] == {
        "0": {"items": 1, "top5": 1.0},
        "1-9": {"items": 2, "top5": 0.5},
    }
    assert report["by_topic"]["animals"] == {"items": 1, "top5": 0.0}
    assert sum(group["items"] for group in report["by_topic"].values()) == 3
