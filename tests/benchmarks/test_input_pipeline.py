"""benchmarks/input_pipeline.py: its arithmetic by hand, the model rates it
reads from results files, and a `--tiny` run end to end."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import (
    sentence_documents,
    tool_module,
)

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks/input_pipeline.py"


@pytest.fixture(scope="module")
def pipeline():
    with tool_module("../benchmarks/input_pipeline") as module:
        yield module


def test_cores_and_pipelines_needed_by_hand(pipeline):
    # 51,200 tokens/s at length 512 are 100 sequences/s; at 40 a core, 2.5
    # cores; pipelines that pack at most 30 sequences/s each: 4 of them.
    assert pipeline.cores_needed(51_200, 512, 40) == pytest.approx(2.5)
    assert pipeline.pipelines_needed(51_200, 512, 30) == 4
    assert pipeline.pipelines_needed(51_200, 512, 50) == 2


def test_per_core_divides_by_the_cpus_and_the_cpu_used(pipeline):
    result = {
        "cpus_allowed": 2,
        "sequences_per_second": 300.0,
        "tokens_per_second": 30_000.0,
        "sequences": {"per_second": 300.0, "process_cores": 1.5},
    }
    assert pipeline.per_core(result) == {
        "sequences_per_second": 150.0,
        "tokens_per_second": 15_000.0,
        "sequences_per_cpu_second": 200.0,
        "tokens_per_cpu_second": 20_000.0,
    }


def test_batch_counts_count_real_tokens_pairs_and_masks(pipeline):
    x = {"padding_mask": np.array([[1, 1, 1, 0], [1, 1, 0, 0]])}
    weights = {
        "sentence_order": np.array([1.0, 0.0]),
        "masked_lm": np.array([[1.0, 0.0], [1.0, 1.0]]),
    }
    assert pipeline.batch_counts(x, weights) == {
        "sequences": 2,
        "real_tokens": 5,
        "sentence_order_pairs": 1,
        "masked_tokens": 3,
    }


def _write_result(path, architecture, length, train_tokens_per_second):
    report = {
        "setup": {
            "architecture": architecture,
            "sequence_length": length,
            "precision": "float32",
            "batch_size": 8,
        },
        "implementations": {
            "albert_mlm": {
                "status": "ok",
                "train_tokens": {"per_second": train_tokens_per_second},
            }
        },
    }
    path.write_text(json.dumps(report))


def test_model_rates_take_the_fastest_base_run_at_the_length(pipeline, tmp_path):
    _write_result(tmp_path / "slow.json", "base", 128, 500.0)
    _write_result(tmp_path / "fast.json", "base", 128, 800.0)
    _write_result(tmp_path / "tiny.json", "tiny", 128, 9_000.0)
    _write_result(tmp_path / "long.json", "base", 512, 900.0)
    (tmp_path / "other.json").write_text(json.dumps({"results": {}}))
    assumed, measured = pipeline.model_rates(128, tmp_path)
    assert measured["tokens_per_second"] == 800.0
    assert measured["model"].startswith("fast.json")
    assert assumed["tokens_per_second"] > measured["tokens_per_second"]
    [only_assumed] = pipeline.model_rates(256, tmp_path)
    assert only_assumed["model"] == assumed["model"]


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """The JSON and stdout of a `--tiny` run on a corpus of 30 documents of
    four sentences each."""
    if keras.backend.backend() != "tensorflow":
        # tf.data whatever the backend: one suite runs it.
        pytest.skip("the input pipeline is tf.data on every backend")
    directory = tmp_path_factory.mktemp("input_pipeline")
    corpus = sentence_documents(directory / "train.txt")
    out = directory / "input_pipeline.json"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--corpus", str(corpus)]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(out.read_text()), completed.stdout


def test_tiny_run_limits_one_core_and_frees_all(tiny_report):
    report, _ = tiny_report
    runs = report["results"]["32"]
    one, every = runs["one"], runs["all"]
    assert one["status"] == every["status"] == "ok", runs
    assert one["cpus_allowed"] == 1
    assert one["intra_op_threads"] == one["inter_op_threads"] == 1
    assert one["private_threadpool_size"] == one["max_intra_op_parallelism"] == 1
    assert every["cpus_allowed"] == len(os.sched_getaffinity(0))
    assert every["private_threadpool_size"] is None


def test_tiny_run_measures_packed_masked_pairs(tiny_report):
    report, stdout = tiny_report
    for setting in ("one", "all"):
        run = report["results"]["32"][setting]
        assert run["tokens_per_second"] > 0
        assert run["sequences_per_second"] > 0
        # Packed four-sentence documents: mostly real tokens, mostly pairs.
        assert 0.5 < run["real_token_fraction"] <= 1
        assert run["sentence_order_pair_fraction"] > 0.5
        # N-gram masking fills at most ceil(0.15 x 32) = 5 slots.
        assert 0 < run["masked_tokens_per_sequence"] <= 5
    one = report["results"]["32"]["one"]
    assert one["packing_alone"]["per_second"] > 0
    assert one["packing_share_of_cpu"] > 0
    [assumed] = report["results"]["32"]["cores_per_model"]
    assert assumed["cores_needed"] > 0
    assert assumed["pipelines_needed"] >= 1
    assert "| 32 | 1 |" in stdout
