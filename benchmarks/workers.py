"""The subprocesses the benchmark runs: the ceiling and one per implementation.

Each worker is this benchmark's entry point run again with `--worker NAME`,
so that its peak resident memory is its own.
"""

import importlib.util
import json
from pathlib import Path

from keras_measurements import run_albert_mlm, run_keras_hub
from matmul_ceiling import run_ceiling
from measuring import peak_rss_mib
from transformers_measurements import run_transformers

IMPLEMENTATIONS = ("albert_mlm", "keras_hub", "transformers")
# Modules each implementation needs besides this benchmark's own.
REQUIRED_MODULES = {
    "albert_mlm": ("keras", "tensorflow"),
    "keras_hub": ("keras_hub",),
    "transformers": ("transformers", "torch"),
}
WORKERS = {
    "ceiling": run_ceiling,
    "albert_mlm": run_albert_mlm,
    "keras_hub": run_keras_hub,
    "transformers": run_transformers,
}


def missing_modules(name):
    return [
        module
        for module in REQUIRED_MODULES[name]
        if importlib.util.find_spec(module) is None
    ]


def run_worker(args):
    """Subprocess entry: run one measurement, write its JSON into the workdir."""
    workdir = Path(args.workdir)
    result = WORKERS[args.worker](workdir, args)
    result["status"] = "ok"
    result["peak_rss_mib"] = peak_rss_mib()
    (workdir / f"{args.worker}.json").write_text(json.dumps(result))
