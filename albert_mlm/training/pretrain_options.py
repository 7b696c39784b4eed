"""The settings of a pretraining run, each with its default and help, once.

`albert-mlm pretrain` builds its options from these fields (`cli/`), a run
records them in `pretraining.json`, and they are checked when created, from
Python or from the command line.

>>> PretrainOptions(corpus=["texts/*.txt"], out="my_albert").sequence_length
128
>>> PretrainOptions(corpus=["texts/*.txt"], out="my_albert", steps=0)
Traceback (most recent call last):
ValueError: `steps` must be a positive integer. Received: steps=0
"""

import dataclasses
import math

from albert_mlm.argument_checks import require_choice, require_positive_int

ARCHITECTURE_NAMES = ("tiny", "base", "large", "extra_large", "extra_extra_large")
DTYPES = ("float32", "mixed_bfloat16", "bfloat16")
# Five special pieces and at least one piece of text.
MIN_VOCABULARY_SIZE = 6


def _option(default, help, **cli):
    """A field with its command-line help and argparse settings (`choices`,
    `metavar`, `minimum`, `exclusive_group`; `cli=False` keeps it off the
    command line)."""
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
        8000,
        "pieces in the SentencePiece vocabulary trained on the corpus",
        minimum=MIN_VOCABULARY_SIZE,
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
    sequence_length: int = _option(128, "tokens per training sequence", minimum=3)
    batch_size: int = _option(32, "sequences per training step", minimum=1)
    epochs: int | None = _option(
        None,
        "passes over the corpus (1 when neither this nor --steps is given)",
        exclusive_group="length",
        minimum=1,
    )
    steps: int | None = _option(
        None, "training steps, instead of --epochs", exclusive_group="length", minimum=1
    )
    resume: bool = _option(False, "continue the run in --out from its last checkpoint")
    dtype: str = _option("float32", "the model's dtype policy", choices=DTYPES)
    learning_rate: float = _option(5e-4, "Adam's learning rate", minimum=0)
    holdout_every: int = _option(
        20, "hold out every N-th line for evaluation", metavar="N", minimum=2
    )
    checkpoint_every: int = _option(
        200,
        "write a checkpoint and a training-log row every N steps (more often "
        "in a run of fewer than 20 N steps, so its curve has 20 points)",
        metavar="N",
        minimum=1,
    )
    evaluation_batches: int = _option(
        50, "held-out batches evaluated at each checkpoint", cli=False, minimum=1
    )
    seed: int = _option(0, "random seed of shuffling, masking and initialisation")

    def __post_init__(self):
        if isinstance(self.corpus, str):
            self.corpus = [self.corpus]
        if not self.corpus or not all(isinstance(p, str) for p in self.corpus):
            raise ValueError(
                "`corpus` must be a list of file names or glob patterns. "
                f"Received: corpus={self.corpus!r:.80}"
            )
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            minimum = field.metadata.get("minimum")
            if value is None or minimum is None:
                continue
            if float in getattr(field.type, "__args__", (field.type,)):
                if not (isinstance(value, int | float) and math.isfinite(value)):
                    raise ValueError(
                        f"`{field.name}` must be a finite number. "
                        f"Received: {field.name}={value!r}"
                    )
                if value <= minimum:
                    raise ValueError(
                        f"`{field.name}` must be greater than {minimum}. "
                        f"Received: {field.name}={value!r}"
                    )
            elif minimum == 1:
                require_positive_int(field.name, value)
            elif require_positive_int(field.name, value) < minimum:
                raise ValueError(
                    f"`{field.name}` must be at least {minimum}. "
                    f"Received: {field.name}={value!r}"
                )
        require_choice("architecture", self.architecture, ARCHITECTURE_NAMES)
        require_choice("dtype", self.dtype, DTYPES)
