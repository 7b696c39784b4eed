"""The recipes' optimizers (`albert_mlm.training.recipes`): LAMB with ALBERT's
warm-up and decay, weight decay that spares layer norms and biases, gradient
accumulation, the `line` recipe's constant Adam; and what a run records."""

import json

import keras
import numpy as np
import pytest
from helpers import (
    CORPUS_OBJECTS,
    CORPUS_SUBJECTS,
    CORPUS_VERBS,
    TINY_BACKBONE,
    pretrain_args,
    run_cli,
)

from albert_mlm import AlbertBackbone
from albert_mlm.models.albert_pretrainer import AlbertPreTrainer
from albert_mlm.training.checkpoints import checkpoint_path
from albert_mlm.training.pretrain_options import PretrainOptions
from albert_mlm.training.recipes import make_optimizer, resolved
from albert_mlm.training.run_directory import restore_checkpoint
from albert_mlm.training.schedules import WarmupPolynomialDecay

# The choices each recipe makes when left to it, written out here rather than
# read from `RECIPE_DEFAULTS`. ALBERT's: Lan et al., 2019 (section 4.1: LAMB,
# learning rate 0.00176; n-gram masking with n up to 3, sentence-order
# prediction) and google-research/albert (`create_pretraining_data.py`:
# segment pairs from documents, `ngram=3`, `short_seq_prob=0.1`;
# `optimization.py`: `weight_decay_rate=0.01`).
ALBERT_RECIPE = {
    "packing": "documents",
    "mask_strategy": "ngram",
    "max_ngram": 3,
    "short_seq_prob": 0.1,
    "sentence_order": "on",
    "optimizer": "lamb",
    "learning_rate": 0.00176,
    "weight_decay": 0.01,
}
# The `line` recipe, albert_mlm's first (`albert-mlm pretrain --help`): one
# line per sequence, single tokens masked, Adam at 5e-4 without weight decay.
LINE_RECIPE = {
    "packing": "none",
    "mask_strategy": "token",
    "sentence_order": "off",
    "optimizer": "adam",
    "learning_rate": 5e-4,
    "weight_decay": 0.0,
}


def _options(**settings):
    return resolved(PretrainOptions(corpus=["unused.txt"], out="unused", **settings))


def _learning_rate_at(optimizer, step):
    optimizer.iterations.assign(step)
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


@pytest.mark.parametrize(
    "recipe, expected", [("albert", ALBERT_RECIPE), ("line", LINE_RECIPE)]
)
def test_each_recipe_resolves_to_its_published_choices(recipe, expected):
    options = _options(recipe=recipe)
    assert {key: getattr(options, key) for key in expected} == expected


# === The albert recipe: LAMB, warm-up and linear decay ===


