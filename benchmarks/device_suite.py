"""The device suite: the shapes ALBERT is trained at, on one device.

    python benchmarks/benchmark.py --device cuda
    python benchmarks/benchmark.py --device cpu --tiny --implementations albert_mlm

For base at 256 x 128 and 64 x 512 and extra_extra_large at 32 x 512 (in
mixed_bfloat16 unless `--precision` says otherwise): train and predict
tokens/s, peak device memory and model-FLOPs utilisation (MFU: model FLOPs
per second over the square-matmul ceiling measured at the start of the same
run, one per backend) of ours and KerasHub's `AlbertMaskedLM` on each of
`--backends`, and of transformers' `AlbertForMaskedLM` (SDPA attention),
eager and under `torch.compile`, with torch's rows.

Every result is one JSON line, appended to `--jsonl` as soon as it is
measured (and printed once its worker ends). `--time-budget` bounds the
whole run: a measurement that the last one of its kind says will not fit is
skipped, and one still running at the deadline is killed; both leave a line
saying so. Nothing is installed: a missing package skips its rows with a
line that names it. Preprocessing is not measured, so neither TensorFlow nor
tensorflow-text is needed.

On CUDA each measurement runs in a process of its own: its own peak memory
(JAX cannot reset its peak), and an out-of-memory error ends that row only.
On a CPU one process per backend and implementation runs every
configuration, so that `--tiny` takes seconds.
"""

import argparse
import dataclasses
import importlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from keras_measurements import albert_mlm_models, keras_hub_models, measure_model_steps
from matmul_ceiling import compute_dtype
from measuring import peak_rss_mib
from model_configuration import model_config
from model_flops import flops_per_token
from orchestration import run_in_subprocess
from report import print_suite_summary
from shared_inputs import MASK_SELECTION_RATE
from transformers_measurements import measure_transformers_steps
from workers import missing_modules

# (architecture, batch size, sequence length), in the order they run.
CONFIGURATIONS = (
    ("base", 256, 128),
    ("base", 64, 512),
    ("extra_extra_large", 32, 512),
)
# `--tiny` divides batch sizes and sequence lengths by these.
TINY_BATCH_DIVISOR, TINY_LENGTH_DIVISOR = 64, 16
MEASUREMENTS = {
    "albert_mlm": lambda args: measure_model_steps(albert_mlm_models(), args),
    "keras_hub": lambda args: measure_model_steps(keras_hub_models(), args),
    "transformers": lambda args: measure_transformers_steps(args),
    "transformers_compiled": lambda args: measure_transformers_steps(
        args, compiled=True
    ),
}
# The implementations that run on every Keras backend; transformers runs on
# PyTorch whatever the backend, so it comes with torch's rows.
KERAS_IMPLEMENTATIONS = ("albert_mlm", "keras_hub")
# Seconds a worker killed at the deadline gets past it.
GRACE_SECONDS = 5


def run_suite(args):
    """Measures every row that fits in `--time-budget`, writing JSON lines."""
    with tempfile.TemporaryDirectory(prefix="albert_suite_") as directory:
        workdir = Path(directory)
        run = _SuiteRun(
            args,
            workdir,
            Path(args.jsonl) if args.jsonl else workdir / "suite.jsonl",
            deadline=time.time() + args.time_budget,
        )
        run.jsonl.write_text("")
        backends = [b for b in args.backends if not run.backend_missing(b)]
        for backend in backends:
            run.measure_ceiling(backend)
        for backend, name, indices in worker_groups(args, backends):
            run.print_new_lines()
            run.measure_rows(backend, name, indices)
        run.print_new_lines()
        print_suite_summary(_read(run.jsonl))


