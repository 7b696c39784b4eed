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

from albert_mlm.argument_checks import (
    require_choice,
    require_positive_int,
    require_rate,
)
from albert_mlm.text.mask_generator import MASK_STRATEGIES

ARCHITECTURE_NAMES = ("tiny", "base", "large", "extra_large", "extra_extra_large")
DTYPES = ("float32", "mixed_bfloat16", "bfloat16")
RECIPES = ("line", "albert")
PACKINGS = ("none", "documents", "lines")
OPTIMIZERS = ("adam", "lamb")
# Five special pieces and at least one piece of text.
MIN_VOCABULARY_SIZE = 6


def _option(default, help, **cli):
    """A field with its command-line help and settings: argparse's (`choices`,
    `metavar`), its bounds (`minimum` for an integer, `above` or `at_least`
    for a number, `rate` for one in [0, 1]), `exclusive_group`, and
    `cli=False` to keep it off the command line."""
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
        "start from this preset's weights and vocabulary (at another "
        "--sequence-length its prediction slots per sequence scale with it)",
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
    recipe: str = _option(
        "line",
        "the pretraining recipe: `line` (one line per padded sequence, token "
        "masking, Adam: the first albert_mlm recipe) or `albert` (ALBERT's: "
        "packed document segments, n-gram masking, sentence-order prediction, "
        "LAMB with warm-up and decay); the options below that say 'the "
        "recipe's' default to its choice",
        choices=RECIPES,
    )
    packing: str | None = _option(
        None,
        "how text fills sequences: `none` (one line each), `documents` "
        "(ALBERT's segment pairs from documents, a blank line between them) or "
        "`lines` (the same, each line a document) (default: the recipe's)",
        choices=PACKINGS,
    )
    short_seq_prob: float = _option(
        0.1, "with packing, the share of sequences given a shorter length", rate=True
    )
    mask_strategy: str | None = _option(
        None,
        "which tokens are masked, one of %(choices)s (see `MaskGenerator`) "
        "(default: the recipe's)",
        choices=MASK_STRATEGIES,  # The table itself: a strategy added is a choice.
    )
    max_ngram: int = _option(
        3, "longest n-gram, in words, of `ngram` masking", minimum=1
    )
    sentence_order: str | None = _option(
        None,
        "train sentence-order prediction too (`on` needs packing) (default: the "
        "recipe's)",
        choices=("on", "off"),
    )
    optimizer: str | None = _option(
        None, "`adam` or `lamb` (default: the recipe's)", choices=OPTIMIZERS
    )
    learning_rate: float | None = _option(
        None,
        "the peak learning rate (default: the recipe's, 5e-4 for `line`, "
        "0.00176 for `albert`)",
        above=0,
    )
    warmup_steps: int | None = _option(
        None,
        "steps of linear warm-up, after which the rate decays linearly to 0 "
        "(default: the recipe's, none for `line` (a constant rate), 2.5%% of "
        "the steps for `albert`)",
        minimum=0,
    )
    weight_decay: float | None = _option(
        None,
        "weight decay, never of layer norms and biases (default: the recipe's, "
        "0 for `line`, 0.01 for `albert`)",
        at_least=0,
    )
    gradient_accumulation_steps: int = _option(
        1,
        "steps whose gradients are summed before each update, for an effective "
        "batch larger than memory allows",
        minimum=1,
    )
    max_minutes: float | None = _option(
        None,
        "stop after this many minutes (of the whole run, at the end of the "
        "training-log interval that passes them), evaluate and save the preset, "
        "and keep the checkpoint: --resume continues the run (default: no limit)",
        metavar="MINUTES",
        above=0,
    )
    holdout_every: int = _option(
        20,
        "hold out every N-th line for evaluation (every N-th document when "
        "documents are packed)",
        metavar="N",
        minimum=2,
    )
    checkpoint_every: int = _option(
        200,
        "write a checkpoint and a training-log row every N steps (log rows "
        "more often in a run of fewer than 20 N steps, so its curve has about "
        "20 points)",
        metavar="N",
        minimum=1,
    )
    evaluation_batches: int = _option(
        50,
        "held-out batches evaluated at each training-log row",
        metavar="N",
        minimum=1,
    )
    seed: int = _option(0, "random seed of shuffling, masking and initialisation")
    devices: int | None = _option(
        None,
        "train data-parallel on the first N devices of each process (default: "
        "every accelerator it sees, or its CPU); --batch-size stays the global "
        "batch",
        metavar="N",
        minimum=1,
    )
    virtual_devices: int | None = _option(
        None,
        "split the CPU into N devices, to try a distributed run without "
        "accelerators (JAX, TensorFlow)",
        metavar="N",
        minimum=1,
    )
    model_parallel: int = _option(
        1,
        "JAX: split each large weight over M devices (AlbertBackbone."
        "get_layout_map); the batch is split over the rest",
        metavar="M",
        minimum=1,
    )
    coordinator_address: str | None = _option(
        None,
        "a multi-host run (JAX): HOST:PORT of process 0, the same on every "
        "process (default: $COORDINATOR_ADDRESS)",
        metavar="HOST:PORT",
    )
    num_processes: int | None = _option(
        None,
        "a multi-host run: how many processes take part (default: $NUM_PROCESSES)",
        metavar="P",
        minimum=1,
    )
    process_id: int | None = _option(
        None,
        "a multi-host run: this process's number, 0 to P-1; process 0 writes "
        "the preset (default: $PROCESS_ID)",
        metavar="I",
        minimum=0,
    )
    host_timeout: float = _option(
        300,
        "a multi-host run: seconds to wait for the coordinator at the start, "
        "and after which a lost process stops the others",
        metavar="SECONDS",
        above=0,
    )

    def __post_init__(self):
        if isinstance(self.corpus, str):
            self.corpus = [self.corpus]
        if not self.corpus or not all(isinstance(p, str) and p for p in self.corpus):
            raise ValueError(
                "`corpus` must be a list of file names or glob patterns. "
                f"Received: corpus={self.corpus!r:.80}"
            )
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                _check_bounds(field.name, value, field.metadata)
        for field in dataclasses.fields(self):
            choices = field.metadata.get("choices")
            if choices and getattr(self, field.name) is not None:
                require_choice(field.name, getattr(self, field.name), choices)


def _check_bounds(name, value, metadata):
    """Raise `ValueError` naming `name` unless `value` meets `metadata`'s bounds."""
    if "minimum" in metadata:
        if metadata["minimum"] >= 1:
            require_positive_int(name, value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"`{name}` must be an integer. Received: {name}={value!r:.40}"
            )
        if value < metadata["minimum"]:
            raise ValueError(
                f"`{name}` must be at least {metadata['minimum']}. "
                f"Received: {name}={value!r}"
            )
        return
    if metadata.get("rate"):
        require_rate(name, value)
        return
    if not any(key in metadata for key in ("above", "at_least")):
        return
    if isinstance(value, bool) or not (
        isinstance(value, int | float) and math.isfinite(value)
    ):
        raise ValueError(
            f"`{name}` must be a finite number. Received: {name}={value!r:.40}"
        )
    if "above" in metadata and value <= metadata["above"]:
        raise ValueError(
            f"`{name}` must be greater than {metadata['above']}. "
            f"Received: {name}={value!r}"
        )
    if "at_least" in metadata and value < metadata["at_least"]:
        raise ValueError(
            f"`{name}` must be at least {metadata['at_least']}. "
            f"Received: {name}={value!r}"
        )
