"""benchmarks/distributed_pretraining.py: step times read from a run's
output, tokens/s and the per-round ratios by hand, the runs' command line,
and a `--tiny` run of every layout of this backend end to end."""

import argparse
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

from albert_mlm.cli.options import add_dataclass_options
from albert_mlm.datasets.corpus import corpus_files
from albert_mlm.training.devices import DeviceLayout
from albert_mlm.training.pretrain_options import PretrainOptions
from albert_mlm.training.pretraining_data import pretraining_data
from albert_mlm.training.pretraining_model import build_model
from albert_mlm.training.recipes import resolved

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks/distributed_pretraining.py"
BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def benchmark():
    with tool_module("../benchmarks/distributed_pretraining") as module:
        yield module


# What a run prints, as its reader receives it: the interval headers of
# `StepProgress`, and Keras' progress bar, redrawn (carriage return, no line
# end) after the last batch and again, with the validation, at the end.
OUTPUT = [
    (0.5, "Corpus: 95 training lines.\n"),
    (1.0, "Steps 1-1 of 6\n"),
    (9.0, "\r\x1b[1m1/1\x1b[0m \x1b[32m━━\x1b[0m 8s 8s/step - loss: 9.9"),
    (9.5, "\b\b\b\r\x1b[1m1/1\x1b[0m ━━ 9s 8s/step - loss: 9.9 - val_loss: 9.8\n"),
    (9.5, "Steps 2-2 of 6\n"),
    (10.0, "\r1/1 ━━ 0s 500ms/step - loss: 9.7"),
    (10.25, "\b\b\r1/1 ━━ 1s 500ms/step - loss: 9.7 - val_loss: 9.6\nSteps 3-"),
    (10.5, "4 of 6\n"),
    (11.0, "\r1/2 ━━ 0s 500ms/step - loss: 9.5"),
    (11.75, "\b\r2/2 ━━ 1s 625ms/step - loss: 9.4"),
    (12.0, "\b\r2/2 ━━ 1s 625ms/step - loss: 9.4 - val_loss: 9.3\n"),
    # Keras skips a redraw within 0.05 s of the last: here the last batch's,
    # so only the one after validation shows that interval's end.
    (12.0, "Steps 5-6 of 6\n"),
    (12.5, "\r1/2 ━━ 0s 500ms/step - loss: 9.2"),
    (14.0, "\b\r2/2 ━━ 1s 500ms/step - loss: 9.1 - val_loss: 9.0\n"),
    (15.0, "Saved out: held-out masked-token top-1 0.100.\n"),
]


def test_timed_segments_time_each_line_or_redraw_where_it_began(benchmark):
    segments = benchmark.timed_segments(OUTPUT)
    # A header split over two pieces is timed by the first; colours removed.
    assert (10.25, "Steps 3-4 of 6") in segments
    assert (9.0, "1/1 ━━ 8s 8s/step - loss: 9.9") in segments
    assert (11.75, "2/2 ━━ 1s 625ms/step - loss: 9.4") in segments
    assert segments[0] == (0.5, "Corpus: 95 training lines.")
    assert len(segments) == 15


def test_step_times_run_from_header_to_the_redraw_before_validation(benchmark):
    segments = benchmark.timed_segments(OUTPUT)
    # Step 2: 9.5 to 10.0. Steps 3-4: 10.25 to the 2/2 redraw at 11.75, over
    # two steps; a 1/2 redraw or a redraw with val_ ends nothing, so steps
    # 5-6 go untimed rather than timed with their validation.
    assert benchmark.step_times(segments, warmup_steps=1) == [
        (2, 2, 0.5),
        (3, 4, 0.75),
    ]
    assert benchmark.step_times(segments, warmup_steps=0)[0] == (1, 1, 8.0)
    assert benchmark.step_times(segments, warmup_steps=2) == [(3, 4, 0.75)]


def test_run_rate_is_mean_real_tokens_over_the_median_step(benchmark):
    times = [(3, 3, 0.5), (4, 4, 0.25), (5, 6, 1.0)]
    tokens_per_step = [999, 999, 100, 120, 110, 130]
    rate = benchmark.run_rate(times, tokens_per_step)
    # Steps 3 to 6 hold (100 + 120 + 110 + 130) / 4 = 115 real tokens; the
    # median of 0.5, 0.25 and 1.0 s is 0.5 s: 230 tokens/s.
    assert rate["timed_steps"] == [3, 4, 5, 6]
    assert rate["real_tokens"] == [100, 120, 110, 130]
    assert rate["median_step_seconds"] == 0.5
    assert rate["real_tokens_per_step"] == 115
    assert rate["tokens_per_second"] == pytest.approx(230)


def _run(tokens_per_second, other=0.5):
    return {
        "status": "ok",
        "tokens_per_second": tokens_per_second,
        "median_step_seconds": 1000 / tokens_per_second,
        "other_processes_cores": other,
    }


