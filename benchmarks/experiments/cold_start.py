"""Seconds from a fresh process to the first `albert-mlm fill-mask` answer.

Runs the command line exactly as a user types it, once per round and backend,
each time in a new process, and reports the median wall time. On JAX the
first round starts with an empty persistent compilation cache (a user's very
first call) and the later rounds reuse it (every call after that).

    python benchmarks/experiments/cold_start.py --rounds 3 --json cold_start.json
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BACKENDS = ("tensorflow", "jax", "torch")
TEXT = "the capital of france is [MASK]."


def time_command(backend, cache_dir):
    environment = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "JAX_COMPILATION_CACHE_DIR": cache_dir,
    }
    command = [sys.executable, "-m", "albert_mlm", "fill-mask", TEXT]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{backend}: {result.stderr.strip()[-500:]}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per backend")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = {}
    for backend in args.backends:
        cache_dir = tempfile.mkdtemp(prefix="jax_cache_")
        try:
            seconds = [time_command(backend, cache_dir) for _ in range(args.rounds)]
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
        results[backend] = {
            "first_seconds": round(seconds[0], 2),
            "median_seconds": round(statistics.median(seconds), 2),
            "all_seconds": [round(value, 2) for value in seconds],
        }
        shown = ", ".join(f"{value:.1f}" for value in seconds)
        print(
            f"{backend:12s} first {seconds[0]:5.1f} s   median "
            f"{statistics.median(seconds):5.1f} s   ({shown})"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
