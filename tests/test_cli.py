"""The `albert-mlm` command line, run as a user would: in a subprocess."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import KERAS_HUB_DIR, _pretrain_args, _run


def test_help_on_every_subcommand(capsys):
    from albert_mlm.cli import build_parser

    for command in ("fill-mask", "pretrain", "evaluate", "convert", "presets"):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: albert-mlm " + command in capsys.readouterr().out
    result = _run("--help")
    assert result.returncode == 0 and "fill-mask" in result.stdout


def test_fill_mask_prints_candidates_per_mask():
    preset = str(KERAS_HUB_DIR / "groups2_inner2")
    result = _run("fill-mask", "the [MASK] sat on the [MASK].", "--preset", preset,
                  "--top-k", "3", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert len(entry["masks"]) == 2
    for candidates in entry["masks"]:
        assert len(candidates) == 3
        probabilities = [c["probability"] for c in candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1


def test_pretrain_resume_evaluate_and_convert(corpus, tmp_path):
    out = tmp_path / "model"
    # Interrupt a long run once its first checkpoint exists.
    process = subprocess.Popen(
        [sys.executable, "-m", "albert_mlm",
         *_pretrain_args(corpus, out, "--steps", "400", "--checkpoint-every", "2")],
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
    refused = _run(*_pretrain_args(corpus, out, "--steps", "4"))
    assert refused.returncode != 0 and "--resume" in refused.stderr
    resumed = _run(*_pretrain_args(corpus, out, "--steps", "6", "--resume"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "held-out masked-token top-1" in resumed.stdout
    metadata = json.loads((out / "metadata.json").read_text())
    for key in ("top1", "top5", "unigram_top1", "unigram_top5"):
        assert 0 <= metadata["pretraining"][key] <= 1
    assert not (out / "checkpoints").exists()
    assert (out / "training_log.csv").read_text().count("\n") >= 2

    evaluated = _run("evaluate", "--preset", str(out), "--corpus", str(corpus))
    assert evaluated.returncode == 0, evaluated.stderr
    assert "top-1" in evaluated.stdout

    converted = tmp_path / "converted"
    result = _run("convert", str(out), str(converted))
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
    args = list(_pretrain_args(corpus, tmp_path / "out", "--steps", "2"))
    problem = make_problem(tmp_path, corpus)
    flag = problem[0]
    args[args.index(flag) + 1] = problem[1]
    result = _run(*args)
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


def test_presets_lists_built_in_presets():
    result = _run("presets")
    assert result.returncode == 0, result.stderr
    assert "albert_base_en_uncased" in result.stdout
    assert "11.68M" in result.stdout


def test_python_dash_m_and_console_script_agree():
    # The console script `pip install` puts beside the interpreter.
    script = os.path.join(os.path.dirname(sys.executable), "albert-mlm")
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "fill-mask" in result.stdout
