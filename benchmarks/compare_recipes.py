"""The `line` and `albert` pretraining recipes, given the same wall-clock time.

Both train the same architecture on the same corpus with one shared
vocabulary. Each recipe's speed is calibrated first (two short runs: the
difference of their times is pure training), then it trains for as many steps
as fit `--minutes`, and both finished models are measured the same way:
masked-token accuracy on the held-out file, one line per sequence, single
tokens masked with a fixed seed (`albert-mlm evaluate --seed 0`). Also
reported: real (non-padding) tokens per second, and the sentence-order
accuracy of the ALBERT recipe.

    python benchmarks/compare_recipes.py --corpus /tmp/english_corpus/train.txt \\
        --held-out /tmp/english_corpus/held_out.txt --minutes 20 --out /tmp/recipes \\
        --albert-learning-rate 0.006

The corpus is in ALBERT's document format (a blank line between documents);
the `line` recipe reads it line by line, as it reads any text.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

RECIPES = ("line", "albert")
CALIBRATION_STEPS = (20, 60)


def run_pretrain(args, recipe, out, steps, vocabulary, checkpoint_every=None):
    """Seconds `albert-mlm pretrain` takes for `steps` steps of `recipe`,
    evaluating on held-out batches every `checkpoint_every` steps (default:
    once, at the end)."""
    command = [
        sys.executable, "-m", "albert_mlm", "pretrain", "--corpus", args.corpus,
        "--out", str(out), "--vocab", str(vocabulary), "--recipe", recipe,
        "--architecture", args.architecture,
        "--sequence-length", str(args.sequence_length),
        "--batch-size", str(args.batch_size), "--steps", str(steps),
        "--checkpoint-every", str(checkpoint_every or steps), "--seed", "0",
    ]  # fmt: skip
    if recipe == "albert" and args.albert_learning_rate is not None:
        command += ["--learning-rate", str(args.albert_learning_rate)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{recipe}: {result.stderr.strip()[-1000:]}")
    return seconds


def evaluate(preset, held_out):
    command = [
        sys.executable, "-m", "albert_mlm", "evaluate", "--preset", str(preset),
        "--corpus", held_out, "--seed", "0",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    numbers = dict(re.findall(r"(top-1|top-5|loss) ([0-9.]+)", result.stdout))
    return {key: float(value) for key, value in numbers.items()}


def non_padding_fraction(args, recipe, vocabulary):
    """The mean real-token fraction of 20 training batches of `recipe`."""
    import numpy as np

    from albert_mlm import AlbertMaskedLMPreprocessor, AlbertTokenizer
    from albert_mlm.training.pretrain_options import PretrainOptions
    from albert_mlm.training.pretraining_data import pretraining_data
    from albert_mlm.training.recipes import resolved

    options = resolved(
        PretrainOptions(
            corpus=[args.corpus], out="unused", recipe=recipe, steps=1,
            sequence_length=args.sequence_length, batch_size=args.batch_size,
        )
    )  # fmt: skip
    preprocessor = AlbertMaskedLMPreprocessor(
        AlbertTokenizer(str(vocabulary)), sequence_length=args.sequence_length
    )
    data = pretraining_data(
        options, [args.corpus], preprocessor, options.sentence_order == "on"
    )
    masks = [np.asarray(x["padding_mask"]) for x, *_ in data.train.take(20)]
    return float(np.mean([mask.mean() for mask in masks]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="training text (documents)")
    parser.add_argument("--held-out", required=True, help="held-out text")
    parser.add_argument("--minutes", type=float, default=30, help="per recipe")
    parser.add_argument("--architecture", default="tiny")
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--out", required=True, help="a new working directory")
    parser.add_argument(
        "--albert-learning-rate",
        type=float,
        help="LAMB's peak rate for the albert recipe (default: the recipe's, "
        "0.00176, tuned for batch 4096 and 125,000 steps; short small-batch "
        "runs learn faster with a higher one)",
    )
    args = parser.parse_args()

    from albert_mlm.training.vocabulary import train_vocabulary

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=False)
    vocabulary = out / "vocabulary.spm"
    vocabulary.write_bytes(train_vocabulary([args.corpus], args.vocab_size))
    results = {}
    for recipe in RECIPES:
        times = [
            run_pretrain(args, recipe, out / f"{recipe}_calibration_{steps}", steps,
                         vocabulary)
            for steps in CALIBRATION_STEPS
        ]  # fmt: skip
        seconds_per_step = (times[1] - times[0]) / (
            CALIBRATION_STEPS[1] - CALIBRATION_STEPS[0]
        )
        steps = max(1, int(args.minutes * 60 / seconds_per_step))
        total_seconds = run_pretrain(
            args, recipe, out / recipe, steps, vocabulary, max(steps // 10, 1)
        )
        fraction = non_padding_fraction(args, recipe, vocabulary)
        real_tokens = steps * args.batch_size * args.sequence_length * fraction
        with open(out / recipe / "metadata.json", encoding="utf-8") as file:
            pretraining = json.load(file)["pretraining"]
        results[recipe] = {
            "steps": steps,
            "seconds_per_step": round(seconds_per_step, 3),
            "training_seconds": round(steps * seconds_per_step),
            "run_seconds": round(total_seconds),
            "non_padding_fraction": round(fraction, 3),
            "real_tokens_per_second": round(real_tokens / (steps * seconds_per_step)),
            "held_out": evaluate(out / recipe, args.held_out),
            "sentence_order_accuracy": pretraining.get("sentence_order_accuracy"),
        }
        print(recipe, json.dumps(results[recipe]), flush=True)
    with open(out / "comparison.json", "w", encoding="utf-8") as file:
        json.dump({"settings": vars(args), "results": results}, file, indent=2)
    print_table(results, args)


def print_table(results, args):
    print(
        f"\n{args.minutes:g} minutes of training each, {args.architecture} "
        f"architecture, sequence length {args.sequence_length}, batch "
        f"{args.batch_size}, on {os.cpu_count()} CPU cores\n"
    )
    print("| recipe | steps | real tokens/s | non-padding | held-out top-1 | "
          "held-out top-5 | sentence order |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for recipe, row in results.items():
        order = row["sentence_order_accuracy"]
        print(
            f"| {recipe} | {row['steps']:,} | {row['real_tokens_per_second']:,} | "
            f"{row['non_padding_fraction']:.1%} | {row['held_out']['top-1']:.3f} | "
            f"{row['held_out']['top-5']:.3f} | "
            f"{'-' if order is None else f'{order:.3f}'} |"
        )


if __name__ == "__main__":
    main()
