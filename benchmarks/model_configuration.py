"""The model configuration all three implementations are built from.

The shapes come from `albert_mlm.architectures`, and transformers'
`AlbertConfig` arguments from `albert_mlm.presets.transformers_checkpoint`.
Neither imports keras or TensorFlow (the package imports its classes only on
first use). Every process reads the configuration: the parent (already for
`--architecture`'s choices) and each worker. A worker's peak RSS is reported
as its implementation's own, and keras with TensorFlow would add about
500 MiB to the transformers worker, which needs only PyTorch; the parent
stays quick to start and holds no framework while the workers run.
"""

import functools
import importlib
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# This checkout's albert_mlm, installed or not.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
# The shipped tiny model uses `albert-mlm pretrain`'s default vocabulary size;
# the published sizes use ALBERT's 30000.
TINY_VOCABULARY_SIZE = 8000
PUBLISHED_VOCABULARY_SIZE = 30000
# `--tiny`: every architecture shrunk to this, for a smoke test in seconds.
SMOKE_TEST_SHAPE = {
    "num_layers": 2,
    "num_heads": 2,
    "embedding_dim": 16,
    "hidden_dim": 32,
    "intermediate_dim": 64,
    "vocabulary_size": 1000,
}


def model_config(args):
    """`AlbertBackbone` arguments (ours and KerasHub's) for `--architecture`
    (shrunk with `--tiny`)."""
    config = dict(_pretraining_architectures()[args.architecture])
    smoke_test = getattr(args, "tiny", False)
    if smoke_test:
        config.update(SMOKE_TEST_SHAPE)
    if args.vocabulary_size:
        config["vocabulary_size"] = args.vocabulary_size
    elif args.architecture == "tiny" and not smoke_test:
        config["vocabulary_size"] = TINY_VOCABULARY_SIZE
    return config


def architecture_names():
    return list(_pretraining_architectures())


def transformers_config_arguments(config):
    """`AlbertConfig` keyword arguments matching `model_config`'s arguments.

    The library's own mapping: `gelu_new`, `layer_norm_eps=1e-12`, and the
    configuration's dropout (0) for the attention probabilities too.
    """
    checkpoint = importlib.import_module("albert_mlm.presets.transformers_checkpoint")
    return checkpoint.transformers_config(config)


@functools.cache
def _pretraining_architectures():
    module = importlib.import_module("albert_mlm.architectures")
    return module.PRETRAINING_ARCHITECTURES
