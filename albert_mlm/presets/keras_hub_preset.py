"""KerasHub's preset directory format: JSON configs, weights, vocabulary.

```
config.json            backbone config        model.weights.h5   backbone weights
task.json              masked-LM config       task.weights.h5    head weights
preprocessor.json      preprocessor config    tokenizer.json     tokenizer config
metadata.json          versions, parameter count
assets/tokenizer/vocabulary.spm               the SentencePiece model
```

We read what KerasHub 0.32 writes and write what it reads: class names,
registered names and modules in the JSON (nested objects included) are checked
against an allow-list (ours and KerasHub's names for the same classes);
nothing in a preset can make us import a module. Arguments KerasHub
does not have (`activation`, `layer_norm_epsilon`, `lowercase`,
`head_layer_norm_epsilon`) are written only when they differ from KerasHub's
behaviour, so a default model's preset loads in KerasHub unchanged.
"""

import datetime
import json
import os

import keras

CONFIG_FILE = "config.json"
TASK_FILE = "task.json"
PREPROCESSOR_FILE = "preprocessor.json"
TOKENIZER_FILE = "tokenizer.json"
METADATA_FILE = "metadata.json"
BACKBONE_WEIGHTS_FILE = "model.weights.h5"
SHARDED_BACKBONE_WEIGHTS_FILE = "model.weights.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
VOCABULARY_PATH = os.path.join("assets", "tokenizer", "vocabulary.spm")

_MODULES = {
    "AlbertBackbone": "keras_hub.src.models.albert.albert_backbone",
    "AlbertTokenizer": "keras_hub.src.models.albert.albert_tokenizer",
    "AlbertMaskedLMPreprocessor": (
        "keras_hub.src.models.albert.albert_masked_lm_preprocessor"
    ),
    "AlbertMaskedLM": "keras_hub.src.models.albert.albert_masked_lm",
}
_PACKAGES = ("keras_hub", "keras_nlp", "albert_mlm")

# Our arguments KerasHub lacks, with the value that means KerasHub's behaviour.
_EXTRA_ARGUMENTS = {
    "AlbertBackbone": {"activation": "gelu_approximate", "layer_norm_epsilon": 1e-12},
    "AlbertTokenizer": {"lowercase": True},
    "AlbertMaskedLMPreprocessor": {},
    "AlbertMaskedLM": {"head_layer_norm_epsilon": 1e-5},
}
# KerasHub's arguments we do not have; read and dropped.
_IGNORED_ARGUMENTS = {
    "AlbertBackbone": {"name", "trainable"},
    "AlbertTokenizer": {
        "name", "trainable", "dtype", "config_file", "proto",
        "sequence_length", "add_bos", "add_eos",
    },
    "AlbertMaskedLMPreprocessor": {"name", "trainable", "dtype", "config_file"},
    "AlbertMaskedLM": {"name", "trainable", "dtype"},
}  # fmt: skip
# Arguments without a default: a config lacking one is refused.
_REQUIRED_ARGUMENTS = {
    "AlbertBackbone": {
        "vocabulary_size", "num_layers", "num_heads", "embedding_dim",
        "hidden_dim", "intermediate_dim",
    },
}  # fmt: skip
# Serialized objects nested in a config, checked like the outer one.
_NESTED = {
    "backbone": "AlbertBackbone",
    "preprocessor": "AlbertMaskedLMPreprocessor",
    "tokenizer": "AlbertTokenizer",
}
ARGUMENTS = {
    "AlbertBackbone": {
        "vocabulary_size", "num_layers", "num_heads", "embedding_dim",
        "hidden_dim", "intermediate_dim", "num_groups", "num_inner_repetitions",
        "dropout", "max_sequence_length", "num_segments", "dtype",
        "activation", "layer_norm_epsilon",
    },
    "AlbertTokenizer": {"lowercase"},
    "AlbertMaskedLMPreprocessor": {
        "tokenizer", "sequence_length", "truncate", "mask_selection_rate",
        "mask_selection_length", "mask_token_rate", "random_token_rate",
    },
    "AlbertMaskedLM": {"backbone", "preprocessor", "head_layer_norm_epsilon"},
}  # fmt: skip


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


