"""Tokens/s of the pretraining input pipeline alone, per CPU core.

ALBERT's recipe, as `albert-mlm pretrain --recipe albert` builds it: read the
corpus files, tokenize with the shipped preset's vocabulary
(`albert_tiny_en_uncased`), pack sentence-order pairs
(`document_packing.packed_examples`, `document_format="documents"`,
`short_seq_prob=0.1`, endless), shuffle in a buffer of `SHUFFLE_BUFFER`
examples, batch, and mask (`batches.masked_pairs`: n-gram masking of an
`AlbertMaskedLMPreprocessor(mask_strategy="ngram")` with
`ceil(0.15 x length)` prediction slots, sentence-order labels), then
prefetch. No model runs.

Each sequence length runs twice, each time in its own subprocess:

- **one core**: the process pinned to one CPU, TensorFlow's intra- and
  inter-op pools at 1 thread, and the dataset's `tf.data.Options` with
  `threading.private_threadpool_size=1` and `max_intra_op_parallelism=1`;
- **all cores**: every CPU, TensorFlow's defaults.

The one-core run then also times reading, tokenizing and packing alone
(batched, nothing else): `packed_examples` is a Python generator, so this
stage runs in one thread whatever the cores, and its rate on one core is the
most one pipeline can deliver.

The first batch fills the shuffle buffer (its seconds are reported apart, as
`startup_seconds`); after one untimed span, `--repeats` spans of
`--span-tokens` token slots each are timed, and the median span gives the
rates. Tokens/s counts real (non-padding) tokens. The CPU the process used
during the timed spans (`process_cores`) and the CPU other processes used
meanwhile (from /proc/stat) are recorded, since the machine may be shared.

How many such cores keep one accelerator fed: its training sequences/s (its
tokens/s over the length) divided by the sequences the one-core run made per
CPU-second it used (on an idle machine, its sequences/s); and how many
pipelines (processes, each reading its own share of the documents) that
takes, each packing at most the packing stage's rate. Two accelerators:
an assumed accelerator (`scaling_estimate.ASSUMED_DEVICE`'s sustained FLOP/s
over ALBERT-base's training FLOPs per sequence), and the fastest base
training rate at that length in `benchmarks/results/*.json` (the CPU runs of
RESULTS.md).

The corpus: `tools/corpus/build_english_corpus.py`'s `train.txt`, by default
where presets/README.md builds it (`/tmp/english_corpus`); one of its
sources (`--sources web_bible`) builds a smaller one the same way.

    python benchmarks/input_pipeline.py --corpus /tmp/english_corpus/train.txt \\
        --out benchmarks/results/input_pipeline.json
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inference_throughput import PRESET
from measuring import cpu_seconds, peak_rss_mib, throughput, time_calls
from model_configuration import REPO_ROOT
from run_records import run_script, run_setup, shown
from scaling_estimate import (
    ASSUMED_DEVICE,
    base_configs,
    device_flops_per_second,
    mask_selection_length,
    train_flops_per_sequence,
)

DEFAULT_CORPUS = "/tmp/english_corpus/train.txt"
CORE_SETTINGS = ("one", "all")
PIPELINE_SEED = 0
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="a train.txt")
    parser.add_argument("--sequence-lengths", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--span-tokens",
        type=int,
        default=2**20,
        help="token slots (sequences x length) per timed span",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed spans")
    parser.add_argument(
        "--shuffle-buffer",
        type=int,
        help="examples in the shuffle buffer (default: SHUFFLE_BUFFER)",
    )
    parser.add_argument("--out", help="write the results to this JSON file")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="dry run: length 32, batch 4, a buffer of 16, one span of 4 batches",
    )
    # A worker subprocess: `--worker one|all --workdir DIR`, one length.
    parser.add_argument("--worker", choices=CORE_SETTINGS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tiny:
        args.sequence_lengths, args.batch_size, args.shuffle_buffer = [32], 4, 16
        args.span_tokens, args.repeats = 4 * 4 * 32, 1
    if not Path(args.corpus).is_file():
        parser.error(
            f"--corpus {args.corpus} is not a file. Build it with "
            "tools/corpus/build_english_corpus.py (see its docstring)."
        )
    return args


# === The pipeline and its measurement (in a worker) ===


def packed_stream(corpus, tokenizer, sequence_length):
    """Read, tokenize and pack: endless unmasked sentence-order examples."""
    from albert_mlm.datasets.document_packing import packed_examples

    return packed_examples(
        [corpus],
        tokenizer,
        sequence_length,
        PIPELINE_SEED,
        short_seq_prob=0.1,
        document_format="documents",
        epochs=None,
    )


def pipeline_batches(corpus, sequence_length, batch_size, shuffle_buffer):
    """Endless masked pretraining batches of `corpus`, ALBERT's recipe."""
    import tensorflow as tf

    from albert_mlm import AlbertMaskedLMPreprocessor, AlbertTokenizer
    from albert_mlm.datasets.batches import masked_pairs

    tokenizer = AlbertTokenizer.from_preset(PRESET)
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=sequence_length,
        mask_selection_length=mask_selection_length(sequence_length),
        mask_strategy="ngram",
    )
    examples = packed_stream(corpus, tokenizer, sequence_length)
    batches = examples.shuffle(shuffle_buffer, seed=PIPELINE_SEED).batch(
        batch_size, drop_remainder=True
    )
    batches = masked_pairs(batches, preprocessor, PIPELINE_SEED, sentence_order=True)
    return batches.prefetch(tf.data.AUTOTUNE)


