"""ALBERT masked-language modelling for Keras 3, with KerasHub's API.

The public classes are imported on first use, so `albert-mlm --help` answers
without loading Keras or TensorFlow; TensorFlow's native start-up lines are
filtered when it is (see `native_logs`).

>>> from albert_mlm import AlbertMaskedLM
>>> AlbertMaskedLM.__module__
'albert_mlm.models.albert_masked_lm'
"""

import importlib

from albert_mlm.version import __version__

_EXPORTS = {
    "ARCHITECTURES": "albert_mlm.architectures",
    "AlbertBackbone": "albert_mlm.models.albert_backbone",
    "AlbertMaskedLM": "albert_mlm.models.albert_masked_lm",
    "AlbertMaskedLMPreprocessor": "albert_mlm.text.albert_masked_lm_preprocessor",
    "AlbertPreTrainer": "albert_mlm.models.albert_pretrainer",
    "AlbertTokenizer": "albert_mlm.text.albert_tokenizer",
    "upload_preset": "albert_mlm.presets.upload",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'albert_mlm' has no attribute {name!r}")
    from albert_mlm.native_logs import import_tensorflow_quietly

    import_tensorflow_quietly()
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    # Names itself on the text classes as their `backbone_cls`.
    importlib.import_module("albert_mlm.models.albert_backbone")
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
