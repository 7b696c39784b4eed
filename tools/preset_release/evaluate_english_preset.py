"""Evaluate English masked-LM presets side by side, as presets/README.md
reports them: held-out masked-token top-1/top-5 against the unigram baseline,
the cloze set's top-1/top-5, and fill-mask outputs as they come out.

    KERAS_BACKEND=tensorflow python tools/preset_release/evaluate_english_preset.py \\
        --preset new=/tmp/run --preset old=albert_tiny_en_uncased \\
        --train /tmp/english_corpus/train.txt \\
        --held-out /tmp/english_corpus/held_out.txt --json /tmp/evaluation.json

The held-out text is masked with single-token masking and a fixed seed, the
same for every preset, one line per sequence of 128 tokens with 20 prediction
slots (15%) whatever length each preset was saved with; the unigram baseline always
guesses the pieces most frequent in (the first 200,000 lines of) the training
text, tokenized with each preset's own vocabulary.
"""

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

FILL_MASK_EXAMPLES = (
    "the capital of france is [MASK].",
    "the [MASK] of the united states.",
    "a young [MASK] that barks.",
    "she drank a cup of hot [MASK].",
    "a [MASK] is a large body of salt water.",
    "in the beginning god created the heaven and the [MASK].",
    "to move [MASK] through water by swimming.",
    "he opened the [MASK] and walked into the room.",
)
CLOZE_SET = ROOT / "tests" / "data" / "cloze_en.json"
SEED = 0
SEQUENCE_LENGTH = 128
PREDICTION_SLOTS = 20


def evaluate_preset(handle, train, held_out, cloze_items):
    import tensorflow as tf

    from albert_mlm import AlbertMaskedLM
    from albert_mlm.training.cloze import cloze_accuracy
    from albert_mlm.training.evaluation import (
        evaluate_masked_lm,
        token_counts,
        token_masking,
    )

    masked_lm = AlbertMaskedLM.from_preset(
        handle,
        sequence_length=SEQUENCE_LENGTH,
        mask_selection_length=PREDICTION_SLOTS,
    )
    preprocessor = masked_lm.preprocessor
    non_empty = lambda line: tf.strings.length(tf.strings.strip(line)) > 0  # noqa: E731
    lines = tf.data.TextLineDataset(train).filter(non_empty).take(200_000)
    counts = token_counts(preprocessor.tokenizer, lines)
    tf.random.set_seed(SEED)
    batches = (
        tf.data.TextLineDataset(held_out)
        .filter(non_empty)
        .batch(64)
        .map(token_masking(preprocessor))
    )
    held_out_results = evaluate_masked_lm(masked_lm, batches, counts)
    fill_mask = [
        [(c["token"], round(c["probability"], 3)) for c in candidates]
        for (candidates,) in masked_lm.fill_mask(list(FILL_MASK_EXAMPLES), top_k=5)
    ]
    return {
        "held_out": {k: round(float(v), 4) for k, v in held_out_results.items()},
        "cloze": cloze_accuracy(masked_lm, cloze_items),
        "fill_mask": dict(zip(FILL_MASK_EXAMPLES, fill_mask)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--preset", action="append", required=True, metavar="NAME=HANDLE",
        help="a preset to evaluate, and the name it has in the table",
    )  # fmt: skip
    parser.add_argument("--train", required=True, help="the training text")
    parser.add_argument("--held-out", required=True, help="held-out text")
    parser.add_argument("--cloze", default=str(CLOZE_SET), help="a cloze set")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    from albert_mlm.training.cloze import read_cloze_set

    cloze_items = read_cloze_set(args.cloze)
    results = {}
    for entry in args.preset:
        name, _, handle = entry.partition("=")
        results[name] = evaluate_preset(handle, args.train, args.held_out, cloze_items)
        print(name, json.dumps(results[name]), flush=True)
    print("\n| | held-out top-1 | held-out top-5 | loss | cloze top-1 | cloze top-5 |")
    print("|---|---|---|---|---|---|")
    for name, row in results.items():
        held, cloze = row["held_out"], row["cloze"]
        print(
            f"| {name} | {held['top1']:.1%} | {held['top5']:.1%} | "
            f"{held['loss']:.2f} | {cloze['top1']:.1%} | {cloze['top5']:.1%} |"
        )
        print(
            f"| unigram baseline ({name}'s vocabulary) | "
            f"{held['unigram_top1']:.1%} | {held['unigram_top5']:.1%} | | | |"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