def test_summarise_pairs_each_run_with_its_round(benchmark):
    failed = {"status": "failed", "reason": "process 1: lost"}
    rounds = [
        {"1 device": _run(100), "2 processes": _run(90, 0.25)},
        {"1 device": _run(200), "2 processes": _run(190)},
        {"1 device": _run(150), "2 processes": failed},
    ]
    summary = benchmark.summarise(rounds, ["1 device", "2 processes"])
    processes = summary["2 processes"]
    # Ratios within rounds: 0.9 and 0.95, median 0.925 (the ratio of the
    # medians, 140 / 150, would be 0.933).
    assert processes["ratios"] == pytest.approx([0.9, 0.95])
    assert processes["ratio_to_one_device"] == pytest.approx(0.925)
    assert processes["tokens_per_second"] == 140
    assert processes["step_seconds"] == pytest.approx((1000 / 90 + 1000 / 190) / 2)
    assert processes["ok_rounds"] == 2
    assert processes["other_processes_cores"] == 0.375
    assert summary["1 device"]["tokens_per_second"] == 150
    assert summary["1 device"]["ratios"] == [1.0, 1.0, 1.0]


def test_the_command_line_gives_the_options_whose_tokens_are_counted(
    benchmark, tmp_path
):
    parser = argparse.ArgumentParser()
    add_dataclass_options(parser, PretrainOptions)
    for measurement in benchmark.PLAN:
        settings = benchmark.pretrain_settings(measurement, "corpus.txt", tiny=False)
        arguments = benchmark.command_line(settings, tmp_path)
        assert arguments[0] == "pretrain"
        parsed = vars(parser.parse_args(arguments[1:]))
        expected = PretrainOptions(**settings, out=str(tmp_path))
        assert PretrainOptions(**parsed) == expected
        assert expected.architecture == measurement.architecture
        assert expected.recipe == "albert" and expected.evaluation_batches == 1
        # Every step logged (and timed); no checkpoint before the end.
        assert expected.steps <= 20 < expected.checkpoint_every
        assert expected.vocab.endswith(
            "albert_tiny_en_uncased/assets/tokenizer/vocabulary.spm"
        )


def _layouts_of_this_backend(benchmark):
    return {
        name
        for measurement in benchmark.PLAN
        if measurement.backend == BACKEND
        for name in measurement.layouts
    }


def test_every_layout_is_planned_where_it_can_run(benchmark):
    assert (
        _layouts_of_this_backend(benchmark)
        == {
            "jax": {"1 device", "2 virtual devices", "2 processes"},
            "tensorflow": {"1 device", "2 virtual devices"},
            "torch": set(),
        }[BACKEND]
    )
    # Each round's ratios are taken to its first run.
    for measurement in benchmark.PLAN:
        assert measurement.layouts[0] == benchmark.REFERENCE_LAYOUT


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """The JSON and stdout of a `--tiny` run of this backend's tiny
    measurement, on 30 documents of four sentences each."""
    if BACKEND == "torch":
        pytest.skip("pretrain trains on one device only on torch")
    directory = tmp_path_factory.mktemp("distributed_pretraining")
    corpus = sentence_documents(directory / "train.txt")
    out = directory / "distributed_pretraining.json"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--corpus", str(corpus)]
        + ["--backends", BACKEND, "--architectures", "tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(out.read_text()), completed.stdout


def _real_tokens(settings, replicas, steps):
    """Real tokens of training batches `steps` (counted from 1)."""
    options = resolved(PretrainOptions(**settings, out="unused"))
    files = corpus_files(options.corpus)
    keras.utils.set_random_seed(options.seed)  # As `pretrain` does.
    preprocessor = build_model(options, files, log=lambda message: None).preprocessor
    layout = DeviceLayout(BACKEND, devices=replicas)
    data = pretraining_data(options, files, preprocessor, True, layout)
    batches = data.train.take(max(steps)).as_numpy_iterator()
    counts = [x["padding_mask"].sum() for x, _, _ in batches]
    counts = [counts[step - 1] for step in steps]
    # Documents of four short sentences leave padding at their ends.
    assert 0.5 * 8 * 16 < np.mean(counts) < 8 * 16
    return counts


@pytest.mark.extended  # Minutes: it starts every layout's runs.
def test_tiny_run_times_every_layout(benchmark, tiny_report):
    report, stdout = tiny_report
    [result] = report["results"]
    assert result["backend"] == BACKEND
    [runs] = result["rounds"]
    layouts = _layouts_of_this_backend(benchmark)
    assert set(runs) == set(result["summary"]) == layouts
    for name, run in runs.items():
        assert run["status"] == "ok", (name, run)
        # 4 steps, the first untimed, each logged and timed on its own.
        assert run["timed_steps"] == [2, 3, 4]
        assert len(run["step_seconds"]) == 3
        # The real tokens of the timed steps of this layout's global batches.
        replicas = benchmark.LAYOUTS[name].replicas
        expected = _real_tokens(result["pretrain_options"], replicas, [2, 3, 4])
        assert run["real_tokens"] == expected
        assert run["real_tokens_per_step"] == pytest.approx(np.mean(expected))
        assert run["tokens_per_second"] == pytest.approx(
            run["real_tokens_per_step"] / run["median_step_seconds"]
        )
        assert run["run_cores"] > 0
        assert f"| {BACKEND} | tiny | 8 | {name} |" in stdout
    assert result["summary"]["1 device"]["ratio_to_one_device"] == 1.0
    assert result["pretrain_options"]["sequence_length"] == 16
