"""KerasHub's preset JSON: file names, and our objects' configs in its form.

```
config.json            backbone config        model.weights.h5   backbone weights
task.json              task config            task.weights.h5    head weights
preprocessor.json      preprocessor config    tokenizer.json     tokenizer config
metadata.json          versions, parameter count
assets/tokenizer/vocabulary.spm               the SentencePiece model
```

We read what KerasHub 0.32 writes and write what it reads. Class names,
registered names and modules in the JSON (nested objects included) are checked
against an allow-list (ours and KerasHub's names for the same classes);
nothing in a preset can make us import a module. Constructor arguments come
from our classes' signatures; those KerasHub lacks are written only when they
differ from our defaults (which are KerasHub's behaviour), so a default
model's preset loads in KerasHub unchanged, and KerasHub's arguments we lack
are read and dropped.

>>> from albert_mlm import AlbertTokenizer
>>> unwrap({"class_name": "AlbertTokenizer", "config": {"lowercase": False}},
...        AlbertTokenizer, "tokenizer.json")
{'lowercase': False}
"""

import datetime
import inspect
import json
import os

import keras

from albert_mlm.argument_checks import constructor_arguments
from albert_mlm.version import __version__

CONFIG_FILE = "config.json"
TASK_FILE = "task.json"
PREPROCESSOR_FILE = "preprocessor.json"
TOKENIZER_FILE = "tokenizer.json"
METADATA_FILE = "metadata.json"
BACKBONE_WEIGHTS_FILE = "model.weights.h5"
SHARDED_BACKBONE_WEIGHTS_FILE = "model.weights.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
VOCABULARY_PATH = os.path.join("assets", "tokenizer", "vocabulary.spm")
# What makes a directory recognisably a preset.
PRESET_FILES = (CONFIG_FILE, TASK_FILE, PREPROCESSOR_FILE, TOKENIZER_FILE)

_MODULES = {
    "AlbertBackbone": "keras_hub.src.models.albert.albert_backbone",
    "AlbertTokenizer": "keras_hub.src.models.albert.albert_tokenizer",
    "AlbertMaskedLMPreprocessor": (
        "keras_hub.src.models.albert.albert_masked_lm_preprocessor"
    ),
    "AlbertMaskedLM": "keras_hub.src.models.albert.albert_masked_lm",
}
_PACKAGES = ("keras_hub", "keras_nlp", "albert_mlm")

# KerasHub 0.32's constructor arguments for the same classes.
KERAS_HUB_ARGUMENTS = {
    "AlbertBackbone": {
        "vocabulary_size", "num_layers", "num_heads", "embedding_dim",
        "hidden_dim", "intermediate_dim", "num_groups", "num_inner_repetitions",
        "dropout", "max_sequence_length", "num_segments", "dtype",
    },
    "AlbertTokenizer": {
        "proto", "sequence_length", "add_bos", "add_eos", "dtype", "config_file",
    },
    "AlbertMaskedLMPreprocessor": {
        "tokenizer", "sequence_length", "truncate", "mask_selection_rate",
        "mask_selection_length", "mask_token_rate", "random_token_rate",
        "config_file",
    },
    "AlbertMaskedLM": {"backbone", "preprocessor"},
}  # fmt: skip
# Every Keras object's own arguments.
_LAYER_ARGUMENTS = {"name", "trainable", "dtype"}
# Serialized objects nested in a config, and the class attribute naming theirs.
_NESTED = {
    "backbone": "backbone_cls",
    "preprocessor": "preprocessor_cls",
    "tokenizer": "tokenizer_cls",
}


def read_json(directory, file_name, preset):
    path = os.path.join(directory, file_name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Preset {preset!r} has no {file_name} (looked in {path!r})."
        )
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{file_name} of preset {preset!r} is not valid JSON ({error})."
        ) from None
    except RecursionError:
        raise ValueError(
            f"{file_name} of preset {preset!r} is nested too deeply to read."
        ) from None


def write_json(directory, file_name, content):
    with open(os.path.join(directory, file_name), "w", encoding="utf-8") as file:
        json.dump(content, file, indent=4)


