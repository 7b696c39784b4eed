"""Cloze accuracy (`training/cloze.py`): the share of sentences whose mask
the model fills with an accepted word, on the shipped preset."""

import json

import pytest
from helpers import DATA_DIR

from albert_mlm import AlbertMaskedLM
from albert_mlm.training.cloze import cloze_accuracy, cloze_answers, read_cloze_set

TEXTS = [
    "the [MASK] barked at the cat.",
    "she drank a cup of hot [MASK].",
    "we walked to the [MASK] after school.",
]


@pytest.fixture(scope="module")
def masked_lm():
    return AlbertMaskedLM.from_preset("albert_tiny_en_uncased")


def test_answers_are_whole_words_most_likely_first(masked_lm):
    answers = cloze_answers(masked_lm, [{"text": t} for t in TEXTS], top_k=5)
    vocabulary = set(masked_lm.preprocessor.tokenizer.get_vocabulary())
    for words in answers:
        assert len(words) == 5 and len(set(words)) == 5
        assert all(word and "\u2581" + word in vocabulary for word in words)
    (candidates,) = masked_lm.fill_mask(TEXTS[0], top_k=100)
    first_word = next(c for c in candidates if c["piece"].startswith("\u2581"))
    assert answers[0][0] == first_word["token"]


def test_accuracy_counts_accepted_words_in_the_top_k(masked_lm):
    answers = cloze_answers(masked_lm, [{"text": t} for t in TEXTS], top_k=5)
    items = [
        {"text": TEXTS[0], "accepted": [answers[0][0]]},  # Top-1.
        {"text": TEXTS[1], "accepted": [answers[1][4]]},  # Fifth.
        {"text": TEXTS[2], "accepted": ["notawordatall"]},
    ]
    result = cloze_accuracy(masked_lm, items, top_k=(1, 5))
    assert result == {"top1": pytest.approx(1 / 3), "top5": pytest.approx(2 / 3),
                      "items": 3}  # fmt: skip


@pytest.mark.parametrize(
    "item",
    [
        {"text": "no mask here.", "accepted": ["a"]},
        {"text": "[MASK] and [MASK].", "accepted": ["a"]},
        {"text": "one [MASK] here.", "accepted": []},
    ],
)
def test_a_malformed_item_is_refused_naming_the_file(tmp_path, item):
    path = tmp_path / "cloze.json"
    path.write_text(json.dumps({"description": "", "items": [item]}))
    with pytest.raises(
        ValueError, match=r"Cloze item 0 of '.*cloze\.json' needs exactly one \[MASK\]"
    ):
        read_cloze_set(str(path))


def test_the_committed_cloze_set_is_well_formed():
    items = read_cloze_set(str(DATA_DIR / "cloze_en.json"))
    assert len(items) >= 200
    assert len({item["text"] for item in items}) == len(items)
