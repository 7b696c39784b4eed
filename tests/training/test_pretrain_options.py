"""`PretrainOptions` (`training/pretrain_options.py`) refuses each impossible
setting with a `ValueError` naming the field, and `albert-mlm pretrain`
(`cli/pretrain_command.py`) rejects the same values on its command line
before anything runs."""

import math

import pytest
from helpers import run_cli_in_process

from albert_mlm.training.pretrain_options import PretrainOptions

REQUIRED = {"corpus": ["texts/*.txt"], "out": "my_albert"}


def test_defaults_are_accepted():
    options = PretrainOptions(**REQUIRED)
    assert options.corpus == ["texts/*.txt"]
    assert options.vocab_size == 8000 and options.holdout_every == 20


@pytest.mark.parametrize(
    "field, value",
    [
        ("steps", 0),
        ("steps", -5),
        ("epochs", 0),
        ("batch_size", 0),
        ("holdout_every", 1),
        ("holdout_every", 0),
        ("vocab_size", 5),
        ("sequence_length", 2),
        ("checkpoint_every", 0),
        ("learning_rate", 0),
        ("learning_rate", math.nan),
        ("learning_rate", -1),
        ("learning_rate", math.inf),
        ("max_minutes", 0),
        ("max_minutes", -1.5),
        ("max_minutes", math.nan),
        ("architecture", "huge"),
        ("dtype", "float8"),
        ("corpus", ""),
        ("corpus", [""]),
        ("corpus", []),
        ("corpus", [3]),
    ],
)
def test_impossible_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError) as info:
        PretrainOptions(**{**REQUIRED, field: value})
    assert f"`{field}`" in str(info.value)


@pytest.mark.parametrize(
    "field, value", [("steps", 1), ("holdout_every", 2), ("vocab_size", 6)]
)
def test_the_smallest_allowed_values_are_accepted(field, value):
    assert getattr(PretrainOptions(**{**REQUIRED, field: value}), field) == value


@pytest.mark.parametrize(
    "option, value",
    [
        ("--steps", "0"),
        ("--epochs", "0"),
        ("--holdout-every", "0"),
        ("--holdout-every", "1"),
        ("--batch-size", "0"),
        ("--vocab-size", "5"),
        ("--learning-rate", "0"),
        ("--learning-rate", "nan"),
        ("--architecture", "huge"),
    ],
)
def test_command_line_rejects_impossible_values(tmp_path, option, value):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli_in_process(
        "pretrain", "--corpus", tmp_path / "corpus.txt", "--out", out, option, value
    )
    # Refused by argparse (exit 2) or by PretrainOptions (exit 1), naming it.
    assert code in (1, 2)
    assert option in stderr or f"`{option[2:].replace('-', '_')}`" in stderr
    assert "Traceback" not in stderr
    assert not out.exists()
