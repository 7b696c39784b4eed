"""`from_preset`: build our classes from any preset handle.

`open_preset` resolves a handle to a directory (see `handles.py`), checks its
symbolic links, reads `config.json` and returns the reader of its format: the
first of `PRESET_READERS` that `matches` it. The loaders receive the class to
build (and find its parts on it: `backbone_cls`, `preprocessor_cls`,
`tokenizer_cls`), ask the reader for arguments and weights, and return an
object built and filled, so a failed load leaves nothing half-made behind.

`load_weights=False` reads no weight file: a backbone or task keeps its fresh
initialisation. Every `from_preset` takes it; a tokenizer or preprocessor has
no weights, so for them it changes nothing.

>>> from albert_mlm import AlbertBackbone
>>> load_backbone(AlbertBackbone, "albert_tiny_en_uncased").num_layers
4
"""

import os

from albert_mlm.argument_checks import constructor_arguments
from albert_mlm.presets import keras_hub_config as hub
from albert_mlm.presets.handles import check_links, preset_root, resolve_preset
from albert_mlm.presets.keras_hub_preset import KerasHubPreset
from albert_mlm.presets.registry import BUILT_IN_PRESETS
from albert_mlm.presets.transformers_checkpoint import TransformersCheckpoint

# The formats `open_preset` asks, in order; the first that `matches` reads the
# preset. KerasHub's, the one we write, answers for any directory, so it comes
# last, and its own checks say what a broken preset lacks.
PRESET_READERS = [TransformersCheckpoint, KerasHubPreset]


def open_preset(preset):
    """The reader of the preset behind a handle, in the format it is in."""
    name = str(preset)
    directory = resolve_preset(preset)
    check_links(directory, preset_root(directory), name)
    config = None
    if os.path.isfile(os.path.join(directory, hub.CONFIG_FILE)):
        config = hub.read_json(directory, hub.CONFIG_FILE, name)
    for reader_cls in PRESET_READERS:
        if reader_cls.matches(directory, config):
            return reader_cls(name, directory, config)
    formats = ", ".join(reader_cls.__name__ for reader_cls in PRESET_READERS)
    raise ValueError(f"Preset {name!r} is in none of the formats read: {formats}.")


def _overridable(cls, skip=()):
    return [name for name in constructor_arguments(cls) if name not in skip]


def _reject_unknown(overrides, allowed, what):
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise TypeError(f"Unexpected arguments for {what}: {unknown}.")


def _split(overrides, names):
    """Pop the entries of `overrides` named in `names` into a new dict."""
    return {name: overrides.pop(name) for name in list(overrides) if name in names}


def _build_backbone(backbone_cls, reader, overrides):
    arguments = reader.backbone_arguments(backbone_cls)
    try:
        return backbone_cls(**{**arguments, **overrides})
    except (TypeError, ValueError) as error:
        changed = f" with overrides {sorted(overrides)}" if overrides else ""
        raise ValueError(
            f"config.json of preset {reader.name!r}{changed} does not describe "
            f"a valid {backbone_cls.__name__}: {error}"
        ) from None


def _build_tokenizer(tokenizer_cls, reader, overrides):
    arguments = reader.tokenizer_arguments(tokenizer_cls)
    vocabulary = reader.vocabulary_path()
    try:
        return tokenizer_cls(**{**arguments, **overrides, "proto": vocabulary})
    except ValueError as error:
        raise ValueError(
            f"{os.path.relpath(vocabulary, reader.directory)} of preset "
            f"{reader.name!r} is not a usable ALBERT vocabulary: {error}"
        ) from None


def _build_preprocessor(preprocessor_cls, reader, overrides):
    arguments = reader.preprocessor_arguments(preprocessor_cls)
    tokenizer = _build_tokenizer(preprocessor_cls.tokenizer_cls, reader, {})
    return preprocessor_cls(tokenizer, **{**arguments, **overrides})


def load_backbone(backbone_cls, preset, load_weights=True, **overrides):
    _reject_unknown(overrides, _overridable(backbone_cls), backbone_cls.__name__)
    if preset in BUILT_IN_PRESETS and not load_weights:
        return backbone_cls(**{**BUILT_IN_PRESETS[preset]["architecture"], **overrides})
    reader = open_preset(preset)
    backbone = _build_backbone(backbone_cls, reader, overrides)
    if load_weights:
        reader.load_backbone_weights(backbone)
    return backbone


def preset_vocabulary(preset):
    """The SentencePiece model file of any preset handle `from_preset` takes."""
    return open_preset(preset).vocabulary_path()


def load_tokenizer(tokenizer_cls, preset, load_weights=True, **overrides):
    allowed = _overridable(tokenizer_cls, skip=("proto",))
    _reject_unknown(overrides, allowed, tokenizer_cls.__name__)
    return _build_tokenizer(tokenizer_cls, open_preset(preset), overrides)


def load_preprocessor(preprocessor_cls, preset, load_weights=True, **overrides):
    allowed = _overridable(preprocessor_cls, skip=("tokenizer",))
    _reject_unknown(overrides, allowed, preprocessor_cls.__name__)
    return _build_preprocessor(preprocessor_cls, open_preset(preset), overrides)


def load_task(task_cls, preset, load_weights=True, **overrides):
    """A task (`AlbertMaskedLM`) from a preset.

    `preprocessor=None` skips the preprocessor; the preprocessor's arguments
    (`sequence_length=`, ...) go to it, the task's own to the task, and the
    backbone's (`dtype=`, ...) to the backbone.
    """
    with_preprocessor = overrides.pop("preprocessor", "from preset")
    if with_preprocessor not in (None, "from preset"):
        raise ValueError("`preprocessor` may only be None (to skip it) in from_preset.")
    preprocessor_cls = task_cls.preprocessor_cls
    preprocessor_overrides = _split(
        overrides, _overridable(preprocessor_cls, skip=("tokenizer",))
    )
    head_overrides = _split(
        overrides, _overridable(task_cls, skip=("backbone", "preprocessor"))
    )
    backbone_cls = task_cls.backbone_cls
    _reject_unknown(overrides, _overridable(backbone_cls), task_cls.__name__)

    needs_files = load_weights or with_preprocessor is not None
    if preset in BUILT_IN_PRESETS and not needs_files:
        backbone = load_backbone(backbone_cls, preset, load_weights=False, **overrides)
        return task_cls(backbone, None, **head_overrides)

    reader = open_preset(preset)
    backbone = _build_backbone(backbone_cls, reader, overrides)
    preprocessor = None
    if with_preprocessor is not None:
        preprocessor = _build_preprocessor(
            preprocessor_cls, reader, preprocessor_overrides
        )
        _check_vocabulary_fits(reader, preprocessor.tokenizer, backbone)
    head_arguments = reader.head_arguments(task_cls)
    task = task_cls(backbone, preprocessor, **{**head_arguments, **head_overrides})
    if load_weights:
        reader.load_task_weights(task)
    return task


def _check_vocabulary_fits(reader, tokenizer, backbone):
    """Token ids past the embedding would index outside it (silently clamped
    on some backends)."""
    if tokenizer.vocabulary_size() > backbone.vocabulary_size:
        raise ValueError(
            f"Preset {reader.name!r}: its vocabulary has "
            f"{tokenizer.vocabulary_size()} pieces but config.json's "
            f"vocabulary_size (the token embedding) is only "
            f"{backbone.vocabulary_size}; expected at least as many embedding "
            "rows as vocabulary pieces."
        )
