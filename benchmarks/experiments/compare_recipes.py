"""The `line` and `albert` pretraining recipes, given the same wall-clock time.

Both train the same architecture on the same corpus with one shared
vocabulary, side by side, each on its own CPU core (so neither slows the
other down and both see the same machine), under `albert-mlm pretrain
--max-minutes`. A short probe run of each recipe first measures its seconds
per step, so that the real run's `--steps` (and with it the ALBERT recipe's
warm-up and decay) fits the budget. Both finished models are then measured
the same way: masked-token accuracy on the held-out file, one line per
sequence, single tokens masked with a fixed seed (`albert-mlm evaluate
--seed 0`). Also reported: real (non-padding) tokens per second of training,
and the sentence-order accuracy of the ALBERT recipe.

    python benchmarks/experiments/compare_recipes.py \\
        --corpus /tmp/english_corpus/train.txt \\
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
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

RECIPES = ("line", "albert")
# `albert-mlm pretrain` heads each log interval with "Steps 11-20 of 500".
INTERVAL_HEADER = re.compile(r"Steps (\d+)-\d+ of \d+")
# Budget steps for a probe: it stops at `--max-minutes` long before them.
PROBE_STEPS = 1_000_000
# Held-out batches checked at each log row: few, to leave the time to training.
EVALUATION_BATCHES = 5


def run_timed(command, cores):
    """Run `command` on `cores`; returns (stdout, [(seconds, first step)] of
    each interval header, total seconds)."""
    threads = str(len(cores)) if cores else ""
    environment = {
        **os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
        **({"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
            "OMP_NUM_THREADS": threads} if cores else {}),
    }  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment,
        preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
    )  # fmt: skip
    errors = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))
    reader.start()
    headers, output = [], []
    for line in process.stdout:
        output.append(line)
        for match in INTERVAL_HEADER.finditer(line):
            headers.append((time.perf_counter() - start, int(match.group(1)) - 1))
    process.wait()
    reader.join()
    if process.returncode:
        raise RuntimeError(f"{command[3:6]}: {errors[0].strip()[-2000:]}")
    return "".join(output), headers, time.perf_counter() - start


def seconds_per_step(headers):
    """Training seconds per step between the first and the last interval
    header (each interval's held-out check included)."""
    (first_time, first_step), (last_time, last_step) = headers[0], headers[-1]
    if last_step <= first_step:
        raise RuntimeError("Too few log intervals to time; give more minutes.")
    return (last_time - first_time) / (last_step - first_step)


def pretrain_command(args, recipe, out, steps, minutes, checkpoint_every):
    command = [
        sys.executable, "-m", "albert_mlm", "pretrain", "--corpus", args.corpus,
        "--out", str(out), "--vocab", str(args.vocab), "--recipe", recipe,
        "--architecture", args.architecture,
        "--sequence-length", str(args.sequence_length),
        "--batch-size", str(args.batch_size), "--steps", str(steps),
        "--max-minutes", str(minutes), "--checkpoint-every", str(checkpoint_every),
        "--evaluation-batches", str(EVALUATION_BATCHES), "--seed", "0",
    ]  # fmt: skip
    if recipe == "albert" and args.albert_learning_rate is not None:
        command += ["--learning-rate", str(args.albert_learning_rate)]
    return command


def train(args, recipe, cores, out):
    """Probe `recipe`'s speed, then train it for `args.minutes`; returns
    what was measured."""
    _, headers, _ = run_timed(
        pretrain_command(args, recipe, out / f"{recipe}_probe", PROBE_STEPS,
                         args.probe_minutes, 10),
        cores,
    )  # fmt: skip
    probe_rate = seconds_per_step(headers)
    set_up = headers[0][0]  # Reading the corpus, building the model.
    steps = max(20, int((args.minutes * 60 - set_up) / probe_rate))
    _, headers, seconds = run_timed(
        pretrain_command(args, recipe, out / recipe, steps, args.minutes,
                         max(1, steps // 20)),
        cores,
    )  # fmt: skip
    with open(out / recipe / "metadata.json", encoding="utf-8") as file:
        pretraining = json.load(file)["pretraining"]
    evaluated, _, _ = run_timed(
        [sys.executable, "-m", "albert_mlm", "evaluate", "--preset",
         str(out / recipe), "--corpus", args.held_out, "--seed", "0"],
        cores,
    )  # fmt: skip
    held_out = dict(re.findall(r"(top-1|top-5|loss) ([0-9.]+)", evaluated))
    return {
        "planned_steps": steps,
        "steps": pretraining["steps"],
        "run_seconds": round(seconds),
        "seconds_per_step": round(seconds_per_step(headers), 3),
        "held_out": {key: float(value) for key, value in held_out.items()},
        "sentence_order_accuracy": pretraining.get("sentence_order_accuracy"),
    }


def non_padding_fraction(args, recipe):
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
        AlbertTokenizer(str(args.vocab)), sequence_length=args.sequence_length
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
    parser.add_argument(
        "--probe-minutes", type=float, default=3, help="per recipe, to time a step"
    )
    parser.add_argument("--architecture", default="tiny")
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--vocab", help="a SentencePiece model (default: train one)")
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

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=False)
    if args.vocab is None:
        from albert_mlm.training.vocabulary import train_vocabulary

        args.vocab = out / "vocabulary.spm"
        args.vocab.write_bytes(train_vocabulary([args.corpus], args.vocab_size))
    available = []
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores this process may use.
        available = sorted(os.sched_getaffinity(0))
    side_by_side = len(available) >= len(RECIPES)
    results = {}

    def run(recipe, cores):
        results[recipe] = train(args, recipe, cores, out)
        print(recipe, json.dumps(results[recipe]), flush=True)

    if side_by_side:  # One core each, at the same time.
        workers = [
            threading.Thread(target=run, args=(recipe, {core}))
            for recipe, core in zip(RECIPES, available)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    else:
        for recipe in RECIPES:
            run(recipe, set())
    if set(results) != set(RECIPES):
        raise SystemExit("A recipe's run failed; see its error above.")
    for recipe in RECIPES:
        row = results[recipe]
        row["non_padding_fraction"] = round(non_padding_fraction(args, recipe), 3)
        real_tokens_per_step = (
            args.batch_size * args.sequence_length * row["non_padding_fraction"]
        )
        row["real_tokens_per_second"] = round(
            real_tokens_per_step / row["seconds_per_step"]
        )
    settings = {**vars(args), "vocab": str(args.vocab)}
    settings["cores_per_recipe"] = 1 if side_by_side else len(available) or None
    with open(out / "comparison.json", "w", encoding="utf-8") as file:
        json.dump({"settings": settings, "results": results}, file, indent=2)
    print_table(results, args, side_by_side)


def print_table(results, args, side_by_side):
    where = "side by side, one CPU core each" if side_by_side else "one after the other"
    print(
        f"\n{args.minutes:g} minutes each ({where}), {args.architecture} "
        f"architecture, sequence length {args.sequence_length}, batch "
        f"{args.batch_size}\n"
    )
    print("| recipe | steps | real tokens/s | non-padding | held-out top-1 | "
          "held-out top-5 | sentence order |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for recipe in RECIPES:
        row = results[recipe]
        order = row["sentence_order_accuracy"]
        print(
            f"| {recipe} | {row['steps']:,} | {row['real_tokens_per_second']:,} | "
            f"{row['non_padding_fraction']:.1%} | {row['held_out']['top-1']:.3f} | "
            f"{row['held_out']['top-5']:.3f} | "
            f"{'-' if order is None else f'{order:.3f}'} |"
        )


if __name__ == "__main__":
    main()
