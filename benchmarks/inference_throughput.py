"""Texts/s of `AlbertMaskedLM.fill_mask` and `score` on the shipped preset.

`albert_tiny_en_uncased` (`sequence_length=128`) on each Keras backend:
`fill_mask(texts, top_k=5, batch_size=B)` and `score(texts, batch_size=B)`
(also masked copies, i.e. pieces, per second); then transformers'
`pipeline("fill-mask")` (`top_k=5`, `batch_size=B`) on the same weights, and
how often its top-1 id (special tokens and `<unk>` dropped, as ours drops
them) is each backend's. Texts: 1 to 3 `shared_inputs.make_strings` lines
(6-30 words), one word masked; `score` reads them unmasked. A rate is the
median of `--repeats` calls after a warm-up call on the same texts ("first
call": tracing and compiling included).

Each implementation runs in its own subprocess with `--threads` threads:
`OMP_NUM_THREADS`, TensorFlow's intra-op pool (inter-op 1: one op at a time,
as eager PyTorch; TensorFlow tokenizes on every backend), `torch.set_num_threads`,
and CPU affinity when the machine has more CPUs (JAX sizes its pool from it).
The first Keras worker writes the transformers checkpoint
(`AlbertMaskedLM.export_to_transformers`); the pipeline runs under
`--reference-python`, and is skipped without one. Each rate also records the
CPU cores other processes used during its timed calls (from /proc/stat),
since a busy machine skews it.

    python benchmarks/inference_throughput.py --backend all \\
        --reference-python /work/refenv/bin/python --out inference.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from measuring import cpu_seconds, peak_rss_mib, throughput, time_calls
from model_configuration import REPO_ROOT
from run_records import run_script, run_setup, shown
from shared_inputs import make_strings

BACKENDS = ("tensorflow", "jax", "torch")
PRESET = "albert_tiny_en_uncased"
PRESET_VOCABULARY_FILE = (
    REPO_ROOT / "presets" / PRESET / "assets/tokenizer/vocabulary.spm"
)
SEQUENCE_LENGTH = 128
TOP_K = 5
SEED = 0
CHECKPOINT = "transformers_checkpoint"
# Versions recorded: the Keras workers' (the pipeline's own come from its worker).
KERAS_PACKAGES = ("keras", "tensorflow", "jax", "torch")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--texts", type=int, default=256, help="texts per call")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls")
    parser.add_argument("--out", help="write the results to this JSON file")
    parser.add_argument(
        "--reference-python",
        help="a python with transformers, torch and safetensors, for the "
        "pipeline (default: none; the pipeline is skipped)",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="dry run: 8 texts, batch 4, 1 call"
    )
    # A worker subprocess: `--worker keras|transformers --workdir DIR`.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tiny:
        args.texts, args.batch_size, args.repeats = 8, 4, 1
    return args


def make_texts(count):
    """`(masked, plain)`: `count` texts of 1 to 3 lines, one word masked."""
    rng = np.random.default_rng(SEED)
    lines = make_strings(3 * count, SEED)
    masked, plain = [], []
    for index in range(count):
        words = " ".join(lines[3 * index : 3 * index + rng.integers(1, 4)]).split()
        plain.append(" ".join(words))
        position = rng.choice([i for i, word in enumerate(words) if word.isalpha()])
        words[position] = "[MASK]"
        masked.append(" ".join(words))
    return masked, plain


def rates(texts_per_call, function, args):
    """The rate of `--repeats` calls, with the first (warm-up) call's seconds,
    and that call's result."""
    start = time.perf_counter()
    result = function()
    first, before = time.perf_counter() - start, cpu_seconds()
    rate = throughput(texts_per_call, time_calls(function, 0, args.repeats))
    rate["first_call_seconds"] = first
    if before:  # The cores other processes used during the timed calls.
        busy, niced, ours = (b - a for a, b in zip(before, cpu_seconds()))
        rate["other_processes_cores"] = max(0.0, busy - ours) / sum(rate["seconds"])
        rate["niced_processes_cores"] = niced / sum(rate["seconds"])
    return rate, result


def run_keras(args, workdir, texts):
    """Our fill_mask and score on the backend `KERAS_BACKEND` names."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if os.environ["KERAS_BACKEND"] == "torch":
        import torch

        torch.set_num_threads(args.threads)
    from albert_mlm import AlbertMaskedLM

    masked_lm = AlbertMaskedLM.from_preset(PRESET, sequence_length=SEQUENCE_LENGTH)
    masked, plain = texts["masked"], texts["plain"]
    fill, found = rates(
        len(masked),
        lambda: masked_lm.fill_mask(masked, top_k=TOP_K, batch_size=args.batch_size),
        args,
    )
    score, scores = rates(
        len(plain), lambda: masked_lm.score(plain, batch_size=args.batch_size), args
    )
    pieces = sum(result["num_pieces"] for result in scores)
    if args.reference_python and not (workdir / CHECKPOINT).exists():
        masked_lm.export_to_transformers(str(workdir / CHECKPOINT))
    return {
        "fill_mask_texts": fill,
        "score_texts": score,
        "score_pieces": pieces,
        "score_pieces_per_second": pieces / score["median_seconds"],
        "top1_ids": [candidates[0][0]["id"] for candidates in found],
    }


def run_transformers(args, workdir, texts):
    """transformers' fill-mask pipeline on the checkpoint a Keras worker wrote."""
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    fill_mask = transformers.pipeline("fill-mask", model=str(workdir / CHECKPOINT))
    tokenizer = fill_mask.tokenizer
    masked = [text.replace("[MASK]", tokenizer.mask_token) for text in texts["masked"]]
    fill, found = rates(
        len(masked),
        lambda: fill_mask(masked, top_k=TOP_K, batch_size=args.batch_size),
        args,
    )
    never = {*tokenizer.all_special_ids, tokenizer.unk_token_id}
    top1 = [
        next((c["token"] for c in candidates if c["token"] not in never), None)
        for candidates in found
    ]
    versions = f"transformers {transformers.__version__}, torch {torch.__version__}"
    return {"fill_mask_texts": fill, "top1_ids": top1, "versions": versions}


