"""The model configuration all three implementations are built from.

The shapes come from `albert_mlm.architectures`, and transformers'
`AlbertConfig` arguments from `albert_mlm.presets.transformers_checkpoint`.
Both are imported without running `albert_mlm/__init__.py`, which imports
keras and TensorFlow. Every process reads the configuration: the parent
(already for `--architecture`'s choices) and each worker. A worker's peak RSS
is reported as its implementation's own, and keras with TensorFlow would add
about 500 MiB to the transformers worker, which needs only PyTorch; the parent
stays quick to start and holds no framework while the workers run.
"""

import functools
import importlib
import sys
import types
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shipped tiny model uses `albert-mlm pretrain`'s default vocabulary size;
# the published sizes use ALBERT's 30000.
TINY_VOCABULARY_SIZE = 8000
PUBLISHED_VOCABULARY_SIZE = 30000


def model_config(args):
    """`AlbertBackbone` arguments (ours and KerasHub's) for `--architecture`."""
    config = dict(_pretraining_architectures()[args.architecture])
    config["vocabulary_size"] = args.vocabulary_size or (
        TINY_VOCABULARY_SIZE
        if args.architecture == "tiny"
        else PUBLISHED_VOCABULARY_SIZE
    )
    return config


def architecture_names():
    return list(_pretraining_architectures())


def transformers_config_arguments(config):
    """`AlbertConfig` keyword arguments matching `model_config`'s arguments.

    The library's own mapping: `gelu_new`, `layer_norm_eps=1e-12`, and the
    configuration's dropout (0) for the attention probabilities too.
    """
    checkpoint = _import_without_keras("albert_mlm.presets.transformers_checkpoint")
    return checkpoint.transformers_config(config)


@functools.cache
def _pretraining_architectures():
    module = _import_without_keras("albert_mlm.architectures")
    return module.PRETRAINING_ARCHITECTURES


def _import_without_keras(module_name):
    """A module of this checkout's `albert_mlm`, as if its __init__ were empty.

    Only for modules that import no keras themselves. Where the albert_mlm
    worker has imported the real package already, that one is used.
    """
    if "albert_mlm" in sys.modules:
        return importlib.import_module(module_name)
    bare_package = types.ModuleType("albert_mlm")
    bare_package.__path__ = [str(REPO_ROOT / "albert_mlm")]
    sys.modules["albert_mlm"] = bare_package
    try:
        return importlib.import_module(module_name)
    finally:
        # Forget the bare package and its submodules, so that a later
        # `import albert_mlm` (the albert_mlm worker's) runs the real __init__.
        loaded = [name for name in sys.modules if name.split(".")[0] == "albert_mlm"]
        for name in loaded:
            del sys.modules[name]
