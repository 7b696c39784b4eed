"""`albert-mlm pretrain` (`albert_mlm.training.pretrain`), run as a user would: in a
subprocess. Interrupted, resumed, evaluated, converted; and its failures."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import (
    documents_corpus,
    pretrain_args,
    quiet_free_environment,
    run_cli,
    run_cli_in_process,
)

from albert_mlm import AlbertMaskedLM
from albert_mlm.datasets.corpus_documents import document_lines


def test_pretrain_resume_evaluate_and_convert(corpus, tmp_path):
    # ALBERT's recipe: its data pipeline holds generator iterators.
    corpus = documents_corpus(corpus, tmp_path)
    recipe = ("--recipe", "albert")
    out = tmp_path / "model"
    # Interrupt a long run once its first checkpoint exists.
    process = subprocess.Popen(
        [sys.executable, "-m", "albert_mlm",
         *pretrain_args(corpus, out, "--steps", "2000", "--checkpoint-every", "2",
                        *recipe)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=quiet_free_environment(),  # A user's shell: TensorFlow's logs on.
    )  # fmt: skip
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if (out / "checkpoints").is_dir():
            break
        time.sleep(0.5)
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0
    # One line, saying how to go on; nothing from TensorFlow at exit.
    assert len(stderr.strip().splitlines()) == 1, stderr[-3000:]
    assert "--resume" in stderr
    assert (out / "checkpoints").is_dir()

    # A non-empty --out without --resume is refused; with it the run finishes.
    code, _, stderr = run_cli_in_process(
        *pretrain_args(corpus, out, "--steps", "4", *recipe)
    )
    assert code != 0 and "--resume" in stderr
    resumed = run_cli(*pretrain_args(corpus, out, "--steps", "6", "--resume", *recipe))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "held-out masked-token top-1" in resumed.stdout
    training, held_out = (
        sum(1 for _ in document_lines([str(corpus)], "documents", 20, split))
        for split in (False, True)
    )
    assert (
        f"Corpus: {training:,} training lines, {held_out:,} held-out lines "
        "(every 20th document)"
    ) in resumed.stdout
    metadata = json.loads((out / "metadata.json").read_text())
    for key in ("top1", "top5", "unigram_top1", "unigram_top5"):
        assert 0 <= metadata["pretraining"][key] <= 1
    assert not (out / "checkpoints").exists()
    assert (out / "training_log.csv").read_text().count("\n") >= 2

    # The other commands read the run's preset (in this process: no start-up).
    code, stdout, stderr = run_cli_in_process(
        "evaluate", "--preset", out, "--corpus", corpus
    )
    assert code == 0, stderr
    assert "top-1" in stdout

    converted = tmp_path / "converted"
    code, _, stderr = run_cli_in_process("convert", out, converted)
    assert code == 0, stderr
    assert (converted / "config.json").read_text() == (out / "config.json").read_text()


def test_max_minutes_stops_saves_and_resumes_to_the_full_run(corpus, tmp_path):
    """Past `--max-minutes` a run stops at the end of its log interval, saves
    a preset of the steps trained so far, keeps its checkpoint, and `--resume`
    finishes with the weights of a run that was never stopped."""
    steps = ("--steps", "6", "--checkpoint-every", "2", "--evaluation-batches", "1")
    stopped_out, full_out = tmp_path / "stopped", tmp_path / "full"
    # 0.0001 minutes pass before the first step ends.
    code, stdout, stderr = run_cli_in_process(
        *pretrain_args(corpus, stopped_out, *steps, "--max-minutes", "0.0001")
    )
    assert code == 0, stderr[-3000:]
    assert "Stopped at step 1 of 6" in stdout and "--resume" in stdout
    metadata = json.loads((stopped_out / "metadata.json").read_text())
    assert metadata["pretraining"]["steps"] == 1
    assert sorted(os.listdir(stopped_out / "checkpoints")) == [
        "step-000000001.weights.h5"
    ]
    stopped_weights = AlbertMaskedLM.from_preset(str(stopped_out)).get_weights()

    code, stdout, stderr = run_cli_in_process(
        *pretrain_args(corpus, stopped_out, *steps, "--resume")
    )
    assert code == 0, stderr[-3000:]
    assert "Resuming from step 1 of 6." in stdout and "Stopped" not in stdout
    assert not (stopped_out / "checkpoints").exists()
    code, _, stderr = run_cli_in_process(*pretrain_args(corpus, full_out, *steps))
    assert code == 0, stderr[-3000:]

    resumed = AlbertMaskedLM.from_preset(str(stopped_out)).get_weights()
    full = AlbertMaskedLM.from_preset(str(full_out)).get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(stopped_weights, full))
    for ours, theirs in zip(resumed, full):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    metadata = json.loads((stopped_out / "metadata.json").read_text())
    assert metadata["pretraining"]["steps"] == 6


@pytest.mark.parametrize(
    "make_problem, message",
    [
        (lambda tmp, corpus: ["--corpus", str(tmp / "missing.txt")], "does not exist"),
        (lambda tmp, corpus: ["--corpus", str(tmp / "*.none")], "No corpus file"),
        (lambda tmp, corpus: ["--corpus", str(_empty(tmp))], "is empty"),
        (lambda tmp, corpus: ["--vocab-size", "5000"], "too small"),
        (lambda tmp, corpus: ["--out", str(_file(tmp) / "sub")], "Cannot write"),
    ],
)
def test_pretrain_failures_are_one_line_errors(corpus, tmp_path, make_problem, message):
    args = list(pretrain_args(corpus, tmp_path / "out", "--steps", "2"))
    problem = make_problem(tmp_path, corpus)
    flag = problem[0]
    args[args.index(flag) + 1] = problem[1]
    result = run_cli(*args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _empty(directory):
    path = directory / "empty.txt"
    path.write_text("")
    return path


def _file(directory):
    path = directory / "a_file"
    path.write_text("x")
    return path