def batch_counts(x, sample_weight):
    """Sequences, real tokens, sentence-order pairs and masked tokens of one
    batch (numpy arrays or tensors)."""
    import numpy as np

    return {
        "sequences": len(x["padding_mask"]),
        "real_tokens": int(np.sum(x["padding_mask"])),
        "sentence_order_pairs": int(np.sum(sample_weight["sentence_order"])),
        "masked_tokens": int(np.sum(sample_weight["masked_lm"])),
    }


def measure(batches, span_batches, repeats, counts_of):
    """Startup seconds, the median span's rate and the summed `counts_of`
    (a dict, `"sequences"` among its keys) of the timed spans' batches."""
    iterator = iter(batches)
    start = time.perf_counter()
    next(iterator)
    startup_seconds = time.perf_counter() - start
    counts = {}

    def span():
        for _ in range(span_batches):
            for key, value in counts_of(next(iterator)).items():
                counts[key] = counts.get(key, 0) + value

    span()  # Untimed: the pipeline reaches its steady state.
    counts.clear()
    before = cpu_seconds()
    seconds = time_calls(span, 0, repeats)
    rate = throughput(counts["sequences"] / repeats, seconds)
    if before:
        busy, niced, ours = (b - a for a, b in zip(before, cpu_seconds()))
        rate["process_cores"] = ours / sum(seconds)
        rate["other_processes_cores"] = max(0.0, busy - ours) / sum(seconds)
        rate["niced_processes_cores"] = niced / sum(seconds)
    return startup_seconds, rate, counts


def run_worker(args):
    """One length with one core setting; writes `<setting>.json` in --workdir.
    With one core, the packing stage is also measured alone."""
    one_core = args.worker == "one"
    if one_core and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])
    import tensorflow as tf

    from albert_mlm import AlbertTokenizer

    if one_core:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    [length] = args.sequence_lengths
    shuffle_buffer = args.shuffle_buffer or _shuffle_buffer()
    batches = pipeline_batches(args.corpus, length, args.batch_size, shuffle_buffer)
    options = tf.data.Options()
    if one_core:
        options.threading.private_threadpool_size = 1
        options.threading.max_intra_op_parallelism = 1
    span_batches = max(1, round(args.span_tokens / (args.batch_size * length)))
    startup, rate, counts = measure(
        batches.with_options(options),
        span_batches,
        args.repeats,
        lambda batch: batch_counts(batch[0], batch[2]),
    )
    real_fraction = counts["real_tokens"] / (counts["sequences"] * length)
    result = {
        "sequence_length": length,
        "shuffle_buffer": shuffle_buffer,
        "span_batches": span_batches,
        "startup_seconds": startup,
        "sequences": rate,
        "sequences_per_second": rate["per_second"],
        "tokens_per_second": rate["per_second"] * length * real_fraction,
        "real_token_fraction": real_fraction,
        "sentence_order_pair_fraction": counts["sentence_order_pairs"]
        / counts["sequences"],
        "masked_tokens_per_sequence": counts["masked_tokens"] / counts["sequences"],
        "cpus_allowed": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "private_threadpool_size": options.threading.private_threadpool_size,
        "max_intra_op_parallelism": options.threading.max_intra_op_parallelism,
    }
    if one_core:
        tokenizer = AlbertTokenizer.from_preset(PRESET)
        packing = packed_stream(args.corpus, tokenizer, length).batch(args.batch_size)
        _, result["packing_alone"], _ = measure(
            packing.with_options(options),
            span_batches,
            args.repeats,
            lambda examples: {"sequences": len(examples["padding_mask"])},
        )
    result["peak_rss_mib"] = peak_rss_mib()
    (Path(args.workdir) / f"{args.worker}.json").write_text(json.dumps(result))


