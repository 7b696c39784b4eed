"""`from_preset`: build our classes from any preset handle.

The directory behind a handle (see `handles.py`) is either a KerasHub preset
(`keras_hub_preset.py`) or a transformers checkpoint
(`transformers_checkpoint.py`); `config.json` tells which. Every object is
built and filled before it is returned, so a failed load leaves nothing
half-made behind. A preset's content is checked before it is used: symbolic
links must stay inside it (see `handles.check_links`), JSON objects must name
our classes, arguments must be valid, weights finite and of the right shapes.
"""

import os

from albert_mlm.presets import keras_hub_preset as hub
from albert_mlm.presets import transformers_checkpoint as hf
from albert_mlm.presets.handles import check_links, preset_root, resolve_preset
from albert_mlm.presets.keras_hub_weights import load_keras_hub_weights
from albert_mlm.presets.registry import BUILT_IN_PRESETS

PREPROCESSOR_ARGUMENTS = hub.ARGUMENTS["AlbertMaskedLMPreprocessor"] - {"tokenizer"}


class _Preset:
    """A resolved preset directory and what its `config.json` says."""

    def __init__(self, preset):
        self.name = str(preset)
        self.directory = resolve_preset(preset)
        check_links(self.directory, preset_root(self.directory), self.name)
        config_path = os.path.join(self.directory, hub.CONFIG_FILE)
        self.config = (
            hub.read_json(self.directory, hub.CONFIG_FILE, self.name)
            if os.path.isfile(config_path)
            else None
        )
        self.is_transformers = hf.is_transformers_config(self.config)
        if self.is_transformers:
            hf.read_transformers_config(self.config, f"Preset {self.name!r}")

    def path(self, file_name):
        path = os.path.join(self.directory, file_name)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Preset {self.name!r} has no {file_name} (looked in {path!r})."
            )
        return path

    def json(self, file_name, class_name):
        serialized = hub.read_json(self.directory, file_name, self.name)
        return hub.unwrap(
            serialized, class_name, f"{file_name} of preset {self.name!r}"
        )

    def backbone_weights(self):
        """`model.weights.h5`, or the index of KerasHub's sharded weights."""
        sharded = os.path.join(self.directory, hub.SHARDED_BACKBONE_WEIGHTS_FILE)
        single = os.path.join(self.directory, hub.BACKBONE_WEIGHTS_FILE)
        if not os.path.isfile(single) and os.path.isfile(sharded):
            return sharded
        return self.path(hub.BACKBONE_WEIGHTS_FILE)

    def backbone_arguments(self):
        if self.config is None:
            self.path(hub.CONFIG_FILE)  # Raises FileNotFoundError.
        source = f"config.json of preset {self.name!r}"
        if not isinstance(self.config, dict):
            raise ValueError(f"{source} is not a JSON object.")
        if self.is_transformers:
            return hf.backbone_arguments(self.config, source)
        return hub.unwrap(self.config, "AlbertBackbone", source)


def _reject_unknown(kwargs, allowed, what):
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"Unexpected arguments for {what}: {unknown}.")


def _backbone(preset, load_weights, overrides):
    from albert_mlm.models.albert_backbone import AlbertBackbone

    arguments = preset.backbone_arguments()
    try:
        backbone = AlbertBackbone(**{**arguments, **overrides})
    except (TypeError, ValueError) as error:
        changed = f" with overrides {sorted(overrides)}" if overrides else ""
        raise ValueError(
            f"config.json of preset {preset.name!r}{changed} does not describe "
            f"a valid AlbertBackbone: {error}"
        ) from None
    if load_weights:
        if preset.is_transformers:
            hf.load_transformers_weights(backbone, preset.directory)
        else:
            load_keras_hub_weights(backbone, preset.backbone_weights())
    return backbone


def _tokenizer(preset, overrides):
    from albert_mlm.text.albert_tokenizer import AlbertTokenizer

    if preset.is_transformers:
        arguments = {"lowercase": hf.tokenizer_lowercase(preset.directory)}
        vocabulary = preset.path(hf.VOCABULARY_FILE)
    else:
        arguments = preset.json(hub.TOKENIZER_FILE, "AlbertTokenizer")
        vocabulary = preset.path(hub.VOCABULARY_PATH)
    try:
        return AlbertTokenizer(proto=vocabulary, **{**arguments, **overrides})
    except ValueError as error:
        raise ValueError(
            f"{os.path.relpath(vocabulary, preset.directory)} of preset "
            f"{preset.name!r} is not a usable ALBERT vocabulary: {error}"
        ) from None