@dataclasses.dataclass
class _SuiteRun:
    """The parent's side of one suite: where lines go and when it ends."""

    args: argparse.Namespace
    workdir: Path
    jsonl: Path
    deadline: float
    printed: int = 0  # Lines of `jsonl` printed so far.
    overhead: float = 0.0  # The last worker's seconds outside measurements.

    def backend_missing(self, backend):
        missing = [m for m in ("keras", backend) if not importlib.util.find_spec(m)]
        if missing:
            self.skip(
                [{"kind": "backend", "backend": backend}], f"{backend} not installed"
            )
        return bool(missing)

    def measure_ceiling(self, backend):
        ceiling = run_in_subprocess(
            "ceiling",
            self.workdir,
            environment=_environment(self.args, backend),
            timeout=max(1.0, self.deadline - time.time()),
        )
        (self.workdir / f"ceiling_{backend}.json").write_text(json.dumps(ceiling))
        device_name = ceiling.pop("device", None)
        _append(
            self.jsonl,
            {
                "kind": "ceiling",
                "suite_device": self.args.device,
                "backend": backend,
                "device_name": device_name,
                **ceiling,
            },
        )

    def measure_rows(self, backend, name, indices):
        """One worker's configurations, or a line for each saying why not."""
        args = self.args
        lines = [_line(configuration_args(args, i), backend, name) for i in indices]
        missing = missing_modules(name, preprocessing=False)
        reason = f"{', '.join(missing)} not installed" if missing else None
        history = _read(self.jsonl)
        reason = reason or _reason_to_skip(
            lines[0], self.deadline, history, args, self.overhead
        )
        if reason:
            self.skip(lines, reason)
            return
        start = time.time()
        outcome = run_in_subprocess(
            name,
            self.workdir,
            [
                "--configurations",
                ",".join(map(str, indices)),
                "--deadline",
                str(self.deadline),
                "--jsonl",
                str(self.jsonl),
            ],
            _environment(args, backend),
            timeout=self.deadline - time.time() + GRACE_SECONDS,
        )
        results = {_key(line): line for line in _results(_read(self.jsonl))}
        measuring = sum(
            results[_key(line)].get("wall_seconds", 0.0)
            for line in lines
            if _key(line) in results
        )
        self.overhead = max(0.0, time.time() - start - measuring)
        reason = outcome.get("reason")
        if outcome["status"] == "timed out":
            reason = f"time budget ran out: {reason}"
        for line in lines:
            if _key(line) not in results:  # The worker died (or was killed).
                _append(
                    self.jsonl, {**line, "status": outcome["status"], "reason": reason}
                )

    def skip(self, lines, reason):
        what = lines[0].get("implementation", "backend")
        print(
            f"[benchmark] {what} ({lines[0]['backend']}): {reason}, skipped",
            file=sys.stderr,
        )
        for line in lines:
            _append(self.jsonl, {**line, "status": "skipped", "reason": reason})

    def print_new_lines(self):
        lines = self.jsonl.read_text().splitlines()
        for text in lines[self.printed :]:
            print(text, flush=True)
        self.printed = len(lines)


def worker_groups(args, backends):
    """`(backend, implementation, configuration indices)` of each worker
    process, in the order they run: ours first, each implementation on every
    backend; on CUDA all of them for one shape before the next, on a CPU all
    shapes in one process."""
    rows = [
        (backend, name)
        for name in args.implementations
        for backend in backends
        if name in KERAS_IMPLEMENTATIONS or backend == "torch"
    ]
    indices = tuple(range(len(CONFIGURATIONS)))
    if args.device == "cuda":
        return [(backend, name, (i,)) for i in indices for backend, name in rows]
    return [(backend, name, indices) for backend, name in rows]