def unwrap(serialized, class_name, source):
    """The checked constructor arguments inside a serialized-object dict."""
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
        found != class_name
        or not isinstance(registered, str)
        or registered.split(">")[0] not in _PACKAGES
        or not (module is None or _in_packages(module, _PACKAGES))
    ):
        raise ValueError(
            f"{source} holds a {found!r} (registered as {registered!r}, module "
            f"{module!r}); expected {class_name} (registered as one of "
            f"{[f'{p}>{class_name}' for p in _PACKAGES]}, from a module of "
            f"{list(_PACKAGES)}). Nothing was imported."
        )
    config = {
        key: value
        for key, value in serialized["config"].items()
        if key not in _IGNORED_ARGUMENTS[class_name]
    }
    unknown = sorted(set(config) - ARGUMENTS[class_name])
    if unknown:
        raise ValueError(f"{source} has unknown {class_name} arguments {unknown}.")
    missing = sorted(_REQUIRED_ARGUMENTS.get(class_name, set()) - set(config))
    if missing:
        raise ValueError(f"{source} lacks the {class_name} arguments {missing}.")
    for key, nested_class in _NESTED.items():
        if isinstance(config.get(key), dict):
            unwrap(config[key], nested_class, f"{source} ({key!r})")
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = _dtype_policy(config["dtype"], source)
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
            f"{source} has an unsupported dtype policy {serialized!r}; expected "
            "a keras DTypePolicy."
        )
    return name


def wrap(class_name, config, name):
    """KerasHub's serialized-object dict for our constructor arguments."""
    config = dict(config)
    for key, default in _EXTRA_ARGUMENTS[class_name].items():
        if key in config and config[key] == default:
            del config[key]
    return {
        "module": _MODULES[class_name],
        "class_name": class_name,
        "config": {"name": name, "trainable": True, **config},
        "registered_name": f"keras_hub>{class_name}",
    }


def backbone_json(backbone):
    config = backbone.get_config()
    config = {k: v for k, v in config.items() if k in ARGUMENTS["AlbertBackbone"]}
    return wrap("AlbertBackbone", config, backbone.name)


def tokenizer_json(tokenizer):
    return wrap(
        "AlbertTokenizer",
        {
            "dtype": keras.dtype_policies.serialize(keras.DTypePolicy("int32")),
            "config_file": TOKENIZER_FILE,
            "proto": None,
            "sequence_length": None,
            "add_bos": False,
            "add_eos": False,
            "lowercase": tokenizer.lowercase,
        },
        tokenizer.name,
    )


def preprocessor_json(preprocessor):
    config = {
        key: getattr(preprocessor, key)
        for key in ARGUMENTS["AlbertMaskedLMPreprocessor"] - {"tokenizer"}
    }
    config["tokenizer"] = tokenizer_json(preprocessor.tokenizer)
    config["config_file"] = PREPROCESSOR_FILE
    return wrap("AlbertMaskedLMPreprocessor", config, preprocessor.name)


def task_json(masked_lm):
    config = {
        "backbone": backbone_json(masked_lm.backbone),
        "preprocessor": (
            preprocessor_json(masked_lm.preprocessor)
            if masked_lm.preprocessor is not None
            else None
        ),
        "head_layer_norm_epsilon": masked_lm.head_layer_norm_epsilon,
    }
    return wrap("AlbertMaskedLM", config, masked_lm.name)


def metadata_json(backbone):
    from albert_mlm import __version__

    return {
        "keras_version": keras.version(),
        "albert_mlm_version": __version__,
        "parameter_count": backbone.count_params(),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "tasks": ["MaskedLM"],
    }


def write_json(directory, file_name, content):
    with open(os.path.join(directory, file_name), "w", encoding="utf-8") as file:
        json.dump(content, file, indent=4)
