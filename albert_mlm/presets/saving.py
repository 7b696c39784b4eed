"""`save_to_preset`: write KerasHub's directory format, atomically.

Files are written into a temporary directory beside the target, which then
replaces the target in one rename: an error midway leaves no half-written
preset and an existing preset untouched. Saving into an existing preset keeps
its other files (a tokenizer saved into a backbone's preset joins it), and a
non-empty directory that is not a preset is refused.
"""

import os
import shutil
import tempfile

from albert_mlm.presets import keras_hub_preset as hub
from albert_mlm.presets.keras_hub_weights import (
    backbone_weight_entries,
    head_weight_entries,
    write_keras_hub_weights,
)

_PRESET_MARKERS = (
    hub.CONFIG_FILE,
    hub.TASK_FILE,
    hub.PREPROCESSOR_FILE,
    hub.TOKENIZER_FILE,
    hub.METADATA_FILE,
)


def _write_backbone(backbone, directory, extra_metadata=None):
    # Sharded weights from an earlier save would shadow nothing but mislead.
    for name in os.listdir(directory):
        if name == hub.SHARDED_BACKBONE_WEIGHTS_FILE or (
            name.startswith("model_") and name.endswith(".weights.h5")
        ):
            os.remove(os.path.join(directory, name))
    hub.write_json(directory, hub.CONFIG_FILE, hub.backbone_json(backbone))
    metadata = {**hub.metadata_json(backbone), **(extra_metadata or {})}
    hub.write_json(directory, hub.METADATA_FILE, metadata)
    write_keras_hub_weights(
        backbone_weight_entries(backbone),
        os.path.join(directory, hub.BACKBONE_WEIGHTS_FILE),
    )


def _write_tokenizer(tokenizer, directory):
    hub.write_json(directory, hub.TOKENIZER_FILE, hub.tokenizer_json(tokenizer))
    os.makedirs(os.path.join(directory, "assets", "tokenizer"), exist_ok=True)
    tokenizer.save_assets(os.path.join(directory, "assets", "tokenizer"))


def _write_preprocessor(preprocessor, directory):
    hub.write_json(
        directory, hub.PREPROCESSOR_FILE, hub.preprocessor_json(preprocessor)
    )
    _write_tokenizer(preprocessor.tokenizer, directory)


def _write_masked_lm(masked_lm, directory, extra_metadata=None):
    _write_backbone(masked_lm.backbone, directory, extra_metadata)
    hub.write_json(directory, hub.TASK_FILE, hub.task_json(masked_lm))
    write_keras_hub_weights(
        head_weight_entries(masked_lm), os.path.join(directory, hub.TASK_WEIGHTS_FILE)
    )
    if masked_lm.preprocessor is not None:
        _write_preprocessor(masked_lm.preprocessor, directory)


def _save_atomically(write, obj, preset_dir, **write_options):
    target = os.path.abspath(os.fspath(preset_dir))
    existing = []
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise FileExistsError(f"{target!r} exists and is not a directory.")
        existing = os.listdir(target)
        if existing and not any(name in existing for name in _PRESET_MARKERS):
            raise ValueError(
                f"{target!r} is not empty and holds no preset; refusing to write "
                "a preset over it. Choose an empty or new directory."
            )
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", dir=parent)
    try:
        if existing:
            shutil.copytree(target, staging, dirs_exist_ok=True)
        write(obj, staging, **write_options)
        if os.path.exists(target):
            retired = staging + ".old"
            os.rename(target, retired)
            os.rename(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def save_backbone(backbone, preset_dir):
    _save_atomically(_write_backbone, backbone, preset_dir)


def save_tokenizer(tokenizer, preset_dir):
    _save_atomically(_write_tokenizer, tokenizer, preset_dir)


def save_preprocessor(preprocessor, preset_dir):
    _save_atomically(_write_preprocessor, preprocessor, preset_dir)


def save_masked_lm(masked_lm, preset_dir, extra_metadata=None):
    """Save a masked LM; `extra_metadata` entries join `metadata.json`."""
    _save_atomically(
        _write_masked_lm, masked_lm, preset_dir, extra_metadata=extra_metadata
    )
