"""The `albert-mlm` command line, run as a user would: in a subprocess."""

import json
import os
import subprocess
import sys

import pytest
from helpers import CLI_ENVIRONMENT, KERAS_HUB_DIR, run_cli


def test_help_on_every_subcommand(capsys):
    from albert_mlm.cli import build_parser

    for command in ("fill-mask", "pretrain", "evaluate", "convert", "presets"):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: albert-mlm " + command in capsys.readouterr().out
    result = run_cli("--help")
    assert result.returncode == 0 and "fill-mask" in result.stdout


def test_fill_mask_prints_candidates_per_mask():
    preset = str(KERAS_HUB_DIR / "groups2_inner2")
    result = run_cli("fill-mask", "the [MASK] sat on the [MASK].", "--preset", preset,
                     "--top-k", "3", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert len(entry["masks"]) == 2
    for candidates in entry["masks"]:
        assert len(candidates) == 3
        probabilities = [c["probability"] for c in candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1


def test_presets_lists_built_in_presets():
    result = run_cli("presets")
    assert result.returncode == 0, result.stderr
    assert "albert_base_en_uncased" in result.stdout
    assert "11.68M" in result.stdout


def test_python_dash_m_and_console_script_agree(tmp_path):
    # The console script `pip install` puts beside the interpreter, and
    # `python -m albert_mlm`: the same output and exit status, success (0),
    # an error of the command (1) and a usage error (2) alike.
    script = os.path.join(os.path.dirname(sys.executable), "albert-mlm")
    missing = str(tmp_path / "missing.txt")
    cases = {
        ("--help",): 0,
        ("presets",): 0,
        ("fill-mask", "--file", missing): 1,
        ("fill-mask", "--top-k", "zero", "a [MASK]."): 2,
    }
    for args, code in cases.items():
        module = run_cli(*args)
        console = subprocess.run(
            [script, *args],
            capture_output=True,
            text=True,
            timeout=300,
            env=CLI_ENVIRONMENT,
        )
        assert module.returncode == console.returncode == code, args
        assert module.stdout == console.stdout, args
        assert module.stderr == console.stderr, args
        assert (module.stdout if code == 0 else module.stderr).strip(), args
