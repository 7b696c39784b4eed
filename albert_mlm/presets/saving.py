"""`save_to_preset`: write KerasHub's directory format, atomically, losing nothing.

The preset is written into a staging directory that takes the target's place
in one atomic exchange (`atomic_directory.py`): an error or a crash midway
leaves no half-written preset and an existing one untouched, and two
processes saving to one place take turns. Saving into an existing preset
keeps its other files (a tokenizer saved into a backbone's preset joins it).

Refused, with nothing written: a directory that is not recognisably one of
our presets (only preset files, and a `config.json` naming a KerasHub ALBERT
class; anything else there, a transformers checkpoint or a project folder,
could be someone's work); a read-only directory; a preset with symbolic
links to outside it (their targets would be copied in); a backbone saved
over a task preset built on a different backbone (its `task.json` and
`task.weights.h5` would no longer fit); a quantized model (the format holds
float weights); and a save the disk has no room for.

A LoRA-enabled model (`AlbertBackbone.enable_lora`) is saved with each
update merged into its kernel: a plain preset, which any KerasHub loads, and
`from_preset` gives back the fine-tuned model without LoRA.
"""

import json
import os
import re

from albert_mlm.presets import keras_hub_config as hub
from albert_mlm.presets.atomic_directory import replace_atomically, require_free_space
from albert_mlm.presets.handles import check_links
from albert_mlm.presets.keras_hub_weights import (
    backbone_weight_entries,
    head_weight_entries,
    sentence_order_entries,
    write_keras_hub_weights,
)
from albert_mlm.presets.lora_weights import lora_merged, lora_parameter_count
from albert_mlm.quantization import refuse_quantized

# Every file a preset directory may hold: ours, KerasHub's and a pretraining
# run's records (`albert-mlm pretrain`).
PRETRAINING_RECORDS = ("pretraining.json", "training_log.csv", "training_curve.png")
_PRESET_ENTRIES = re.compile(
    r"^(config|task|preprocessor|tokenizer|metadata|pretraining)\.json$"
    r"|^(model|task)\.weights\.h5$|^model\.weights\.json$"
    r"|^model_\d+\.weights\.h5$|^assets$|^checkpoints$"
    r"|^training_log\.csv$|^training_curve\.png$"
)


