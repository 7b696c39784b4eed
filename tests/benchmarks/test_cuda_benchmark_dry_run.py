"""`benchmarks/benchmark.py --device cpu --tiny` runs the device suite end to
end: the prepared `--device cuda` command, its orchestration and JSON lines,
checked on a CPU with only this repository's implementation (KerasHub and
transformers are skipped with a line that says why where they are missing)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "benchmark.py"
SHAPES = {("base", 4, 8), ("base", 1, 32), ("extra_extra_large", 1, 32)}


@pytest.fixture(scope="module")
def suite_lines(tmp_path_factory):
    """The JSON lines of one run on this test run's backend."""
    backend = keras.backend.backend()
    if backend != "torch":
        # The jax suite has no time to spare; the dry run's orchestration is
        # the same for both backends (`benchmark.py --backends jax` runs on
        # the device machine).
        pytest.skip("the torch suite runs the dry run")
    jsonl = tmp_path_factory.mktemp("suite") / "suite.jsonl"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARK), "--device", "cpu", "--tiny",
         "--implementations", "albert_mlm", "--backends", backend,
         "--jsonl", str(jsonl)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "KERAS_BACKEND": backend},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [json.loads(line) for line in jsonl.read_text().splitlines()], completed


def test_every_tiny_configuration_has_positive_throughputs(suite_lines):
    lines, _ = suite_lines
    results = [line for line in lines if line["kind"] == "result"]
    shapes = {
        (line["architecture"], line["batch_size"], line["sequence_length"])
        for line in results
    }
    assert shapes == SHAPES
    for line in results:
        assert line["implementation"] == "albert_mlm"
        assert line["status"] == "ok", line
        assert line["train_tokens_per_second"] > 0
        assert line["predict_tokens_per_second"] > 0
        assert line["train_mfu"] > 0 and line["predict_mfu"] > 0
        assert line["precision"] == "mixed_bfloat16"


def test_the_matmul_ceiling_comes_first(suite_lines):
    lines, _ = suite_lines
    assert lines[0]["kind"] == "ceiling"
    assert lines[0]["gflops"]["bfloat16"] > 0


def test_the_summary_table_is_printed(suite_lines):
    _, completed = suite_lines
    assert "train tok/s" in completed.stdout
    assert "extra_extra_large 1x32" in completed.stdout


@pytest.mark.skipif(
    importlib.util.find_spec("keras_hub") is not None,
    reason="KerasHub is installed here",
)
def test_missing_implementations_are_skipped_with_a_line(tmp_path):
    backend = keras.backend.backend()
    if backend != "torch":
        pytest.skip("the torch suite runs the dry run")
    jsonl = tmp_path / "suite.jsonl"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARK), "--device", "cpu", "--tiny",
         "--implementations", "keras_hub", "--backends", backend,
         "--jsonl", str(jsonl)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "keras_hub not installed, skipped" in completed.stderr
    results = [json.loads(line) for line in jsonl.read_text().splitlines()]
    results = [line for line in results if line["kind"] == "result"]
    assert results and {line["status"] for line in results} == {"skipped"}
