"""Markdown tables for benchmarks/RESULTS.md from `run_results.sh`'s JSON files.

    python benchmarks/results_table.py benchmarks/results

prints one table of every run at length 128 (ours, KerasHub, transformers,
with the ratios and the matmul-only bound), then the growth from length 128 to
512 for every implementation measured at both lengths.
"""

import json
import sys
from pathlib import Path

from workers import IMPLEMENTATIONS


def load_runs(directory):
    """`benchmark.py --json` reports by (backend, precision, length); the
    directory's other JSON files (other scripts' results) are left out."""
    runs = {}
    for path in sorted(Path(directory).glob("*.json")):
        report = json.loads(path.read_text())
        if "implementations" not in report:
            continue
        setup = report["setup"]
        key = (setup["keras_backend"], setup["precision"], setup["sequence_length"])
        runs[key] = report
    return runs


def per_second(result, key):
    return result[key]["per_second"] if result.get("status") == "ok" else None


def cell(value, pattern="{:,.0f}"):
    return "-" if value is None else pattern.format(value)


def ratio(ours, theirs):
    return None if ours is None or theirs is None else ours / theirs


def throughput_table(runs):
    print(
        "| backend | precision | implementation | train tok/s | predict tok/s "
        "| preprocessing strings/s | peak RSS MiB | ours / this: train | predict "
        "| preprocessing |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (backend, precision, length), report in sorted(runs.items()):
        if length != 128:
            continue
        results = report["implementations"]
        ours = results["albert_mlm"]
        for name in IMPLEMENTATIONS:
            # Runs recorded before an implementation existed have no row for it.
            result = results.get(name, {})
            if result.get("status") != "ok":
                continue
            label = f"{name} {result.get('version') or ''}".strip()
            # The run's own ratios (the median over rounds of back-to-back
            # ratios), else the ratio of the rates.
            ratios = [
                report.get("ratios", {}).get(key, {}).get(name)
                or ratio(per_second(ours, key), per_second(result, key))
                for key in ("train_tokens", "predict_tokens", "preprocess_strings")
            ]
            ratio_cells = (
                ["", "", ""]
                if name == "albert_mlm"
                else [cell(value, "{:.2f}x") for value in ratios]
            )
            print(
                f"| {backend} | {precision} | {label} "
                f"| {cell(per_second(result, 'train_tokens'))} "
                f"| {cell(per_second(result, 'predict_tokens'))} "
                f"| {cell(per_second(result, 'preprocess_strings'))} "
                f"| {cell(result['peak_rss_mib'])} | " + " | ".join(ratio_cells) + " |"
            )


def ceiling_table(runs):
    print(
        "| backend | precision | matmul ceiling GFLOP/s | model matmuls alone, "
        "predict tok/s | ours predict, % of ceiling | best other, % of ceiling |"
    )
    print("|---|---|---|---|---|---|")
    for (backend, precision, length), report in sorted(runs.items()):
        if length != 128:
            continue
        ceiling = report["ceiling"]
        dtype = "bfloat16" if precision == "mixed_bfloat16" else "float32"
        results = report["implementations"]
        fractions = {
            name: results[name]["predict_tokens"]["fraction_of_ceiling"]
            for name in IMPLEMENTATIONS
            if results.get(name, {}).get("status") == "ok"
        }
        others = [value for name, value in fractions.items() if name != "albert_mlm"]
        bound = ceiling["model_matmul_bound"]["predict_tokens"]["per_second"]
        print(
            f"| {backend} | {precision} | {cell(ceiling['gflops'][dtype])} "
            f"| {cell(bound)} | {cell(100 * fractions['albert_mlm'], '{:.1f}%')} "
            f"| {cell(100 * max(others) if others else None, '{:.1f}%')} |"
        )


def scaling_table(runs):
    print(
        "| backend | precision | implementation | step time x (128 -> 512), train "
        "| predict | peak RSS MiB at 128 | at 512 |"
    )
    print("|---|---|---|---|---|---|---|")
    for (backend, precision, length), long_run in sorted(runs.items()):
        short_run = runs.get((backend, precision, 128))
        if length == 128 or short_run is None:
            continue
        growth_in_tokens = length / 128
        for name in IMPLEMENTATIONS:
            short = short_run["implementations"].get(name, {})
            long = long_run["implementations"].get(name, {})
            if short.get("status") != "ok" or long.get("status") != "ok":
                continue
            # Same batch, so a step's time grows by (tokens ratio) / (rate ratio).
            growth = [
                growth_in_tokens * per_second(short, key) / per_second(long, key)
                for key in ("train_tokens", "predict_tokens")
            ]
            print(
                f"| {backend} | {precision} | {name} | {growth[0]:.2f}x "
                f"| {growth[1]:.2f}x | {cell(short['peak_rss_mib'])} "
                f"| {cell(long['peak_rss_mib'])} |"
            )


def main():
    runs = load_runs(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results")
    throughput_table(runs)
    print()
    ceiling_table(runs)
    print()
    scaling_table(runs)


if __name__ == "__main__":
    main()