def _preprocessor(preset, overrides):
    from albert_mlm.text.albert_masked_lm_preprocessor import (
        AlbertMaskedLMPreprocessor,
    )

    arguments = {}
    if preset.is_transformers:
        arguments["sequence_length"] = min(
            512, preset.config.get("max_position_embeddings", 512)
        )
    elif os.path.isfile(os.path.join(preset.directory, hub.PREPROCESSOR_FILE)):
        arguments = preset.json(hub.PREPROCESSOR_FILE, "AlbertMaskedLMPreprocessor")
        arguments.pop("tokenizer", None)
    return AlbertMaskedLMPreprocessor(
        _tokenizer(preset, {}), **{**arguments, **overrides}
    )


def _check_vocabulary_fits(preset, tokenizer, backbone):
    """Token ids past the embedding would index outside it (silently clamped
    on some backends)."""
    if tokenizer.vocabulary_size() > backbone.vocabulary_size:
        raise ValueError(
            f"Preset {preset.name!r}: its vocabulary has "
            f"{tokenizer.vocabulary_size()} pieces but config.json's "
            f"vocabulary_size (the token embedding) is only "
            f"{backbone.vocabulary_size}; expected at least as many embedding "
            "rows as vocabulary pieces."
        )


def load_backbone(preset, load_weights=True, **overrides):
    _reject_unknown(overrides, hub.ARGUMENTS["AlbertBackbone"], "AlbertBackbone")
    if preset in BUILT_IN_PRESETS and not load_weights:
        from albert_mlm.models.albert_backbone import AlbertBackbone

        return AlbertBackbone(
            **{**BUILT_IN_PRESETS[preset]["architecture"], **overrides}
        )
    return _backbone(_Preset(preset), load_weights, overrides)


def load_tokenizer(preset, load_weights=True, **overrides):
    _reject_unknown(overrides, {"lowercase"}, "AlbertTokenizer")
    return _tokenizer(_Preset(preset), overrides)


def load_preprocessor(preset, load_weights=True, **overrides):
    _reject_unknown(overrides, PREPROCESSOR_ARGUMENTS, "AlbertMaskedLMPreprocessor")
    return _preprocessor(_Preset(preset), overrides)


def load_masked_lm(preset, load_weights=True, **overrides):
    """`AlbertMaskedLM.from_preset`: `preprocessor=None` skips the preprocessor;
    `dtype=` goes to the backbone; preprocessor arguments such as
    `sequence_length=` go to the preprocessor."""
    from albert_mlm.models.albert_masked_lm import AlbertMaskedLM

    with_preprocessor = overrides.pop("preprocessor", "from preset")
    if with_preprocessor not in (None, "from preset"):
        raise ValueError("`preprocessor` may only be None (to skip it) in from_preset.")
    preprocessor_overrides = {
        k: overrides.pop(k) for k in list(overrides) if k in PREPROCESSOR_ARGUMENTS
    }
    head_overrides = {
        k: overrides.pop(k) for k in list(overrides) if k == "head_layer_norm_epsilon"
    }
    _reject_unknown(overrides, hub.ARGUMENTS["AlbertBackbone"], "AlbertMaskedLM")

    needs_files = load_weights or with_preprocessor is not None
    if preset in BUILT_IN_PRESETS and not needs_files:
        backbone = load_backbone(preset, load_weights=False, **overrides)
        return AlbertMaskedLM(backbone, None, **head_overrides)

    resolved = _Preset(preset)
    backbone = _backbone(resolved, load_weights=False, overrides=overrides)
    preprocessor = None
    if with_preprocessor is not None:
        preprocessor = _preprocessor(resolved, preprocessor_overrides)
    head_arguments = {}
    if resolved.is_transformers:
        head_arguments = hf.masked_lm_arguments(resolved.config)
    elif os.path.isfile(os.path.join(resolved.directory, hub.TASK_FILE)):
        task = resolved.json(hub.TASK_FILE, "AlbertMaskedLM")
        head_arguments = {
            k: v for k, v in task.items() if k == "head_layer_norm_epsilon"
        }
    if preprocessor is not None:
        _check_vocabulary_fits(resolved, preprocessor.tokenizer, backbone)
    masked_lm = AlbertMaskedLM(
        backbone, preprocessor, **{**head_arguments, **head_overrides}
    )
    if load_weights:
        if resolved.is_transformers:
            hf.load_transformers_weights(masked_lm, resolved.directory)
        else:
            task_weights = os.path.join(resolved.directory, hub.TASK_WEIGHTS_FILE)
            if not os.path.isfile(task_weights):
                import warnings

                warnings.warn(
                    f"Preset {resolved.name!r} has no {hub.TASK_WEIGHTS_FILE}; the "
                    "masked-LM head keeps its fresh random initialisation.",
                    stacklevel=3,
                )
                task_weights = None
            load_keras_hub_weights(masked_lm, resolved.backbone_weights(), task_weights)
    return masked_lm
