"""A quiet command line (`albert_mlm/cli/__init__.py`, `albert_mlm/native_logs.py`):
`albert-mlm fill-mask` in a user's shell (no `TF_CPP_MIN_LOG_LEVEL`) prints
nothing on stderr on the backend under test, and `--help` and
`import albert_mlm` load neither TensorFlow nor Keras."""

import json
import subprocess
import sys

from helpers import quiet_free_environment

HEAVY_MODULES = ("tensorflow", "keras", "jax", "torch", "tensorflow_text")


def test_fill_mask_with_the_shipped_preset_has_an_empty_stderr(tmp_path):
    # A fresh cache home: JAX's persistent compilation cache starts empty,
    # as on a user's first run.
    result = subprocess.run(
        [sys.executable, "-m", "albert_mlm", "fill-mask",
         "the [MASK] of the united states."],
        capture_output=True, text=True, timeout=300,
        env=quiet_free_environment(XDG_CACHE_HOME=str(tmp_path / "cache")),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "the [MASK] of the united states."
    assert lines[1].startswith("  [MASK] 1: ")
    assert lines[1].count("(0.") + lines[1].count("(1.") == 5


_PROBE = """
import json, sys
import albert_mlm
loaded = {"import": sorted(m for m in HEAVY if m in sys.modules)}
from albert_mlm.cli import main
for args in (["--help"], ["fill-mask", "--help"], ["pretrain", "--help"],
             ["convert", "--help"]):
    try:
        main(args)
    except SystemExit as exit_info:
        loaded[" ".join(args) + " exit"] = exit_info.code
    loaded[" ".join(args)] = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps(loaded))
"""


def test_help_and_import_load_neither_tensorflow_nor_keras():
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY_MODULES!r}\n" + _PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env=quiet_free_environment(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    *help_lines, probe = result.stdout.splitlines()
    loaded = json.loads(probe)
    assert "usage: albert-mlm fill-mask" in "\n".join(help_lines)
    assert loaded["import"] == []
    for args in ("--help", "fill-mask --help", "pretrain --help", "convert --help"):
        assert loaded[args + " exit"] == 0
        assert loaded[args] == [], f"{args} imported {loaded[args]}"
