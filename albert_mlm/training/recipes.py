"""The two pretraining recipes, and the optimizer each one trains with.

- `line`: one line per padded sequence, single tokens masked, Adam at a
  constant rate (clipped gradients): the first recipe of `albert-mlm pretrain`.
- `albert`: ALBERT's own (Lan et al., 2019; google-research/albert): segment
  pairs packed from documents, n-gram masking, sentence-order prediction,
  LAMB with weight decay (never of layer norms and biases), a linear warm-up
  over 2.5% of the steps and a linear decay to 0 (3,125 of 125,000 steps in
  the paper), peak rate 0.00176.

Every choice can be overridden one by one (`PretrainOptions`); the run
records the resolved ones in `pretraining.json`.

>>> from albert_mlm.training.pretrain_options import PretrainOptions
>>> options = resolved(PretrainOptions(corpus=["a.txt"], out="o", recipe="albert"))
>>> options.packing, options.mask_strategy, options.optimizer
('documents', 'ngram', 'lamb')
"""

import dataclasses

import keras

from albert_mlm.training.schedules import WarmupPolynomialDecay

RECIPE_DEFAULTS = {
    "line": {
        "packing": "none",
        "mask_strategy": "token",
        "sentence_order": "off",
        "optimizer": "adam",
        "learning_rate": 5e-4,
        "weight_decay": 0.0,
    },
    "albert": {
        "packing": "documents",
        "mask_strategy": "ngram",
        "sentence_order": "on",
        "optimizer": "lamb",
        "learning_rate": 0.00176,
        "weight_decay": 0.01,
    },
}
# ALBERT's warm-up: 3,125 of 125,000 steps.
ALBERT_WARMUP_FRACTION = 0.025
# Variables weight decay leaves alone, by name: layer norms and biases.
_NOT_DECAYED = ["gamma", "beta", "bias"]


def resolved(options):
    """`options` with each choice left to the recipe (`None`) made."""
    defaults = dict(RECIPE_DEFAULTS[options.recipe])
    if options.packing == "lines":
        if options.sentence_order == "on":
            raise ValueError(
                "`sentence_order='on'` needs documents of several sentences; "
                "with packing='lines' every line is a document of one. Use "
                "packing='documents' (a blank line between documents)."
            )
        defaults["sentence_order"] = "off"
    options = dataclasses.replace(
        options,
        **{
            key: value
            for key, value in defaults.items()
            if getattr(options, key) is None
        },
    )
    if options.sentence_order == "on" and options.packing == "none":
        raise ValueError(
            "`sentence_order='on'` needs segment pairs: choose a packing, "
            "`documents` or `lines`. Received: packing='none'"
        )
    return options


def warmup_steps(options, total_steps):
    """The warm-up of a run of `total_steps` steps (`None`: a constant rate)."""
    if options.warmup_steps is not None:
        return options.warmup_steps
    if options.recipe == "albert":
        return max(1, round(ALBERT_WARMUP_FRACTION * total_steps))
    return None


def make_optimizer(options, total_steps):
    """The optimizer and learning-rate schedule of resolved `options`."""
    warmup = warmup_steps(options, total_steps)
    learning_rate = options.learning_rate
    if warmup is not None:
        learning_rate = WarmupPolynomialDecay(
            options.learning_rate, warmup_steps=warmup, decay_steps=total_steps
        )
    settings = {
        "learning_rate": learning_rate,
        "weight_decay": options.weight_decay or None,
        "gradient_accumulation_steps": (
            options.gradient_accumulation_steps
            if options.gradient_accumulation_steps > 1
            else None
        ),
    }
    if options.optimizer == "lamb":
        optimizer = keras.optimizers.Lamb(**settings)
    else:
        optimizer = keras.optimizers.Adam(clipnorm=1.0, **settings)
    if settings["weight_decay"]:
        optimizer.exclude_from_weight_decay(var_names=_NOT_DECAYED)
    return optimizer
