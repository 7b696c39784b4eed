"""Cloze accuracy: how often a masked LM's top-k words for a sentence's one
`[MASK]` include a word a person would accept there.

A cloze set is a JSON file `{"description": ..., "items": [{"text",
"accepted", "topic"}, ...]}`: each `text` holds exactly one `[MASK]` standing
for one word, `accepted` lists the words that fit (see
`tests/data/cloze_en.json`). The model's candidates are its likeliest
vocabulary pieces that start a word (a piece continuing a word cannot be a
whole answer), read as words.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> items = [{"text": "the [MASK] barked at the cat.", "accepted": ["dog"]}]
>>> result = cloze_accuracy(masked_lm, items)
>>> sorted(result), result["items"]
(['items', 'top1', 'top5'], 1)
"""

import json

import numpy as np

from albert_mlm.text.word_spans import word_start_table

# Enough pieces that `top_k` word starts remain after continuations are
# dropped, for any vocabulary.
_SEARCHED_PIECES = 100


def read_cloze_set(path):
    """The items of a cloze-set JSON file, checked."""
    with open(path, encoding="utf-8") as file:
        items = json.load(file)["items"]
    for index, item in enumerate(items):
        if item["text"].upper().count("[MASK]") != 1 or not item["accepted"]:
            raise ValueError(
                f"Cloze item {index} of {path!r} needs exactly one [MASK] and at "
                f"least one accepted word. Received: {item!r:.120}"
            )
    return items


def cloze_answers(masked_lm, items, top_k=5, batch_size=64):
    """Per item, the model's `top_k` likeliest whole words for the mask."""
    vocabulary = masked_lm.preprocessor.tokenizer.get_vocabulary()
    # A word's first piece, not the bare word-start mark "▁" alone.
    starts_word = word_start_table(vocabulary) & (
        np.char.str_len(np.array(vocabulary)) > 1
    )
    results = masked_lm.fill_mask(
        [item["text"] for item in items],
        top_k=_SEARCHED_PIECES,
        batch_size=batch_size,
    )
    return [
        [c["token"] for c in candidates if starts_word[c["id"]]][:top_k]
        for (candidates,) in results
    ]


def cloze_accuracy(masked_lm, items, top_k=(1, 5), batch_size=64):
    """`{"top1": ..., "top5": ..., "items": n}`: the share of `items` with
    an accepted word among the model's `k` likeliest, for each `k`."""
    answers = cloze_answers(masked_lm, items, max(top_k), batch_size)
    accepted = [set(item["accepted"]) for item in items]
    result = {
        f"top{k}": float(
            np.mean([bool(set(a[:k]) & ok) for a, ok in zip(answers, accepted)])
        )
        for k in top_k
    }
    result["items"] = len(items)
    return result
