"""Throughput and memory of three ALBERT masked-LM implementations, side by side.

Measures, on the same random weights' configuration and the same inputs:

- `albert_mlm.AlbertMaskedLM` (this repository),
- `keras_hub.models.AlbertMaskedLM` (when `keras_hub` is importable),
- `transformers.AlbertForMaskedLM` on PyTorch (when `transformers` and `torch`
  are importable),

each in its own subprocess, so that its peak resident memory is its own. For
each: train tokens/s (one Adam step), predict tokens/s (masked-LM logits at the
masked positions), preprocessing strings/s (raw text to masked training
batches) and peak memory. It also measures the matmul ceiling of the current
Keras backend and reports which fraction of it each implementation reaches.

Run from anywhere (see benchmarks/README.md):

    KERAS_BACKEND=tensorflow python benchmarks/benchmark.py --architecture base

With `--device cuda` (or `cpu`) it runs the device suite instead: the shapes
ALBERT is trained at, on torch and jax, every implementation, one JSON line
per result (see `device_suite.py`).

The repository root is put on `sys.path`, so `albert_mlm` need not be
installed. This file is the entry point; each part of the benchmark is a
module beside it (see benchmarks/README.md).
"""

from command_line import parse_args
from device_suite import run_suite, run_suite_worker
from orchestration import run_benchmark
from report import print_report
from run_records import write_report
from workers import WORKERS, run_worker


def main():
    args = parse_args(description=__doc__.split("\n\n")[0])
    if args.worker:
        # A device-suite worker measures its configurations; any other, one
        # measurement.
        suite = args.configurations is not None
        run_worker(args, run_suite_worker if suite else WORKERS[args.worker])
        return
    if args.device:
        run_suite(args)
        return
    report = run_benchmark(args)
    print_report(report)
    write_report(report, args.json)


if __name__ == "__main__":
    main()