def _shuffle_buffer():
    from albert_mlm.datasets.batches import SHUFFLE_BUFFER

    return SHUFFLE_BUFFER


# === The parent: workers, per-core rates, cores per accelerator ===


def run_in_subprocess(setting, length, workdir, args):
    """One worker's result, or why there is none."""
    print(f"[input pipeline] length {length}, cores: {setting}", file=sys.stderr)
    command = [sys.executable, __file__, "--worker", setting, "--workdir", workdir]
    command += ["--corpus", args.corpus, "--sequence-lengths", str(length)]
    for option in ("batch_size", "span_tokens", "repeats", "shuffle_buffer"):
        if getattr(args, option):
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run(command, env=environment, capture_output=True, text=True)
    result_file = Path(workdir) / f"{setting}.json"
    if completed.returncode or not result_file.exists():
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        print("\n".join(lines[-15:]), file=sys.stderr)
        return {"status": "failed", "reason": lines[-1] if lines else "no output"}
    result = {"status": "ok", **json.loads(result_file.read_text())}
    result_file.unlink()
    return result


def per_cpu_second(rate, cpus_allowed):
    """A rate per CPU-second the process used (its allowed CPUs where
    /proc/stat is missing): on a shared machine it may get less than those."""
    return rate["per_second"] / (rate.get("process_cores") or cpus_allowed)


def per_core(result):
    """Sequences/s and real tokens/s per allowed CPU and per CPU-second used."""
    allowed = result["cpus_allowed"]
    tokens_per_sequence = result["tokens_per_second"] / result["sequences_per_second"]
    sequences_per_cpu_second = per_cpu_second(result["sequences"], allowed)
    return {
        "sequences_per_second": result["sequences_per_second"] / allowed,
        "tokens_per_second": result["tokens_per_second"] / allowed,
        "sequences_per_cpu_second": sequences_per_cpu_second,
        "tokens_per_cpu_second": sequences_per_cpu_second * tokens_per_sequence,
    }


def cores_needed(model_tokens_per_second, sequence_length, sequences_per_core_second):
    """Cores whose pipelines deliver the sequences a model trains on per second."""
    return model_tokens_per_second / sequence_length / sequences_per_core_second


def pipelines_needed(model_tokens_per_second, sequence_length, packing_per_second):
    """Pipelines (processes) needed when each packs at most `packing_per_second`
    sequences: its packing runs in one Python thread, whatever the cores."""
    return math.ceil(model_tokens_per_second / sequence_length / packing_per_second)


def model_rates(sequence_length, results_dir=RESULTS_DIR):
    """Training tokens/s of ALBERT-base at `sequence_length`: the assumed
    accelerator's, and the fastest run of ours in `results_dir`."""
    flops = train_flops_per_sequence(base_configs()["albert_base"], sequence_length)
    rates = [
        {
            "model": f"{ASSUMED_DEVICE['name']}, assumed: "
            f"{ASSUMED_DEVICE['peak_tflops']:g} TFLOP/s x MFU "
            f"{ASSUMED_DEVICE['mfu']:.0%}",
            "tokens_per_second": device_flops_per_second(ASSUMED_DEVICE)
            / flops
            * sequence_length,
        }
    ]
    measured = []
    for path in sorted(Path(results_dir).glob("*.json")):
        report = json.loads(path.read_text())
        setup = report.get("setup", {})
        ours = report.get("implementations", {}).get("albert_mlm", {})
        if (
            setup.get("architecture") == "base"
            and setup.get("sequence_length") == sequence_length
            and ours.get("status") == "ok"
        ):
            measured.append((ours["train_tokens"]["per_second"], path.name, setup))
    if measured:
        tokens_per_second, name, setup = max(measured, key=lambda item: item[0])
        rates.append(
            {
                "model": f"{name} ({setup.get('precision')}, batch "
                f"{setup.get('batch_size')}, measured)",
                "tokens_per_second": tokens_per_second,
            }
        )
    return rates


