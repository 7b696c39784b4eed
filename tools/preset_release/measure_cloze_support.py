"""How much evidence a training text holds for each cloze answer, and how often
a preset solves the cloze items at each level of that evidence.

    KERAS_BACKEND=tensorflow python tools/preset_release/measure_cloze_support.py \\
        --train /tmp/english_corpus/train.txt --preset albert_tiny_en_uncased \\
        --json /tmp/cloze_support.json

For every item of the cloze set two counts are taken in the training text
(lowercased, split into words): how often its commonest accepted word occurs
at all, and how often an accepted word occurs right after the word before the
mask ("hot tea" for "she drank a cup of hot [MASK].", or right before the word
after it when the mask comes first). The items are then grouped by each count,
and by topic, with the share of each group whose answer is among the preset's
five likeliest words.
"""

import argparse
import collections
import json
import pathlib
import re
import sys

from evaluate_english_preset import CLOZE_SET

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Lower bounds of the groups: occurrences of the commonest accepted word,
# and of an accepted word beside the mask's neighbour.
WORD_COUNT_BANDS = (0, 100, 1_000, 10_000)
NEIGHBOUR_COUNT_BANDS = (0, 1, 10, 100)


def neighbour(text):
    """`(word, side)`: the word before `[MASK]` (side -1) or, when the mask
    starts the text, the word after it (side +1)."""
    before, _, after = text.lower().partition("[mask]")
    words_before = WORD.findall(before)
    if words_before:
        return words_before[-1], -1
    words_after = WORD.findall(after)
    return (words_after[0], 1) if words_after else (None, 0)


def _asked_pairs(item):
    """The word pairs an item asks about: the mask's neighbour then each
    accepted word, or each accepted word then the neighbour after the mask."""
    word, side = neighbour(item["text"])
    if side < 0:
        return [(word, answer) for answer in item["accepted"]]
    if side > 0:
        return [(answer, word) for answer in item["accepted"]]
    return []


def corpus_counts(lines, items):
    """`(word_counts, pair_counts)`: every word's occurrences in `lines`, and
    the occurrences of the word pairs the items ask about."""
    wanted = {pair for item in items for pair in _asked_pairs(item)}
    words = collections.Counter()
    pairs = collections.Counter()
    for line in lines:
        tokens = WORD.findall(line.lower())
        words.update(tokens)
        pairs.update(pair for pair in zip(tokens, tokens[1:]) if pair in wanted)
    return words, pairs


def item_support(item, words, pairs):
    """The item's two counts: its commonest accepted word's occurrences, and
    its accepted words' occurrences beside the mask's neighbour."""
    beside = sum(pairs[pair] for pair in _asked_pairs(item))
    return max(words[answer] for answer in item["accepted"]), beside


def band_label(count, bands):
    """The label of the band `count` falls in: "0", "1-9", "100+", ..."""
    lower = max(bound for bound in bands if count >= bound)
    following = [bound for bound in bands if bound > lower]
    if not following:
        return f"{lower:,}+"
    if following[0] - 1 == lower:
        return f"{lower:,}"
    return f"{lower:,}-{following[0] - 1:,}"


def grouped(rows, key, order=None):
    """`{group: {"items": n, "top5": share solved}}` of `rows` by `key`."""
    groups = collections.defaultdict(list)
    for row in rows:
        groups[row[key]].append(row["solved_top5"])
    names = order if order is not None else sorted(groups)
    return {
        name: {
            "items": len(groups[name]),
            "top5": sum(groups[name]) / len(groups[name]),
        }
        for name in names
        if groups[name]
    }


def support_report(items, words, pairs, answers):
    """Per-item rows and the grouped shares, given each item's top-5 words."""
    rows = []
    for item, top5 in zip(items, answers):
        word_count, beside = item_support(item, words, pairs)
        rows.append(
            {
                "text": item["text"],
                "topic": item.get("topic", ""),
                "word_count": word_count,
                "neighbour_count": beside,
                "word_band": band_label(word_count, WORD_COUNT_BANDS),
                "neighbour_band": band_label(beside, NEIGHBOUR_COUNT_BANDS),
                "top5": top5,
                "solved_top5": bool(set(top5) & set(item["accepted"])),
            }
        )
    word_order = [band_label(bound, WORD_COUNT_BANDS) for bound in WORD_COUNT_BANDS]
    neighbour_order = [
        band_label(bound, NEIGHBOUR_COUNT_BANDS) for bound in NEIGHBOUR_COUNT_BANDS
    ]
    return {
        "by_word_count": grouped(rows, "word_band", word_order),
        "by_neighbour_count": grouped(rows, "neighbour_band", neighbour_order),
        "by_topic": grouped(rows, "topic"),
        "items": rows,
    }


def _table(title, groups):
    lines = [f"| {title} | items | top-5 solved |", "|---|---|---|"]
    for name, group in groups.items():
        lines.append(f"| {name} | {group['items']} | {group['top5']:.1%} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="the training text")
    parser.add_argument("--preset", required=True, help="the preset to score")
    parser.add_argument("--cloze", default=str(CLOZE_SET), help="a cloze set")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    from albert_mlm import AlbertMaskedLM
    from albert_mlm.training.cloze import cloze_answers, read_cloze_set

    items = read_cloze_set(args.cloze)
    with open(args.train, encoding="utf-8") as file:
        words, pairs = corpus_counts(file, items)
    answers = cloze_answers(AlbertMaskedLM.from_preset(args.preset), items)
    report = support_report(items, words, pairs, answers)
    print(_table("occurrences of the commonest accepted word", report["by_word_count"]))
    print()
    print(
        _table(
            "an accepted word beside the mask's neighbour", report["by_neighbour_count"]
        )
    )
    print()
    print(_table("topic", report["by_topic"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()
