"""Tokens/s of `albert-mlm pretrain --recipe albert` on 1 device, 2 virtual
devices and 2 processes of 1 device, and what the distribution costs.

Each run is the user's command in a subprocess (two for two processes):

- **1 device**: `albert-mlm pretrain ...`, the single-device run;
- **2 virtual devices**: the same with `--virtual-devices 2` (the CPU split
  into two devices in one process: Keras' `DataParallel` on JAX,
  `MirroredStrategy` on TensorFlow);
- **2 processes**: two processes of one CPU device each, joined over
  127.0.0.1 (`--coordinator-address`, `--num-processes 2`, `--process-id`;
  JAX only).

Every run trains ALBERT's recipe (`--recipe albert`: packed document pairs,
n-gram masking, sentence order, LAMB) at length 128 from the shipped
preset's vocabulary (`--vocab`), with `--checkpoint-every` too large to
checkpoint and `--evaluation-batches 1`, on the `tiny` and `base`
architectures (`PLAN`: base with batch 8 and 6 steps, to stay short).

**Step time.** A run of at most 20 steps logs every step: `StepProgress`
prints "Steps n-n of N" when step n begins, and Keras' progress bar redraws
when it ends, before the held-out batch is evaluated. The parent reads
process 0's output as it comes and times each line, so a step's time is
from its header to its bar's first redraw: the batch's fetch, its transfer
to the devices, the step and the callbacks, without the start-up, the
evaluation or the saving. Keras' own "ms/step" is printed in whole seconds
above one second (a base step), hence the parent's clock. The first
`--warmup-steps` steps (compilation, the shuffle buffer's filling) are left
out, and a run's step time is the median of the others. Running S and 2S
steps and differencing would also cancel the start-up, at twice the runs and
with the start-up's noise (seconds) in the difference.

**Tokens/s** counts real (non-padding) tokens: a worker builds the run's
training batches as `pretrain` does (its seed, then `pretraining_data` with
the run's replicas: two processes train the batches of two devices) and
sums their `padding_mask` over the timed steps; tokens/s is the mean real
tokens of a timed step over the run's step time.

**Rounds.** The layouts run in turn (1 device, 2 virtual devices, 2
processes; again), each run's ratio taken to the 1-device run of its round;
the report gives the medians over rounds, and the CPU that other processes
used during each run (from /proc/stat): the machine may be shared.

    python benchmarks/distributed_pretraining.py \\
        --out benchmarks/results/distributed_pretraining.json  # ~19 min, 2 cores
"""

import argparse
import codecs
import dataclasses
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from inference_throughput import PRESET_VOCABULARY_FILE, SEQUENCE_LENGTH
from measuring import cpu_seconds
from model_configuration import REPO_ROOT
from run_records import run_setup, shown, write_report
from shared_inputs import VOCABULARY_FILE, make_strings

# Built by tools/corpus/build_english_corpus.py --sources web_bible.
WEB_BIBLE_CORPUS = "/tmp/english_corpus_web_bible/train.txt"
TINY_CONFIG = REPO_ROOT / "tests" / "data" / "tiny_architecture.json"
# Larger than any run: no checkpoint but the one written at the end.
NO_CHECKPOINT = 1_000_000
# Seconds after which a process whose partner is gone gives up.
HOST_TIMEOUT = "60"
RUN_TIMEOUT = 900
REFERENCE_LAYOUT = "1 device"