def unwrap(serialized, cls, source):
    """The checked constructor arguments of `cls` inside a serialized object.

    The object may be of any class `cls.preset_classes` names (a masked LM
    reads the task of a pretrainer preset, which holds its head too).
    """
    class_name = cls.__name__
    accepted = getattr(cls, "preset_classes", (class_name,))
    if not isinstance(serialized, dict) or not isinstance(
        serialized.get("config"), dict
    ):
        raise ValueError(
            f"{source} is not a serialized Keras object (no 'config' dict)."
        )
    found = serialized.get("class_name")
    registered = serialized.get("registered_name") or f"keras_hub>{found}"
    module = serialized.get("module")
    if (
        found not in accepted
        or not isinstance(registered, str)
        or registered.split(">")[0] not in _PACKAGES
        or not (module is None or _in_packages(module, _PACKAGES))
    ):
        raise ValueError(
            f"{source} holds a {found!r:.80} (registered as {registered!r:.80}, "
            f"module {module!r:.80}); expected {' or '.join(accepted)} (registered "
            f"under one of {list(_PACKAGES)}, from a module of {list(_PACKAGES)}). "
            "Nothing was imported."
        )
    ours = constructor_arguments(cls)
    known = set(ours) | KERAS_HUB_ARGUMENTS.get(class_name, set()) | _LAYER_ARGUMENTS
    unknown = sorted(set(serialized["config"]) - known)
    if unknown:
        shown = ", ".join(f"{name!r:.40}" for name in unknown[:5])
        raise ValueError(f"{source} has unknown {class_name} arguments [{shown}].")
    config = {k: v for k, v in serialized["config"].items() if k in ours}
    name = serialized["config"].get("name")
    if name is not None:  # Kept, as KerasHub keeps it: a reload saves the same.
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(
                f"{source} has the name {name!r:.80}; expected a non-empty "
                "string without '/'."
            )
        config["name"] = name
    required = {k for k, v in ours.items() if v is inspect.Parameter.empty}
    missing = sorted(required - set(config) - set(_NESTED))
    if missing:
        raise ValueError(f"{source} lacks the {class_name} arguments {missing}.")
    for key, attribute in _NESTED.items():
        if isinstance(config.get(key), dict):
            unwrap(config[key], getattr(cls, attribute), f"{source} ({key!r})")
    if isinstance(serialized["config"].get("dtype"), dict):
        policy = _dtype_policy(serialized["config"]["dtype"], source)
        if "dtype" in config:
            config["dtype"] = policy
    return config


def _in_packages(module, packages):
    return isinstance(module, str) and module.split(".")[0] in packages


def _dtype_policy(serialized, source):
    config = serialized.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    if (
        serialized.get("class_name") != "DTypePolicy"
        or serialized.get("registered_name") is not None
        or not _in_packages(serialized.get("module", "keras"), ("keras",))
        or not isinstance(name, str)
    ):
        raise ValueError(
            f"{source} has an unsupported dtype policy {serialized!r:.120}; expected "
            "a keras DTypePolicy."
        )
    return name


def wrap(obj, config):
    """KerasHub's serialized-object dict for `obj`, from its arguments `config`.

    Our arguments KerasHub lacks are left out where they hold our default.
    """
    class_name = type(obj).__name__
    theirs = KERAS_HUB_ARGUMENTS.get(class_name, set())
    defaults = constructor_arguments(type(obj))
    config = {
        key: value
        for key, value in config.items()
        if key in theirs or key not in defaults or value != defaults[key]
    }
    # Classes KerasHub lacks go under our own name: it refuses them rather
    # than misreading them.
    package = "keras_hub" if class_name in _MODULES else "albert_mlm"
    return {
        "module": _MODULES.get(class_name, type(obj).__module__),
        "class_name": class_name,
        "config": {"name": obj.name, "trainable": True, **config},
        "registered_name": f"{package}>{class_name}",
    }


def _arguments(obj, skip=()):
    """`obj`'s constructor arguments, read from its attributes."""
    return {
        key: getattr(obj, key)
        for key in constructor_arguments(type(obj))
        if key not in skip
    }


def backbone_json(backbone):
    config = {**_arguments(backbone, skip=("dtype",))}
    config["dtype"] = keras.dtype_policies.serialize(backbone.dtype_policy)
    return wrap(backbone, config)


def tokenizer_json(tokenizer):
    config = _arguments(tokenizer, skip=("proto",))
    return wrap(
        tokenizer,
        {
            "dtype": keras.dtype_policies.serialize(keras.DTypePolicy("int32")),
            "config_file": TOKENIZER_FILE,
            "proto": None,
            "sequence_length": None,
            "add_bos": False,
            "add_eos": False,
            **config,
        },
    )


def preprocessor_json(preprocessor):
    config = _arguments(preprocessor, skip=("tokenizer",))
    config["tokenizer"] = tokenizer_json(preprocessor.tokenizer)
    config["config_file"] = PREPROCESSOR_FILE
    return wrap(preprocessor, config)


def task_json(task):
    config = _arguments(task, skip=("backbone", "preprocessor"))
    config["backbone"] = backbone_json(task.backbone)
    config["preprocessor"] = (
        preprocessor_json(task.preprocessor) if task.preprocessor is not None else None
    )
    return wrap(task, config)


def metadata_json(backbone):
    return {
        "keras_version": keras.version(),
        "albert_mlm_version": __version__,
        "parameter_count": backbone.count_params(),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "tasks": ["MaskedLM"],
    }
