"""ALBERT masked-language modelling for Keras 3, with KerasHub's API."""

from albert_mlm.architectures import ARCHITECTURES
from albert_mlm.models.albert_backbone import AlbertBackbone
from albert_mlm.models.albert_masked_lm import AlbertMaskedLM
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor
from albert_mlm.text.albert_tokenizer import AlbertTokenizer
from albert_mlm.version import __version__

__all__ = [
    "ARCHITECTURES",
    "AlbertBackbone",
    "AlbertMaskedLM",
    "AlbertMaskedLMPreprocessor",
    "AlbertTokenizer",
    "__version__",
]