@dataclasses.dataclass(frozen=True)
class Layout:
    """How a run is started: its processes, the options each gets, and the
    data-parallel replicas that split its batch."""

    name: str
    processes: int = 1
    options: tuple = ()
    replicas: int = 1


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout(REFERENCE_LAYOUT),
        Layout("2 virtual devices", options=("--virtual-devices", "2"), replicas=2),
        Layout("2 processes", processes=2, replicas=2),
    )
}


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One backend and architecture, its layouts measured in `rounds`."""

    backend: str
    architecture: str
    batch_size: int
    steps: int
    rounds: int
    layouts: tuple = tuple(LAYOUTS)


PLAN = (
    Measurement("jax", "tiny", batch_size=16, steps=12, rounds=3),
    Measurement("jax", "base", batch_size=8, steps=6, rounds=2),
    # TensorFlow has MirroredStrategy on one host, and no multi-process fit().
    Measurement(
        "tensorflow",
        "tiny",
        batch_size=16,
        steps=12,
        rounds=2,
        layouts=(REFERENCE_LAYOUT, "2 virtual devices"),
    ),
)
# `--tiny`: every run shrunk to this (and the tiny test model), for a dry run.
DRY_RUN = {"batch_size": 8, "steps": 4}
DRY_RUN_SEQUENCE_LENGTH = 16


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        help=f"documents, a blank line between them (default: {WEB_BIBLE_CORPUS} "
        "if it exists, else generated English lines)",
    )
    parser.add_argument(
        "--backends", nargs="+", choices=("jax", "tensorflow"), default=None
    )
    parser.add_argument(
        "--architectures", nargs="+", choices=("tiny", "base"), default=None
    )
    parser.add_argument("--rounds", type=int, help="instead of each plan's rounds")
    parser.add_argument(
        "--warmup-steps", type=int, default=2, help="untimed steps at the start"
    )
    parser.add_argument("--out", help="write the results to this JSON file")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="dry run: tests/data/tiny_architecture.json and its vocabulary, "
        "length 16, batch 8, 4 steps (1 untimed), 1 round",
    )
    # A worker subprocess: `--worker count --workdir DIR`.
    parser.add_argument("--worker", choices=("count",), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tiny:
        args.warmup_steps, args.rounds = 1, 1
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be at least 1. Received: {args.rounds}")
    if args.corpus and not Path(args.corpus).is_file():
        parser.error(f"--corpus {args.corpus} is not a file.")
    return args


# === The runs' options and real tokens ===


def pretrain_settings(measurement, corpus, tiny):
    """The `PretrainOptions` fields of a measurement's runs (but `out`)."""
    settings = {
        "corpus": [str(corpus)],
        "vocab": str(VOCABULARY_FILE if tiny else PRESET_VOCABULARY_FILE),
        "recipe": "albert",
        "sequence_length": SEQUENCE_LENGTH,
        "batch_size": measurement.batch_size,
        "steps": measurement.steps,
        "checkpoint_every": NO_CHECKPOINT,
        "evaluation_batches": 1,
    }
    if tiny:
        settings.update(
            sequence_length=DRY_RUN_SEQUENCE_LENGTH, config=str(TINY_CONFIG)
        )
    else:
        settings["architecture"] = measurement.architecture
    return settings


def command_line(settings, out):
    """`albert-mlm pretrain` arguments for `settings`, writing into `out`."""
    arguments = ["pretrain", "--out", str(out)]
    for name, value in settings.items():
        values = value if isinstance(value, list) else [value]
        arguments += [f"--{name.replace('_', '-')}", *map(str, values)]
    return arguments


def run_count_worker(args):
    """Real tokens of each training batch, for every `(settings, replicas)`
    of --workdir's `count.json`; written to `counts.json`."""
    import keras
    import numpy as np

    from albert_mlm.datasets.corpus import corpus_files
    from albert_mlm.training.devices import DeviceLayout
    from albert_mlm.training.pretrain_options import PretrainOptions
    from albert_mlm.training.pretraining_data import pretraining_data
    from albert_mlm.training.pretraining_model import build_model
    from albert_mlm.training.recipes import resolved

    workdir = Path(args.workdir)
    counts = []
    for settings, replicas in json.loads((workdir / "count.json").read_text()):
        options = resolved(PretrainOptions(**settings, out=str(workdir / "unused")))
        files = corpus_files(options.corpus)
        # As `pretrain` does: TensorFlow's global seed orders the shuffle.
        keras.utils.set_random_seed(options.seed)
        model = build_model(options, files, log=lambda message: None)
        preprocessor = model.preprocessor
        layout = DeviceLayout("tensorflow", devices=replicas)
        data = pretraining_data(options, files, preprocessor, True, layout)
        counts.append(
            [
                int(np.sum(x["padding_mask"]))
                for x, _, _ in data.train.take(options.steps).as_numpy_iterator()
            ]
        )
    (workdir / "counts.json").write_text(json.dumps(counts))


