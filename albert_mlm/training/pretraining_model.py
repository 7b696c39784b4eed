"""The model a pretraining run trains: built fresh, or loaded to continue.

>>> from albert_mlm.training.pretrain_options import PretrainOptions
>>> from albert_mlm.training.recipes import resolved
>>> options = resolved(PretrainOptions(corpus=["unused"], out="unused",
...     recipe="albert", preset="albert_tiny_en_uncased", sequence_length=64))
>>> model = build_model(options, files=[], log=print)  # doctest: +ELLIPSIS
Model and vocabulary: from albert_tiny_en_uncased.
>>> type(model).__name__, model.preprocessor.mask_strategy
('AlbertPreTrainer', 'ngram')

The preset's 5 prediction slots at length 32 become 10 at length 64: the same
share of each sequence is masked.

>>> model.preprocessor.mask_selection_length
10
"""

import json
import math

from albert_mlm.architectures import PRETRAINING_ARCHITECTURES
from albert_mlm.models.albert_backbone import AlbertBackbone
from albert_mlm.models.albert_masked_lm import AlbertMaskedLM
from albert_mlm.models.albert_pretrainer import AlbertPreTrainer
from albert_mlm.text.albert_masked_lm_preprocessor import AlbertMaskedLMPreprocessor
from albert_mlm.text.albert_tokenizer import AlbertTokenizer
from albert_mlm.training.vocabulary import train_vocabulary


class PretrainError(RuntimeError):
    """A pretraining failure with a one-line, actionable message."""


def build_model(options, files, log):
    """The task model and its preprocessor: fresh, from --preset, or saved by
    a run; an `AlbertPreTrainer` when sentence order is learnt."""
    task_cls = AlbertPreTrainer if options.sentence_order == "on" else AlbertMaskedLM
    masking = {"mask_strategy": options.mask_strategy, "max_ngram": options.max_ngram}
    if options.resume or options.preset:
        source = options.out if options.resume else options.preset
        log(f"Model and vocabulary: from {source}.")
        return task_cls.from_preset(
            source,
            sequence_length=options.sequence_length,
            mask_selection_length=_prediction_slots(source, options.sequence_length),
            dtype=options.dtype,
            **masking,
        )
    if options.config:  # Read first: a bad file fails before minutes of work.
        architecture = _read_config(options.config)
    else:
        architecture = dict(PRETRAINING_ARCHITECTURES[options.architecture])
    if options.vocab:
        tokenizer = AlbertTokenizer(options.vocab)
        log(f"Vocabulary: {tokenizer.vocabulary_size()} pieces from {options.vocab}.")
    else:
        log(f"Vocabulary: training {options.vocab_size} SentencePiece pieces...")
        tokenizer = AlbertTokenizer(train_vocabulary(files, options.vocab_size))
    architecture["vocabulary_size"] = tokenizer.vocabulary_size()
    architecture["max_sequence_length"] = max(
        architecture.get("max_sequence_length", 512), options.sequence_length
    )
    try:
        backbone = AlbertBackbone(**architecture, dtype=options.dtype)
    except TypeError as error:
        raise PretrainError(
            f"--config {options.config!r} does not describe an AlbertBackbone: {error}"
        ) from None
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=options.sequence_length,
        mask_selection_length=max(1, math.ceil(options.sequence_length * 0.15)),
        **masking,
    )
    return task_cls(backbone, preprocessor)


def _prediction_slots(preset, sequence_length):
    """The preset's prediction slots per sequence (`mask_selection_length`),
    scaled to `sequence_length`, so that a run at another length masks the
    same share of tokens (5 slots at length 32 are 20 at 128)."""
    stored = AlbertMaskedLMPreprocessor.from_preset(preset)
    if stored.sequence_length == sequence_length:
        return stored.mask_selection_length
    slots = stored.mask_selection_length * sequence_length
    return max(1, -(-slots // stored.sequence_length))  # Rounded up.


def _read_config(path):
    """The `AlbertBackbone` arguments in the JSON file `--config` names."""
    try:
        with open(path, encoding="utf-8") as file:
            architecture = json.load(file)
    except OSError as error:
        raise PretrainError(
            f"Cannot read --config {path!r}: {error.strerror}."
        ) from None
    except (ValueError, RecursionError) as error:
        raise PretrainError(
            f"--config {path!r} is not valid JSON ({type(error).__name__}: "
            f"{str(error)[:100]})."
        ) from None
    if not isinstance(architecture, dict):
        raise PretrainError(
            f"--config {path!r} must hold a JSON object of AlbertBackbone "
            f"arguments. Received a {type(architecture).__name__}."
        )
    return architecture