def _write_backbone(backbone, directory, extra_metadata=None):
    # Sharded weights from an earlier save would shadow nothing but mislead.
    for name in os.listdir(directory):
        if name == hub.SHARDED_BACKBONE_WEIGHTS_FILE or (
            name.startswith("model_") and name.endswith(".weights.h5")
        ):
            os.remove(os.path.join(directory, name))
    hub.write_json(directory, hub.CONFIG_FILE, hub.backbone_json(backbone))
    metadata = {
        **hub.metadata_json(backbone),
        "parameter_count": backbone.count_params() - lora_parameter_count(backbone),
        **(extra_metadata or {}),
    }
    hub.write_json(directory, hub.METADATA_FILE, metadata)
    write_keras_hub_weights(
        lora_merged(backbone_weight_entries(backbone), backbone),
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


def _write_task(task, directory, extra_metadata=None):
    _write_backbone(task.backbone, directory, extra_metadata)
    hub.write_json(directory, hub.TASK_FILE, hub.task_json(task))
    write_keras_hub_weights(
        lora_merged(head_weight_entries(task) + sentence_order_entries(task), task),
        os.path.join(directory, hub.TASK_WEIGHTS_FILE),
    )
    if task.preprocessor is not None:
        _write_preprocessor(task.preprocessor, directory)


def _save(write, obj, preset_dir, replace=False, extra_files=(), **write_options):
    """Write `obj` with `write` into `preset_dir`, atomically.

    `replace` starts from an empty preset instead of the existing one's
    files; `extra_files` are copied in beside what `write` writes.
    """
    refuse_quantized(
        obj,
        "save ... as a preset",
        "the preset format holds",
        "Save it with `model.save('model.keras')`, or save the float model and "
        "quantize it after loading.",
    )

    def check_existing(target):
        check_links(target, target, target)  # Its files are copied over.
        _require_our_preset(target)
        if write is _write_backbone:
            _require_matching_task(target, obj)

    def fill(staging):
        require_free_space(staging, _bytes_to_write(obj), f"{type(obj).__name__}")
        for path in extra_files:
            with open(path, "rb") as source:
                data = source.read()
            with open(os.path.join(staging, os.path.basename(path)), "wb") as copy:
                copy.write(data)
        write(obj, staging, **write_options)

    replace_atomically(
        preset_dir, fill, keep_existing=not replace, check_existing=check_existing
    )


def _bytes_to_write(obj):
    weights = getattr(obj, "weights", [])
    return 2 * sum(int(w.numpy().nbytes) for w in weights) + 1_000_000


def _require_our_preset(directory):
    """Refuse a non-empty directory that is not one of our presets."""
    names = sorted(os.listdir(directory))
    if not names:
        return
    foreign = [name for name in names if not _PRESET_ENTRIES.match(name)]
    foreign += _foreign_assets(directory)
    if not any(name in names for name in hub.PRESET_FILES):
        raise ValueError(
            f"{directory!r} is not empty and holds no preset; refusing to write "
            f"a preset over it (it holds {_listing(names)}). Choose an empty or "
            "new directory."
        )
    config_path = os.path.join(directory, hub.CONFIG_FILE)
    kind = _config_kind(config_path) if os.path.isfile(config_path) else None
    if kind or foreign:
        raise ValueError(
            f"{directory!r} holds {kind or _listing(foreign)}, which is not part "
            "of an albert_mlm preset; refusing to replace it. Choose an empty or "
            "new directory."
        )


def _foreign_assets(directory):
    """Files under `assets/` other than the vocabulary, as relative paths."""
    assets = os.path.join(directory, "assets")
    expected = {os.path.join("assets", "tokenizer"), hub.VOCABULARY_PATH}
    found = []
    for root, folders, files in os.walk(assets):
        for name in folders + files:
            path = os.path.relpath(os.path.join(root, name), directory)
            if path not in expected:
                found.append(path)
    return sorted(found)


def _listing(names):
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _config_kind(path):
    """None for a KerasHub ALBERT config, else what the `config.json` is."""
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "a config.json that is not valid JSON"
    if isinstance(config, dict) and "model_type" in config:
        model_type = f"{config['model_type']!r:.40}"
        return f"a transformers checkpoint's config.json (model_type {model_type})"
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if class_name != "AlbertBackbone":
        return "a config.json of something other than an ALBERT preset"
    return None


def _require_matching_task(directory, backbone):
    """A backbone may not replace the one a task preset was built on."""
    task_path = os.path.join(directory, hub.TASK_FILE)
    if not os.path.isfile(task_path):
        return
    try:
        with open(task_path, encoding="utf-8") as file:
            saved = json.load(file)["config"]["backbone"]["config"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return  # Not a task we could load anyway; saving fixes nothing worse.
    new = hub.backbone_json(backbone)["config"]
    changed = sorted(
        key
        for key in new
        if key not in ("name", "trainable") and saved.get(key) != new[key]
    )
    if changed:
        raise ValueError(
            f"{directory!r} holds a task (task.json, task.weights.h5) built on a "
            f"different backbone ({', '.join(changed[:4])} differ); saving only "
            "this backbone would leave them unusable. Save the whole task, or "
            "save the backbone into a new or empty directory."
        )


def save_backbone(backbone, preset_dir):
    _save(_write_backbone, backbone, preset_dir)


def save_tokenizer(tokenizer, preset_dir):
    _save(_write_tokenizer, tokenizer, preset_dir)


def save_preprocessor(preprocessor, preset_dir):
    _save(_write_preprocessor, preprocessor, preset_dir)


def save_task(task, preset_dir, extra_metadata=None, replace=False, extra_files=()):
    """Save a task; `extra_metadata` entries join `metadata.json`, `replace`
    drops the existing preset's other files, `extra_files` are copied in."""
    _save(
        _write_task,
        task,
        preset_dir,
        replace=replace,
        extra_files=extra_files,
        extra_metadata=extra_metadata,
    )