def real_tokens(requests, workdir):
    """Per `(settings, replicas)` request, the real tokens of each step."""
    workdir = Path(workdir)
    (workdir / "count.json").write_text(json.dumps(requests))
    print("[distributed pretraining] counting real tokens", file=sys.stderr)
    command = [sys.executable, __file__, "--worker", "count", "--workdir", workdir]
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    environment["TF_CPP_MIN_LOG_LEVEL"] = "3"
    completed = subprocess.run(
        list(map(str, command)), env=environment, capture_output=True, text=True
    )
    if completed.returncode:
        raise RuntimeError(f"counting real tokens failed: {completed.stderr[-3000:]}")
    return json.loads((workdir / "counts.json").read_text())


# === One run, timed from its output ===

HEADER = re.compile(r"Steps (\d+)-(\d+) of \d+")
BAR = re.compile(r"\s*(\d+)/(\d+) ")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def timed_segments(chunks):
    """`(seconds, text)` of each line or progress-bar redraw in `chunks`,
    the `(seconds, text)` pieces a process wrote, each timed by the piece it
    began in (a redraw starts with a carriage return and ends with none)."""
    segments, text, began = [], "", None
    for seconds, chunk in chunks:
        for piece in re.split(r"([\r\n])", chunk.replace("\b", "")):
            if piece in ("\r", "\n"):
                if text:
                    segments.append((began, ANSI.sub("", text)))
                text, began = "", None
            elif piece:
                began = seconds if began is None else began
                text += piece
    if text:
        segments.append((began, ANSI.sub("", text)))
    return segments


def step_times(segments, warmup_steps):
    """`(first_step, last_step, seconds_per_step)` of each logged interval
    that begins after `warmup_steps`: from its "Steps a-b of N" header to the
    progress bar's redraw at its last batch, before validation."""
    times, begun = [], None
    for seconds, text in segments:
        if header := HEADER.search(text):
            begun = (seconds, int(header[1]), int(header[2]))
            continue
        bar = BAR.match(text)
        if begun and bar and bar[1] == bar[2] and "val_" not in text:
            started, first, last = begun
            if first > warmup_steps:
                times.append((first, last, (seconds - started) / (last - first + 1)))
            begun = None
    return times


def run_rate(times, tokens_per_step):
    """A run's step time (the median interval's seconds per step) and real
    tokens/s (the mean real tokens of its timed steps over that time);
    `tokens_per_step[i]` counts step `i + 1`."""
    steps = [step for first, last, _ in times for step in range(first, last + 1)]
    seconds = statistics.median(seconds for _, _, seconds in times)
    real_tokens = [tokens_per_step[step - 1] for step in steps]
    tokens = statistics.mean(real_tokens)
    return {
        "timed_steps": steps,
        "real_tokens": real_tokens,
        "step_seconds": [seconds for _, _, seconds in times],
        "median_step_seconds": seconds,
        "real_tokens_per_step": tokens,
        "tokens_per_second": tokens / seconds,
    }


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _process_options(layout, index, address):
    if layout.processes == 1:
        return list(layout.options)
    return [
        *layout.options, "--coordinator-address", address,
        "--num-processes", str(layout.processes), "--process-id", str(index),
        "--host-timeout", HOST_TIMEOUT,
    ]  # fmt: skip