def configuration_args(args, index):
    """`args` with configuration `index`'s shape (shrunk with `--tiny`)."""
    architecture, batch_size, length = CONFIGURATIONS[index]
    if args.tiny:
        batch_size = max(1, batch_size // TINY_BATCH_DIVISOR)
        length //= TINY_LENGTH_DIVISOR
    return argparse.Namespace(
        **{
            **vars(args),
            "architecture": architecture,
            "batch_size": batch_size,
            "sequence_length": length,
            "mask_selection_length": max(1, round(MASK_SELECTION_RATE * length)),
        }
    )


def run_suite_worker(workdir, args):
    """A worker's configurations, one JSON line each as soon as measured."""
    transformers = args.worker.startswith("transformers")
    backend = "torch" if transformers else os.environ["KERAS_BACKEND"]
    ceiling_file = workdir / f"ceiling_{backend}.json"
    ceiling = json.loads(ceiling_file.read_text()) if ceiling_file.exists() else {}
    # Imported now, so that no measurement's seconds count the imports.
    for module in ("torch", "transformers") if transformers else ("keras",):
        importlib.import_module(module)
    measured = []
    for index in map(int, args.configurations.split(",")):
        configuration = configuration_args(args, index)
        line = _line(configuration, backend, args.worker)
        # The first one in this process has nothing to be judged by.
        reason = (
            _reason_to_skip(line, args.deadline, measured, args) if measured else None
        )
        if reason:
            line.update(status="skipped", reason=reason)
        else:
            line.update(_measure(configuration, backend, ceiling))
            measured.append(line)
        _append(Path(args.jsonl), line)
    return {"configurations": args.configurations}


def estimated_seconds(line, history, args):
    """Seconds `line`'s measurement should take, judged by the last one
    measured of its backend and implementation: that one's fixed cost
    (imports, building, compiling) plus its steps' time scaled by the work of
    a step. 0 with none to judge by."""
    same = [
        done
        for done in _results(history)
        if done["status"] == "ok" and _row(done) == _row(line)
    ]
    if not same:
        return 0.0
    last = same[-1]
    steps = args.warmup_steps + args.steps
    stepping = steps * (last["train_median_seconds"] + last["predict_median_seconds"])
    fixed = max(0.0, last["wall_seconds"] - stepping)
    return fixed + stepping * _step_flops(line) / _step_flops(last)


def _measure(configuration, backend, ceiling):
    """The fields of one measured line: rates, MFU, memory; or the failure."""
    start = time.perf_counter()
    try:
        _require_device(configuration.device, backend)
        result = MEASUREMENTS[configuration.worker](configuration)
    except Exception as error:  # An out-of-memory error ends this row only.
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        return {"status": "failed", "reason": reason}
    peak = (ceiling.get("gflops") or {}).get(compute_dtype(configuration.precision))
    flops = flops_per_token(model_config(configuration), configuration)
    fields = {"status": "ok"}
    for step, per_token in (("train", flops["train"]), ("predict", flops["forward"])):
        rate = result[f"{step}_tokens"]
        fields[f"{step}_tokens_per_second"] = rate["per_second"]
        fields[f"{step}_median_seconds"] = rate["median_seconds"]
        gflops = rate["per_second"] * per_token / 1e9
        fields[f"{step}_mfu"] = gflops / peak if peak else None
    for key in ("version", "framework", "attention", "jit_compile", "parameters"):
        if key in result:
            fields[key] = result[key]
    fields["device_name"] = result["device"]
    fields["device_peak_memory_mib"] = result["device_peak_memory_mib"]
    fields["peak_rss_mib"] = peak_rss_mib()
    fields["wall_seconds"] = time.perf_counter() - start
    return fields


def _require_device(device, backend):
    """Raise unless `backend` computes on `device`."""
    if device != "cuda":
        return
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("torch sees no CUDA device")
    else:
        import jax

        if jax.default_backend() != "gpu":
            raise RuntimeError(f"jax computes on {jax.default_backend()}, not CUDA")


def _reason_to_skip(line, deadline, history, args, overhead=0.0):
    left = deadline - time.time()
    needed = overhead + estimated_seconds(line, history, args)
    if left <= 0 or left < needed:
        return f"time budget: about {needed:.0f} s needed, {max(left, 0):.0f} s left"
    return None


def _line(configuration, backend, implementation):
    flops = flops_per_token(model_config(configuration), configuration)
    return {
        "kind": "result",
        "suite_device": configuration.device,
        "backend": backend,
        "implementation": implementation,
        "architecture": configuration.architecture,
        "tiny": configuration.tiny,
        "batch_size": configuration.batch_size,
        "sequence_length": configuration.sequence_length,
        "mask_selection_length": configuration.mask_selection_length,
        "precision": configuration.precision,
        "train_flops_per_token": flops["train"],
    }


def _results(lines):
    return [line for line in lines if line.get("kind") == "result"]


def _row(line):
    return line["backend"], line["implementation"]


def _key(line):
    return (
        *_row(line),
        line["architecture"],
        line["batch_size"],
        line["sequence_length"],
    )


def _step_flops(line):
    return line["train_flops_per_token"] * line["batch_size"] * line["sequence_length"]


def _environment(args, backend):
    environment = {"KERAS_BACKEND": backend}
    if args.device == "cpu":  # Also on a machine with a GPU.
        environment.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    return environment


def _append(path, line):
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _read(path):
    return [json.loads(text) for text in path.read_text().splitlines() if text]
