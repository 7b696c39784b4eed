"""The training curve draws what the log holds: a pretrainer's total loss
beside its masked-LM part, and both accuracies."""

import csv

import pytest

from albert_mlm.training.training_curve import plot_training_curve

pytest.importorskip("matplotlib")


def _write_log(path, columns):
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, ["epoch", *columns])
        writer.writeheader()
        for epoch in range(3):
            writer.writerow({"epoch": epoch, **{c: 1.0 / (epoch + 1) for c in columns}})


def test_a_pretrainer_log_shows_the_masked_lm_loss_beside_the_total(tmp_path):
    objectives = ["loss", "masked_lm_loss", "masked_lm_accuracy"]
    objectives += ["sentence_order_accuracy"]
    _write_log(tmp_path / "log.csv", objectives + ["val_" + c for c in objectives])
    lines = plot_training_curve(tmp_path / "log.csv", tmp_path / "curve.png", 150)
    assert lines["loss"] == [
        "train",
        "held out",
        "masked LM, train",
        "masked LM, held out",
    ]
    assert lines["accuracy"] == [
        "train",
        "held out",
        "sentence order, train",
        "sentence order, held out",
    ]
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_a_masked_lm_log_without_validation_draws_its_own_two_lines(tmp_path):
    _write_log(tmp_path / "log.csv", ["loss", "sparse_categorical_accuracy"])
    lines = plot_training_curve(tmp_path / "log.csv", tmp_path / "curve.png")
    assert lines == {"loss": ["train"], "accuracy": ["train"]}


def test_an_empty_log_draws_nothing(tmp_path):
    (tmp_path / "log.csv").write_text("epoch,loss\n")
    assert plot_training_curve(tmp_path / "log.csv", tmp_path / "curve.png") == {}
    assert not (tmp_path / "curve.png").exists()
