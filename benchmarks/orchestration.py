"""Runs the workers one after the other and assembles the report.

The ceiling first, then every requested and installed implementation, each
round in a fresh subprocess, in alternating order.
"""

import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from model_configuration import model_config
from model_flops import add_fractions_of_ceiling, flops_per_token
from report import NOTES
from rounds import combine_rounds, ratios
from shared_inputs import write_shared_inputs
from workers import IMPLEMENTATIONS, missing_modules

# Every worker runs the entry point again, whichever module starts it.
ENTRY_POINT = Path(__file__).resolve().with_name("benchmark.py")
PACKAGES = ("keras", "tensorflow", "jax", "torch", "keras-hub", "transformers")


def run_benchmark(args):
    """Every number of one invocation, as `--json` writes them."""
    config = model_config(args)
    flops = flops_per_token(config, args)
    with tempfile.TemporaryDirectory(prefix="albert_benchmark_") as directory:
        workdir = Path(directory)
        write_shared_inputs(workdir, config, args)
        ceiling = run_in_subprocess("ceiling", workdir)
        results, runnable = skipped_and_runnable(args)
        results.update(measure_in_rounds(runnable, workdir, args))
    add_fractions_of_ceiling(results, ceiling, flops, args)
    return {
        "setup": setup(args, config, ceiling),
        "ceiling": ceiling,
        "flops": flops,
        "implementations": results,
        "ratios": ratios(results),
        "notes": list(NOTES),
    }


def skipped_and_runnable(args):
    """Results of the implementations skipped, and the names of the others."""
    skipped, runnable = {}, []
    for name in IMPLEMENTATIONS:
        if name not in args.implementations:
            skipped[name] = {"status": "skipped", "reason": "not requested"}
        elif missing := missing_modules(name):
            reason = f"{', '.join(missing)} not installed"
            print(f"[benchmark] {name}: {reason}, skipped", file=sys.stderr)
            skipped[name] = {"status": "skipped", "reason": reason}
        else:
            runnable.append(name)
    return skipped, runnable


def measure_in_rounds(names, workdir, args):
    """Each implementation's result, combined over `--rounds` subprocesses."""
    rounds = {name: [] for name in names}
    for round_index in range(args.rounds):
        # Alternate the order, so that a machine slowly speeding up or
        # slowing down favours no implementation.
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            rounds[name].append(run_in_subprocess(name, workdir))
    return {name: combine_rounds(rounds[name]) for name in names}


def run_in_subprocess(name, workdir, extra_args=(), environment=None, timeout=None):
    """Runs the benchmark as worker `name`; its result, or why there is none.

    `extra_args` follow the parent's own flags (a repeated flag overrides);
    `environment` adds variables; past `timeout` seconds the worker and every
    process it started are killed.
    """
    print(f"[benchmark] running {name} ...", file=sys.stderr, flush=True)
    command = [sys.executable, str(ENTRY_POINT), *sys.argv[1:]]
    command += ["--worker", name, "--workdir", str(workdir), *extra_args]
    environment = {**os.environ, **(environment or {})}
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    process = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Its own process group, killed as one.
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"status": "timed out", "reason": f"killed after {timeout:.0f} s"}
    result_file = workdir / f"{name}.json"
    if process.returncode == 0 and result_file.exists():
        return json.loads(result_file.read_text())
    error_lines = [line for line in stderr.splitlines() if line.strip()]
    print("\n".join(error_lines[-15:]), file=sys.stderr)
    reason = error_lines[-1] if error_lines else f"exit code {process.returncode}"
    return {"status": "failed", "reason": reason}


def setup(args, config, ceiling):
    """What was measured, with what, and where."""
    return {
        "architecture": args.architecture,
        "model_config": config,
        "precision": args.precision,
        "batch_size": args.batch_size,
        "sequence_length": args.sequence_length,
        "mask_selection_length": args.mask_selection_length,
        "steps": args.steps,
        "warmup_steps": args.warmup_steps,
        "rounds": args.rounds,
        "num_strings": args.num_strings,
        "preprocess_passes": args.preprocess_passes,
        "keras_backend": ceiling.get("backend", os.environ.get("KERAS_BACKEND")),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "command": [Path(sys.executable).name, *sys.argv],
    }


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