def run_worker(args):
    if args.threads < os.cpu_count() and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])
    workdir = Path(args.workdir)
    texts = json.loads((workdir / "texts.json").read_text())
    run = run_keras if args.worker == "keras" else run_transformers
    result = {**run(args, workdir, texts), "peak_rss_mib": peak_rss_mib()}
    (workdir / f"{args.worker}.json").write_text(json.dumps(result))


def run_in_subprocess(python, worker, backend, workdir, args):
    """One worker's result, or why there is none."""
    print(f"[inference] running {worker} {backend or ''}", file=sys.stderr)
    command = [python, __file__, "--worker", worker, "--workdir", str(workdir)]
    for option in ("threads", "batch_size", "repeats", "reference_python"):
        if getattr(args, option):
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    environment = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    environment.update(TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND=backend or "")
    completed = subprocess.run(command, env=environment, capture_output=True, text=True)
    result_file = workdir / f"{worker}.json"
    if completed.returncode or not result_file.exists():
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        print("\n".join(lines[-15:]), file=sys.stderr)
        return {"status": "failed", "reason": lines[-1] if lines else "no output"}
    result = {"status": "ok", **json.loads(result_file.read_text())}
    result_file.unlink()
    return result


def reference_problem(python):
    """Why the pipeline cannot run under `python`, or None."""
    if python is None:
        return "no --reference-python given"
    check = [python, "-c", "import safetensors, torch, transformers"]
    try:
        completed = subprocess.run(check, capture_output=True, text=True)
    except OSError as error:
        return f"{python} cannot run ({error})"
    if completed.returncode:
        last = (completed.stderr.strip().splitlines() or ["no error message"])[-1]
        return f"transformers, torch or safetensors not importable in {python}: {last}"
    return None


def run_benchmark(args):
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    masked, plain = make_texts(args.texts)
    problem = reference_problem(args.reference_python)
    if problem:
        print(f"[inference] transformers skipped: {problem}", file=sys.stderr)
        args.reference_python = None  # Keras workers then write no checkpoint.
    with tempfile.TemporaryDirectory(prefix="albert_inference_") as directory:
        workdir = Path(directory)
        texts = {"masked": masked, "plain": plain}
        (workdir / "texts.json").write_text(json.dumps(texts))
        results = {
            backend: run_in_subprocess(sys.executable, "keras", backend, workdir, args)
            for backend in backends
        }
        if problem is None and not (workdir / CHECKPOINT).exists():
            problem = "no Keras worker succeeded, so there is no checkpoint"
        if problem:
            results["transformers"] = {"status": "skipped", "reason": problem}
        else:
            results["transformers"] = run_in_subprocess(
                args.reference_python, "transformers", None, workdir, args
            )
    theirs = results["transformers"].pop("top1_ids", None)
    for backend in backends:
        ours = results[backend].pop("top1_ids", None)
        if ours and theirs:
            agreement = np.mean([a == b for a, b in zip(ours, theirs)])
            results[backend]["top1_agreement_with_transformers"] = float(agreement)
    words = [len(text.split()) for text in masked]
    setup = run_setup(
        KERAS_PACKAGES,
        preset=PRESET,
        sequence_length=SEQUENCE_LENGTH,
        words_per_text=[min(words), max(words)],
        top_k=TOP_K,
        **{key: getattr(args, key) for key in ("texts", "batch_size", "threads")},
        **{key: getattr(args, key) for key in ("repeats", "reference_python")},
    )
    return {"setup": setup, "results": results}


def print_table(report):
    """The results as a markdown table."""
    print(
        "| implementation | fill_mask texts/s | first call s | score texts/s "
        "| score pieces/s | top-1 = pipeline's | other processes' cores |\n"
        "|---|---|---|---|---|---|---|"
    )
    for name, result in report["results"].items():
        label = "transformers pipeline" if name == "transformers" else name
        if result["status"] != "ok":
            print(f"| {label} | {result['status']}: {result['reason']} ||||||")
            continue
        fill, score = result["fill_mask_texts"], result.get("score_texts", {})
        others = [
            f"{rate['other_processes_cores']:.2f} ({rate['niced_processes_cores']:.2f})"
            for rate in (fill, score)
            if "other_processes_cores" in rate
        ]
        cells = (
            shown(fill["per_second"], ".1f"),
            shown(fill["first_call_seconds"], ".1f"),
            shown(score.get("per_second"), ".1f"),
            shown(result.get("score_pieces_per_second"), ",.0f"),
            shown(result.get("top1_agreement_with_transformers"), ".1%"),
            " / ".join(others) or "-",
        )
        print(f"| {label} | " + " | ".join(cells) + " |")
    setup = report["setup"]
    print(
        f"\n{setup['texts']} texts, batch {setup['batch_size']}, {setup['threads']} "
        f"thread{'s' * (setup['threads'] != 1)} on {setup['cpu_count']} CPUs. Last "
        "column: the CPU cores other processes used during the timed fill_mask "
        "/ score calls (in brackets: those at a positive nice)."
    )


def main():
    run_script(parse_args(), run_worker, run_benchmark, print_table)


if __name__ == "__main__":
    main()
