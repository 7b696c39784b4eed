"""`albert-mlm pretrain` (`albert_mlm.training.pretrain`), run as a user would: in a
subprocess. Interrupted, resumed, evaluated, converted; and its failures."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import pretrain_args, run_cli


def test_pretrain_resume_evaluate_and_convert(corpus, tmp_path):
    out = tmp_path / "model"
    # Interrupt a long run once its first checkpoint exists.
    process = subprocess.Popen(
        [sys.executable, "-m", "albert_mlm",
         *pretrain_args(corpus, out, "--steps", "400", "--checkpoint-every", "2")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
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
    assert "--resume" in stderr and "Traceback" not in stderr
    assert (out / "checkpoints").is_dir()

    # A non-empty --out without --resume is refused; with it the run finishes.
    refused = run_cli(*pretrain_args(corpus, out, "--steps", "4"))
    assert refused.returncode != 0 and "--resume" in refused.stderr
    resumed = run_cli(*pretrain_args(corpus, out, "--steps", "6", "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "held-out masked-token top-1" in resumed.stdout
    metadata = json.loads((out / "metadata.json").read_text())
    for key in ("top1", "top5", "unigram_top1", "unigram_top5"):
        assert 0 <= metadata["pretraining"][key] <= 1
    assert not (out / "checkpoints").exists()
    assert (out / "training_log.csv").read_text().count("\n") >= 2

    evaluated = run_cli("evaluate", "--preset", str(out), "--corpus", str(corpus))
    assert evaluated.returncode == 0, evaluated.stderr
    assert "top-1" in evaluated.stdout

    converted = tmp_path / "converted"
    result = run_cli("convert", str(out), str(converted))
    assert result.returncode == 0, result.stderr
    assert (converted / "config.json").read_text() == (out / "config.json").read_text()


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
