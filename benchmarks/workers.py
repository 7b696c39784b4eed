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
from transformers_measurements import run_transformers, run_transformers_compiled

IMPLEMENTATIONS = ("albert_mlm", "keras_hub", "transformers", "transformers_compiled")
# transformers under `torch.compile` compiles for minutes on a CPU: asked for
# by name, or by the device suite.
DEFAULT_IMPLEMENTATIONS = IMPLEMENTATIONS[:3]
# Modules each implementation needs besides this benchmark's own. TensorFlow
# only measures preprocessing (`tf.data`), which the device suite leaves out.
REQUIRED_MODULES = {
    "albert_mlm": ("keras", "tensorflow"),
    "keras_hub": ("keras_hub", "tensorflow"),
    "transformers": ("transformers", "torch"),
    "transformers_compiled": ("transformers", "torch"),
}
WORKERS = {
    "ceiling": run_ceiling,
    "albert_mlm": run_albert_mlm,
    "keras_hub": run_keras_hub,
    "transformers": run_transformers,
    "transformers_compiled": run_transformers_compiled,
}


def missing_modules(name, preprocessing=True):
    """The modules `name` needs that are not installed (TensorFlow only
    `preprocessing`)."""
    return [
        module
        for module in REQUIRED_MODULES[name]
        if (preprocessing or module != "tensorflow")
        and importlib.util.find_spec(module) is None
    ]


def run_worker(args, measure):
    """Subprocess entry: `measure(workdir, args)`, its result written as JSON
    into the workdir (a device-suite worker writes its results as JSON lines
    as it goes)."""
    workdir = Path(args.workdir)
    result = measure(workdir, args)
    result["status"] = "ok"
    result["peak_rss_mib"] = peak_rss_mib()
    (workdir / f"{args.worker}.json").write_text(json.dumps(result))