def _read_chunks(stream, started):
    """`(seconds since started, text)` of everything written to `stream`."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    chunks = []
    while data := os.read(stream.fileno(), 65536):
        chunks.append((time.perf_counter() - started, decoder.decode(data)))
    return chunks


def run_layout(layout, settings, backend, warmup_steps, workdir):
    """One run of `layout`: its step times, wall seconds and the CPU it and
    other processes used; process 0's output is read as it comes."""
    out, logs = Path(workdir) / "run", []
    address = f"127.0.0.1:{_free_port()}"
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONUNBUFFERED": "1"}
    environment["TF_CPP_MIN_LOG_LEVEL"] = "3"
    before, children = cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    processes = []
    for index in range(layout.processes):
        logs.append(Path(workdir) / f"process-{index}.log")
        command = [sys.executable, "-m", "albert_mlm", *command_line(settings, out)]
        command += _process_options(layout, index, address)
        with open(logs[-1], "w") as log:
            processes.append(
                subprocess.Popen(
                    command,
                    stdout=subprocess.PIPE if index == 0 else log,
                    stderr=log,
                    env=environment,
                    cwd=REPO_ROOT,
                )
            )
    # A run past RUN_TIMEOUT is killed, which also ends the reading.
    timer = threading.Timer(RUN_TIMEOUT, lambda: [p.kill() for p in processes])
    timer.start()
    chunks = _read_chunks(processes[0].stdout, started)
    codes = [process.wait() for process in processes]
    timer.cancel()
    wall = time.perf_counter() - started
    result = {"wall_seconds": wall, **_cpu_use(before, children, wall)}
    shutil.rmtree(out, ignore_errors=True)
    if any(codes):
        failed = codes.index(next(code for code in codes if code))
        lines = [line for line in logs[failed].read_text().splitlines() if line]
        reason = lines[-1] if lines else f"exit code {codes[failed]}"
        print("\n".join(lines[-15:]), file=sys.stderr)
        return {"status": "failed", "reason": f"process {failed}: {reason}", **result}
    times = step_times(timed_segments(chunks), warmup_steps)
    if not times:
        return {"status": "failed", "reason": "no timed step in the output", **result}
    return {"status": "ok", "times": times, **result}


def _cpu_use(before, children, wall):
    """Cores the run's processes used, and other processes meanwhile."""
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = sum(
        getattr(after, field) - getattr(children, field)
        for field in ("ru_utime", "ru_stime")
    )
    use = {"run_cores": ours / wall}
    if before:
        busy, _, parent = (b - a for a, b in zip(before, cpu_seconds()))
        use["other_processes_cores"] = max(0.0, busy - ours - parent) / wall
    return use


# === Rounds and ratios ===


def summarise(rounds, layouts):
    """Per layout: tokens/s and step seconds (medians over the rounds' ok
    runs), and the median of each round's ratio to that round's
    `REFERENCE_LAYOUT` run (its tokens/s over the reference's)."""
    summary = {}
    for name in layouts:
        runs = [runs[name] for runs in rounds if runs[name]["status"] == "ok"]
        ratios = [
            runs[name]["tokens_per_second"]
            / runs[REFERENCE_LAYOUT]["tokens_per_second"]
            for runs in rounds
            if runs[name]["status"] == runs[REFERENCE_LAYOUT]["status"] == "ok"
        ]
        summary[name] = {
            "ok_rounds": len(runs),
            "tokens_per_second": _median(run["tokens_per_second"] for run in runs),
            "step_seconds": _median(run["median_step_seconds"] for run in runs),
            "ratios": ratios,
            "ratio_to_one_device": _median(ratios),
            "other_processes_cores": _median(
                run.get("other_processes_cores") for run in runs
            ),
        }
    return summary


def _median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


# === The parent ===


def generated_corpus(directory):
    """English lines made up from phrase lists, five to a document."""
    lines = make_strings(5_000, seed=0)
    path = Path(directory) / "documents.txt"
    documents = ("\n".join(lines[i : i + 5]) for i in range(0, len(lines), 5))
    path.write_text("\n\n".join(documents) + "\n")
    return path


