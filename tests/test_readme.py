"""README's first command and Quick start run as pasted, from any directory."""

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _python_block(heading):
    """The first ```python block after `## heading` in README.md."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(f"## {heading}\n") :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def _run_python(code, directory):
    """`code` run by a fresh interpreter in `directory`, checked to succeed."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_quick_start_runs_from_another_directory(tmp_path):
    code = _python_block("Quick start")
    assert "tests/data" not in code  # A pip user has no tests/ folder.
    _run_python(code, tmp_path)


def test_setup_command_fills_a_mask_with_the_shipped_preset(tmp_path):
    # The first set-up command ends with this fill-mask call.
    text = README.read_text(encoding="utf-8")
    call = re.search(r'albert-mlm (fill-mask "[^"]*")', text).group(1)
    text_argument = re.search(r'"([^"]*)"', call).group(1)
    result = subprocess.run(
        [sys.executable, "-m", "albert_mlm", "fill-mask", text_argument],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[MASK] 1:" in result.stdout


def test_fill_mask_and_score_examples_run_from_another_directory(tmp_path):
    code = _python_block("Filling masks and scoring sentences")
    result = _run_python(code, tmp_path)
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 1 + 2 + 2  # Candidates, targets, 2 fillings, 2 scores.
