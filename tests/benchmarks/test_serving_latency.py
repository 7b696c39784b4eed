"""benchmarks/serving_latency.py runs end to end (`--tiny`, tensorflow)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks/serving_latency.py"


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the tensorflow suite runs it"
)
def test_tiny_run_writes_latencies(tmp_path):
    out = tmp_path / "serving.json"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads(out.read_text())["results"]
    assert results["export_seconds"] > 0
    for size in (1, 4):
        batch = results[f"batch_{size}"]
        assert batch["fill_mask"]["median_seconds"] > 0
        assert batch["saved_model"]["median_seconds"] > 0
        assert batch["top1_ids_equal"] is True
    assert "| 4 |" in completed.stdout
