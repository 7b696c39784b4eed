"""Memory and step time of full fine-tuning against LoRA, side by side, on CPU.

`AlbertMaskedLM` on the `albert_base_en_uncased` architecture
(`albert_mlm.ARCHITECTURES`, random weights: no download), one Keras backend
(`--backend`, TensorFlow by default), trained with `train_on_batch` on random
token ids (`--batch-size` rows of `--sequence-length`, 20 masks a row) with
Adam. Two modes, each in its own subprocess so that each peak RSS is its own:

- `full`: every weight trains.
- `lora`: `backbone.enable_lora(--rank)` (query and value of the shared
  block) and the masked-LM head frozen: the factors alone train.

Each records the trainable parameters and their bytes, the optimizer's state
bytes (Adam's two moments and its counters), the peak RSS of the process,
and the median seconds of `--repeats` steps after `--warmup` steps (compiling
included in the first). Each step also records the cores other processes
used meanwhile (from /proc/stat), since a busy machine skews it.

    python benchmarks/lora_fine_tuning.py --out lora.json
    python benchmarks/lora_fine_tuning.py --tiny   # a dry run, seconds
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from measuring import LEARNING_RATE, cpu_seconds, peak_rss_mib, time_calls
from run_records import run_script, run_setup, shown

MODES = ("full", "lora")
ARCHITECTURE = "albert_base_en_uncased"
# `--tiny`: a small backbone of the same shape (one block shared by all calls).
TINY_ARCHITECTURE = dict(
    vocabulary_size=400, num_layers=4, num_heads=2, embedding_dim=8,
    hidden_dim=32, intermediate_dim=64, max_sequence_length=32,
)  # fmt: skip
MASKS_PER_ROW = 20
LORA_SEED = 0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"),
                        default="tensorflow")  # fmt: skip
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps")
    parser.add_argument("--out", help="write the results to this JSON file")
    parser.add_argument(
        "--tiny", action="store_true", help="dry run: a tiny model, 1 timed step"
    )
    # A worker subprocess: `--worker full|lora --workdir DIR`.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tiny:
        args.batch_size, args.sequence_length = 2, 16
        args.warmup, args.repeats = 1, 1
    return args


def make_batch(args, vocabulary_size):
    """`(inputs, labels, sample_weight)` of random token ids and masks."""
    rng = np.random.default_rng(LORA_SEED)
    shape = (args.batch_size, args.sequence_length)
    masks = min(MASKS_PER_ROW, args.sequence_length // 2)
    positions = np.sort(
        [
            rng.choice(args.sequence_length, masks, replace=False)
            for _ in range(args.batch_size)
        ],
        axis=1,
    )
    inputs = {
        "token_ids": rng.integers(5, vocabulary_size, shape).astype("int32"),
        "segment_ids": np.zeros(shape, "int32"),
        "padding_mask": np.ones(shape, "int32"),
        "mask_positions": positions.astype("int32"),
    }
    labels = rng.integers(5, vocabulary_size, positions.shape).astype("int32")
    return inputs, labels, np.ones(positions.shape, "float32")


def _bytes(variables):
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables)


def run_worker(args):
    """One mode's figures, written to `<workdir>/<mode>.json`."""
    import keras

    from albert_mlm import ARCHITECTURES, AlbertBackbone, AlbertMaskedLM

    keras.utils.set_random_seed(LORA_SEED)
    architecture = TINY_ARCHITECTURE if args.tiny else ARCHITECTURES[ARCHITECTURE]
    masked_lm = AlbertMaskedLM(AlbertBackbone(**architecture))
    if args.worker == "lora":
        masked_lm.backbone.enable_lora(args.rank)
        masked_lm.masked_lm_head.trainable = False
    masked_lm.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    inputs, labels, weights = make_batch(args, architecture["vocabulary_size"])

    def step():
        masked_lm.train_on_batch(inputs, labels, sample_weight=weights)

    first = time_calls(step, 0, 1)[0]  # Tracing and compiling included.
    time_calls(step, args.warmup - 1, 0)
    before = cpu_seconds()
    seconds = time_calls(step, 0, args.repeats)
    result = {
        "trainable_parameters": sum(
            int(np.prod(v.shape)) for v in masked_lm.trainable_weights
        ),
        "trainable_bytes": _bytes(masked_lm.trainable_weights),
        "optimizer_state_bytes": _bytes(masked_lm.optimizer.variables),
        "first_step_seconds": first,
        "step_median_seconds": float(np.median(seconds)),
        "step_seconds": seconds,
        "peak_rss_mib": peak_rss_mib(),
    }
    if before:  # The cores other processes used during the timed steps.
        busy, _, ours = (b - a for a, b in zip(before, cpu_seconds()))
        result["other_processes_cores"] = max(0.0, busy - ours) / sum(seconds)
    (Path(args.workdir) / f"{args.worker}.json").write_text(json.dumps(result))


def run_modes(workdir, args):
    """Each mode's result from its own subprocess, or why there is none: one
    after the other, so that neither slows the other's steps (both at once
    for `--tiny`, whose figures mean nothing)."""
    workdir = Path(workdir)
    processes = {}
    for mode in MODES:
        print(f"[lora] running {mode} on {args.backend}", file=sys.stderr)
        command = [sys.executable, __file__, *sys.argv[1:]]
        command += ["--worker", mode, "--workdir", str(workdir)]
        with open(workdir / f"{mode}.log", "w") as log:
            processes[mode] = subprocess.Popen(
                command,
                env={**os.environ, "KERAS_BACKEND": args.backend},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        if not args.tiny:
            processes[mode].wait()
    results = {}
    for mode, process in processes.items():
        result_file = workdir / f"{mode}.json"
        if process.wait() or not result_file.exists():
            stderr = (workdir / f"{mode}.log").read_text()[-2000:]
            results[mode] = {"status": "failed", "stderr": stderr}
        else:
            results[mode] = {"status": "ok", **json.loads(result_file.read_text())}
    return results


def run_benchmark(args):
    with tempfile.TemporaryDirectory() as workdir:
        results = run_modes(workdir, args)
    setup = run_setup(
        ("keras", args.backend),
        backend=args.backend,
        architecture="tiny" if args.tiny else ARCHITECTURE,
        rank=args.rank,
        batch_size=args.batch_size,
        sequence_length=args.sequence_length,
    )
    return {"setup": setup, "results": results}


def print_table(report):
    print("| mode | trainable parameters | trainable + Adam MiB | peak RSS MiB "
          "| step s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for mode, result in report["results"].items():
        if result["status"] != "ok":
            print(f"| {mode} | failed | - | - | - |")
            continue
        state = result["trainable_bytes"] + result["optimizer_state_bytes"]
        print(
            f"| {mode} | {result['trainable_parameters']:,} "
            f"| {shown(state / 2**20, '.2f')} | {shown(result['peak_rss_mib'], '.0f')} "
            f"| {shown(result['step_median_seconds'], '.3f')} |"
        )


def main():
    run_script(parse_args(), run_worker, run_benchmark, print_table)


if __name__ == "__main__":
    main()