def test_albert_recipe_trains_with_lamb_warmup_and_linear_decay():
    total_steps = 400
    options = _options(recipe="albert")
    optimizer = make_optimizer(options, total_steps)
    assert isinstance(optimizer, keras.optimizers.Lamb)
    assert isinstance(optimizer._learning_rate, WarmupPolynomialDecay)
    assert optimizer.weight_decay == pytest.approx(0.01)

    peak = options.learning_rate
    assert peak == pytest.approx(0.00176)
    warmup = 10  # 2.5% of the steps, as ALBERT's 3,125 of 125,000.

    def expected(step):
        # Linear warm-up from 0, then linear decay from the peak, counted
        # from step 0, reaching 0 at the last step.
        if step < warmup:
            return peak * step / warmup
        return peak * max(0.0, 1 - step / total_steps)

    steps = {
        "start": 0,
        "mid warm-up": warmup // 2,
        "end of warm-up": warmup,
        "half-way decay": (warmup + total_steps) // 2,
        "end": total_steps,
        "after the end": total_steps + 50,
    }
    for where, step in steps.items():
        assert _learning_rate_at(optimizer, step) == pytest.approx(
            expected(step), rel=1e-5, abs=1e-9
        ), where
    assert _learning_rate_at(optimizer, warmup // 2) == pytest.approx(peak / 2)
    assert _learning_rate_at(optimizer, total_steps) == 0.0


def test_line_recipe_keeps_adam_at_a_constant_rate():
    options = _options()
    optimizer = make_optimizer(options, total_steps=400)
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert not isinstance(optimizer, keras.optimizers.Lamb)
    assert optimizer.weight_decay is None
    assert optimizer.clipnorm == 1.0
    rates = [_learning_rate_at(optimizer, step) for step in (0, 5, 200, 400)]
    assert rates == pytest.approx([5e-4] * 4)


# === Weight decay ===


def test_weight_decay_spares_layer_norms_and_biases():
    """A step with zero gradients: LAMB's own update is then 0, so what moves
    a variable is weight decay alone."""
    learning_rate, weight_decay = 0.5, 0.1
    options = _options(
        recipe="albert",
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        warmup_steps=0,  # The peak rate from step 0.
    )
    model = AlbertPreTrainer(AlbertBackbone(**TINY_BACKBONE), compile=False)
    variables = model.trainable_variables
    optimizer = make_optimizer(options, total_steps=100)
    optimizer.build(variables)
    before = [keras.ops.convert_to_numpy(v) for v in variables]
    optimizer.apply_gradients([(keras.ops.zeros(v.shape), v) for v in variables])

    decayed, spared = set(), set()
    for variable, value in zip(variables, before):
        after = keras.ops.convert_to_numpy(variable)
        if np.array_equal(after, value):
            spared.add(variable.name)
        else:
            np.testing.assert_allclose(
                after, value * (1 - learning_rate * weight_decay), rtol=1e-6
            )
            decayed.add(variable.name)
    # ALBERT's exclusions: "LayerNorm" and "bias" (the MLM head's output
    # bias included).
    assert spared == {"gamma", "beta", "bias", "output_bias"}
    assert decayed == {"embeddings", "kernel"}


# === Gradient accumulation ===


def _regression(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    return model


def test_accumulated_steps_update_once_as_one_large_batch():
    accumulate, batch = 4, 2
    rng = np.random.default_rng(0)
    x = rng.normal(size=(accumulate * batch, 3)).astype("float32")
    y = rng.normal(size=(accumulate * batch, 2)).astype("float32")

    def trained(accumulation_steps, batch_size, rows):
        options = _options(
            learning_rate=0.1, gradient_accumulation_steps=accumulation_steps
        )
        model = _regression()
        model.compile(optimizer=make_optimizer(options, total_steps=10), loss="mse")
        start = model.get_weights()
        model.fit(x[rows], y[rows], batch_size=batch_size, shuffle=False, verbose=0)
        return model, start

    # N - 1 small batches: gradients accumulated, no update yet.
    model, start = trained(accumulate, batch, slice(0, (accumulate - 1) * batch))
    for after, before in zip(model.get_weights(), start):
        np.testing.assert_array_equal(after, before)

    # N small batches update once, as one batch N times larger does.
    accumulated, start = trained(accumulate, batch, slice(None))
    large, _ = trained(1, accumulate * batch, slice(None))
    assert int(accumulated.optimizer.iterations) == 1  # Updates, not batches.
    for after, expected, before in zip(
        accumulated.get_weights(), large.get_weights(), start
    ):
        assert not np.allclose(after, before)
        np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-7)


def test_a_checkpoint_of_accumulated_steps_resumes(tmp_path):
    """`optimizer.iterations` counts updates, not steps: a run with gradient
    accumulation resumes from its checkpoint (it was refused as foreign)."""
    accumulate, steps = 2, 6
    options = _options(learning_rate=0.1, gradient_accumulation_steps=accumulate)
    model = _regression()
    model.compile(optimizer=make_optimizer(options, total_steps=10), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(steps, 3)).astype("float32")
    y = rng.normal(size=(steps, 2)).astype("float32")
    model.fit(x, y, batch_size=1, shuffle=False, verbose=0)
    model.save_weights(checkpoint_path(str(tmp_path), steps))

    resumed = _regression(seed=1)
    resumed.compile(optimizer=make_optimizer(options, total_steps=10), loss="mse")
    assert restore_checkpoint(resumed, str(tmp_path)) == steps
    assert int(resumed.optimizer.iterations) == steps // accumulate
    for after, expected in zip(resumed.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(after, expected)


# === What a run records ===


@pytest.fixture(scope="module")
def documents_corpus(tmp_path_factory):
    """Documents of three sentences, a blank line between them."""
    rng = np.random.default_rng(0)

    def sentence():
        return (
            f"{rng.choice(CORPUS_SUBJECTS)} {rng.choice(CORPUS_VERBS)} "
            f"{rng.choice(CORPUS_OBJECTS)}."
        )

    documents = ["\n".join(sentence() for _ in range(3)) for _ in range(60)]
    path = tmp_path_factory.mktemp("documents") / "documents.txt"
    path.write_text("\n\n".join(documents) + "\n")
    return path


@pytest.mark.skipif(
    keras.backend.backend() != "torch",
    reason="what a run records is the same on every backend: one suite checks it",
)
def test_albert_run_records_every_resolved_choice(documents_corpus, tmp_path):
    out = tmp_path / "run"
    overrides = {
        "mask_strategy": "whole_word",
        "learning_rate": 0.003,
        "weight_decay": 0.02,
        "max_ngram": 2,
        "short_seq_prob": 0.2,
        "gradient_accumulation_steps": 2,
    }
    flags = [
        item
        for key, value in overrides.items()
        for item in (f"--{key.replace('_', '-')}", str(value))
    ]
    result = run_cli(
        *pretrain_args(
            documents_corpus, out, "--recipe", "albert", "--steps", "4", *flags
        )
    )
    assert result.returncode == 0, result.stderr[-3000:]

    recorded = json.loads((out / "pretraining.json").read_text())
    assert recorded["recipe"] == "albert"
    for key, value in ALBERT_RECIPE.items():
        assert recorded[key] == overrides.get(key, value), key
    for key, value in overrides.items():
        assert recorded[key] == value, key
    assert recorded["warmup_steps"] == 1  # 2.5% of 4 steps, at least 1.
    assert recorded["steps"] == 4 and recorded["sequence_length"] == 16
    # The run trained what it recorded: a pretrainer, with sentence order.
    task = json.loads((out / "task.json").read_text())
    assert task["class_name"] == "AlbertPreTrainer"
    assert task["config"]["preprocessor"]["config"]["mask_strategy"] == "whole_word"
