"""Seconds per batch of the served SavedModel's `fill_mask` against
`AlbertMaskedLM.fill_mask`, on the tensorflow backend.

The shipped preset (`inference_throughput.PRESET`, `sequence_length=128`)
is exported with `export_for_serving(top_k=5)` into a temporary folder and
loaded with `tf.saved_model.load`; then, for batches of 1 and 64 texts
(`inference_throughput.make_texts`: 1 to 3 English lines, one word
masked), the same texts go to `fill_mask(texts, top_k=5, batch_size=64)`
and to the signature. A latency is the median of `--repeats` calls after a
warm-up call on the same texts ("first call": tracing included). Both run
in this one process, with `--threads` intra-op threads (inter-op 1), and
the top-1 ids of the two are compared. Also recorded: the export's seconds.

    python benchmarks/serving_latency.py --out serving_latency.json
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

# (Importing these puts the repository on `sys.path`: `albert_mlm` need not
# be installed.)
from inference_throughput import PRESET, SEQUENCE_LENGTH, TOP_K, make_texts, rates
from run_records import run_setup, shown, write_report

BATCH_SIZES = (1, 64)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20, help="timed calls")
    parser.add_argument("--out", help="write the results to this JSON file")
    parser.add_argument(
        "--tiny", action="store_true", help="dry run: batches of 1 and 4, 1 call"
    )
    args = parser.parse_args()
    args.batch_sizes = (1, 4) if args.tiny else BATCH_SIZES
    if args.tiny:
        args.repeats = 1
    return args


def run_benchmark(args):
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from albert_mlm import AlbertMaskedLM

    masked_lm = AlbertMaskedLM.from_preset(PRESET, sequence_length=SEQUENCE_LENGTH)
    texts, _ = make_texts(max(args.batch_sizes))
    results = {}
    with tempfile.TemporaryDirectory(prefix="albert_serving_") as directory:
        start = time.perf_counter()
        masked_lm.export_for_serving(Path(directory) / "served", top_k=TOP_K)
        results["export_seconds"] = time.perf_counter() - start
        served = tf.saved_model.load(str(Path(directory) / "served"))
        fill_mask = served.signatures["fill_mask"]
        for size in args.batch_sizes:
            batch = texts[:size]
            keras_rate, found = rates(
                size,
                lambda b=batch: masked_lm.fill_mask(b, top_k=TOP_K, batch_size=64),
                args,
            )
            served_rate, outputs = rates(
                size, lambda b=batch: fill_mask(texts=tf.constant(b)), args
            )
            top1 = outputs["ids"].numpy()[:, 0, 0].tolist()
            agreement = [c[0][0]["id"] for c in found] == top1
            results[f"batch_{size}"] = {
                "fill_mask": keras_rate,
                "saved_model": served_rate,
                "top1_ids_equal": agreement,
            }
    setup = run_setup(
        ("keras", "tensorflow", "tensorflow-text"),
        preset=PRESET,
        sequence_length=SEQUENCE_LENGTH,
        top_k=TOP_K,
        threads=args.threads,
        repeats=args.repeats,
    )
    return {"setup": setup, "results": results}


def print_table(report):
    """The latencies as a markdown table."""
    print(
        "| texts per call | fill_mask ms | SavedModel ms | speed-up | first call "
        "s (fill_mask / SavedModel) | same top-1 ids | other processes' cores |\n"
        "|---|---|---|---|---|---|---|"
    )
    for name, result in report["results"].items():
        if not name.startswith("batch_"):
            continue
        ours, served = result["fill_mask"], result["saved_model"]
        cells = (
            name.removeprefix("batch_"),
            shown(1000 * ours["median_seconds"], ".1f"),
            shown(1000 * served["median_seconds"], ".1f"),
            shown(ours["median_seconds"] / served["median_seconds"], ".2f") + "x",
            f"{ours['first_call_seconds']:.1f} / {served['first_call_seconds']:.1f}",
            "yes" if result["top1_ids_equal"] else "no",
            " / ".join(
                shown(rate.get("other_processes_cores"), ".2f")
                for rate in (ours, served)
            ),
        )
        print("| " + " | ".join(cells) + " |")
    setup = report["setup"]
    print(
        f"\nExport {report['results']['export_seconds']:.1f} s; {setup['threads']} "
        f"thread(s), median of {setup['repeats']} calls, {setup['cpu_count']} CPUs. "
        "Last column: the CPU cores other processes used during the timed calls."
    )


def main():
    args = parse_args()
    report = run_benchmark(args)
    print_table(report)
    write_report(report, args.out)


if __name__ == "__main__":
    main()