def run_benchmark(args):
    results = {}
    with tempfile.TemporaryDirectory(prefix="albert_input_pipeline_") as workdir:
        for length in args.sequence_lengths:
            runs = {
                setting: run_in_subprocess(setting, length, workdir, args)
                for setting in CORE_SETTINGS
            }
            for run in runs.values():
                if run["status"] == "ok":
                    run["per_core"] = per_core(run)
            one = runs["one"]
            if one["status"] == "ok":
                whole = one["per_core"]["sequences_per_cpu_second"]
                packing = per_cpu_second(one["packing_alone"], 1)
                one["packing_sequences_per_cpu_second"] = packing
                one["packing_share_of_cpu"] = whole / packing
            feeding = []
            for rate in model_rates(length):
                if one["status"] == "ok":
                    tokens = rate["tokens_per_second"]
                    rate["cores_needed"] = cores_needed(tokens, length, whole)
                    rate["pipelines_needed"] = pipelines_needed(tokens, length, packing)
                feeding.append(rate)
            results[str(length)] = {**runs, "cores_per_model": feeding}
    setup = run_setup(
        ("tensorflow", "keras"),
        corpus=args.corpus,
        corpus_mib=Path(args.corpus).stat().st_size / 2**20,
        preset=PRESET,
        **{key: getattr(args, key) for key in ("batch_size", "span_tokens")},
        repeats=args.repeats,
        keras_backend=os.environ.get("KERAS_BACKEND", "tensorflow"),
    )
    return {"setup": setup, "results": results}


def print_table(report):
    print(
        "| length | cores | sequences/s | real tokens/s | real tokens/s per core "
        "| per CPU-second used | process cores | other processes' cores "
        "| startup s | real tokens |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for length, runs in report["results"].items():
        for setting in CORE_SETTINGS:
            run = runs[setting]
            if run["status"] != "ok":
                print(f"| {length} | {setting} | {run['status']}: {run['reason']} |")
                continue
            rate = run["sequences"]
            cells = (
                f"{run['cpus_allowed']}",
                f"{run['sequences_per_second']:,.0f}",
                f"{run['tokens_per_second']:,.0f}",
                f"{run['per_core']['tokens_per_second']:,.0f}",
                f"{run['per_core']['tokens_per_cpu_second']:,.0f}",
                f"{rate.get('process_cores', float('nan')):.2f}",
                f"{rate.get('other_processes_cores', float('nan')):.2f}",
                f"{run['startup_seconds']:.1f}",
                f"{run['real_token_fraction']:.1%}",
            )
            print(f"| {length} | " + " | ".join(cells) + " |")
    print(
        "\n| length | model | its training sequences/s | cores needed "
        "| pipelines needed |\n|---|---|---|---|---|"
    )
    for length, runs in report["results"].items():
        for rate in runs["cores_per_model"]:
            cells = (
                rate["model"],
                f"{rate['tokens_per_second'] / int(length):,.1f}",
                shown(rate.get("cores_needed"), ".3g"),
                shown(rate.get("pipelines_needed"), "d"),
            )
            print(f"| {length} | " + " | ".join(cells) + " |")
    for length, runs in report["results"].items():
        one = runs["one"]
        if one["status"] == "ok":
            print(
                f"\nLength {length}: reading, tokenizing and packing take "
                f"{one['packing_share_of_cpu']:.0%} of the pipeline's CPU; they "
                "run in one Python thread, so one pipeline makes at most "
                f"{one['packing_sequences_per_cpu_second']:,.0f} sequences/s."
            )


def main():
    run_script(parse_args(), run_worker, run_benchmark, print_table)


if __name__ == "__main__":
    main()