def chosen_plan(args):
    plan = [
        measurement
        for measurement in PLAN
        if measurement.backend in (args.backends or [measurement.backend])
        and measurement.architecture
        in (args.architectures or [measurement.architecture])
    ]
    if args.tiny:
        plan = [dataclasses.replace(m, **DRY_RUN) for m in plan]
    if args.rounds:
        plan = [dataclasses.replace(m, rounds=args.rounds) for m in plan]
    return plan


def run_benchmark(args, workdir):
    corpus = args.corpus
    if corpus is None:
        corpus = WEB_BIBLE_CORPUS if Path(WEB_BIBLE_CORPUS).is_file() else None
    corpus = corpus or generated_corpus(workdir)
    plan = chosen_plan(args)
    settings = [pretrain_settings(m, corpus, args.tiny) for m in plan]
    requests = sorted(
        {
            json.dumps([each, LAYOUTS[name].replicas], sort_keys=True)
            for each, measurement in zip(settings, plan)
            for name in measurement.layouts
        }
    )
    counted = dict(
        zip(requests, real_tokens([json.loads(r) for r in requests], workdir))
    )
    results = []
    for each, measurement in zip(settings, plan):
        rounds = []
        for round_index in range(measurement.rounds):
            runs = {}
            for name in measurement.layouts:
                layout = LAYOUTS[name]
                print(
                    f"[distributed pretraining] {measurement.backend} "
                    f"{measurement.architecture}, round {round_index + 1}: {name}",
                    file=sys.stderr,
                )
                run = run_layout(
                    layout, each, measurement.backend, args.warmup_steps, workdir
                )
                if run["status"] == "ok":
                    key = json.dumps([each, layout.replicas], sort_keys=True)
                    run.update(run_rate(run.pop("times"), counted[key]))
                runs[name] = run
            rounds.append(runs)
        results.append(
            {
                **dataclasses.asdict(measurement),
                "pretrain_options": each,
                "rounds": rounds,
                "summary": summarise(rounds, measurement.layouts),
            }
        )
    setup = run_setup(
        ("jax", "jaxlib", "tensorflow", "keras"),
        corpus=str(corpus),
        corpus_mib=Path(corpus).stat().st_size / 2**20,
        sequence_length=DRY_RUN_SEQUENCE_LENGTH if args.tiny else SEQUENCE_LENGTH,
        warmup_steps=args.warmup_steps,
    )
    return {"setup": setup, "results": results}


def print_table(report):
    print(
        "| backend | architecture | batch | layout | real tokens/s | step ms "
        "| ratio to 1 device | per round | other processes' cores |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for result in report["results"]:
        for name, row in result["summary"].items():
            cells = (
                result["backend"],
                result["architecture"],
                str(result["batch_size"]),
                name,
                shown(row["tokens_per_second"], ",.0f"),
                shown(row["step_seconds"] and 1e3 * row["step_seconds"], ",.0f"),
                shown(row["ratio_to_one_device"], ".3f"),
                " ".join(f"{ratio:.3f}" for ratio in row["ratios"]) or "-",
                shown(row["other_processes_cores"], ".2f"),
            )
            print("| " + " | ".join(cells) + " |")
    for result in report["results"]:
        for index, runs in enumerate(result["rounds"]):
            for name, run in runs.items():
                if run["status"] != "ok":
                    print(
                        f"{result['backend']} {result['architecture']}, round "
                        f"{index + 1}, {name}: {run['status']}: {run['reason']}"
                    )


def main():
    args = parse_args()
    if args.worker:
        run_count_worker(args)
        return
    with tempfile.TemporaryDirectory(prefix="albert_distributed_") as workdir:
        report = run_benchmark(args, workdir)
    print_table(report)
    write_report(report, args.out)


if __name__ == "__main__":
    main()
