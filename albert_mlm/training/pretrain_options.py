"""The settings of a pretraining run, each with its default and help, once.

`albert-mlm pretrain` builds its options from these fields (`cli.py`), and a
run records them in `pretraining.json`.

>>> PretrainOptions(corpus=["texts/*.txt"], out="my_albert").sequence_length
128
"""

import dataclasses

ARCHITECTURE_NAMES = ("tiny", "base", "large", "extra_large", "extra_extra_large")
DTYPES = ("float32", "mixed_bfloat16", "bfloat16")


def _option(default, help, **cli):
    """A field with its command-line help (and argparse settings: `choices`,
    `metavar`, `exclusive_group`; `cli=False` keeps it off the command line)."""
    return dataclasses.field(default=default, metadata={"help": help, **cli})


@dataclasses.dataclass
class PretrainOptions:
    corpus: list = _option(
        dataclasses.MISSING,
        "text files or glob patterns, one text per line",
        metavar="FILE_OR_GLOB",
    )
    out: str = _option(dataclasses.MISSING, "output preset directory", metavar="DIR")
    vocab_size: int = _option(
        8000, "pieces in the SentencePiece vocabulary trained on the corpus"
    )
    vocab: str | None = _option(
        None,
        "an existing SentencePiece model to use instead of training one",
        metavar="SPM",
        exclusive_group="source",
    )
    preset: str | None = _option(
        None,
        "start from this preset's weights and vocabulary",
        exclusive_group="source",
    )
    architecture: str = _option(
        "tiny",
        "a built-in model size",
        choices=ARCHITECTURE_NAMES,
        exclusive_group="shape",
    )
    config: str | None = _option(
        None,
        "a JSON file of AlbertBackbone arguments, instead of --architecture",
        metavar="JSON",
        exclusive_group="shape",
    )
    sequence_length: int = _option(128, "tokens per training sequence")
    batch_size: int = _option(32, "sequences per training step")
    epochs: int | None = _option(
        None,
        "passes over the corpus (1 when neither this nor --steps is given)",
        exclusive_group="length",
    )
    steps: int | None = _option(
        None, "training steps, instead of --epochs", exclusive_group="length"
    )
    resume: bool = _option(False, "continue the run in --out from its last checkpoint")
    dtype: str = _option("float32", "the model's dtype policy", choices=DTYPES)
    learning_rate: float = _option(5e-4, "Adam's learning rate")
    holdout_every: int = _option(
        20, "hold out every N-th line for evaluation", metavar="N"
    )
    checkpoint_every: int = _option(
        200, "write a checkpoint (and a training-log row) every N steps", metavar="N"
    )
    evaluation_batches: int = _option(
        50, "held-out batches evaluated at each checkpoint", cli=False
    )
    seed: int = _option(0, "random seed of shuffling, masking and initialisation")
