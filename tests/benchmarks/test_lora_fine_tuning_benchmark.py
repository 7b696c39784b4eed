"""benchmarks/lora_fine_tuning.py's `--tiny` dry run: both modes' workers,
run in this process (a subprocess each would spend its time importing), and
the table."""

import json
import sys

import keras
import pytest
from helpers import tool_module


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the benchmark runs on tensorflow by default; once per suite is enough",
)
def test_tiny_workers_record_both_modes(tmp_path, monkeypatch, capsys):
    with tool_module("../benchmarks/lora_fine_tuning") as benchmark:
        monkeypatch.setattr(
            sys, "argv", ["lora_fine_tuning.py", "--tiny", "--rank", "4"]
        )
        args = benchmark.parse_args()
        args.workdir = str(tmp_path)
        results = {}
        for mode in benchmark.MODES:
            args.worker = mode
            benchmark.run_worker(args)
            results[mode] = json.loads((tmp_path / f"{mode}.json").read_text())
            results[mode]["status"] = "ok"
        benchmark.print_table({"results": results})
    full, lora = results["full"], results["lora"]
    # The tiny backbone's one shared block: query and value, rank 4, hidden 32.
    assert lora["trainable_parameters"] == 2 * 4 * (32 + 32)
    assert lora["trainable_bytes"] == 4 * lora["trainable_parameters"]
    assert full["trainable_parameters"] > 10 * lora["trainable_parameters"]
    # Adam keeps two moments per trainable float, and a few counters.
    for result in (full, lora):
        assert 2 * result["trainable_bytes"] <= result["optimizer_state_bytes"]
        assert result["optimizer_state_bytes"] < 2 * result["trainable_bytes"] + 64
        assert result["step_median_seconds"] > 0 and result["peak_rss_mib"] > 0
    assert "| lora | 512 | 0.01 |" in capsys.readouterr().out
