"""benchmarks/inference_throughput.py runs end to end (`--tiny`, tensorflow).

Without `--reference-python` the transformers pipeline is skipped, with the
reason in the JSON, so this passes where transformers is not installed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks/inference_throughput.py"


def test_tiny_run_writes_positive_throughputs(tmp_path):
    out = tmp_path / "inference.json"
    command = [sys.executable, str(SCRIPT), "--tiny", "--backend", "tensorflow"]
    completed = subprocess.run(
        [*command, "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads(out.read_text())["results"]
    ours = results["tensorflow"]
    assert ours["status"] == "ok", ours
    assert ours["fill_mask_texts"]["per_second"] > 0
    assert ours["score_texts"]["per_second"] > 0
    assert ours["score_pieces_per_second"] > 0
    assert results["transformers"] == {
        "status": "skipped",
        "reason": "no --reference-python given",
    }
    assert "| tensorflow |" in completed.stdout
