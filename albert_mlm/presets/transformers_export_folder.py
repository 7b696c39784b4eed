"""Which folders an export to transformers may write into.

New or empty ones, and earlier exports: a folder holding only the files an
export writes, with, if it has one, a `config.json` of an ALBERT model.
Anything else (a project folder, another model's checkpoint) could be
someone's work, and is refused with nothing written.
"""

import json
import os

from albert_mlm.presets.transformers_checkpoint import (
    SAFETENSORS_FILE,
    VOCABULARY_FILE,
)

CONFIG_FILE = "config.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
TOKENIZER_JSON_FILE = "tokenizer.json"
TOKENIZER_FILES = (VOCABULARY_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_JSON_FILE)
EXPORT_FILES = (CONFIG_FILE, SAFETENSORS_FILE, *TOKENIZER_FILES)


def require_export_or_empty(directory):
    """Refuse a non-empty `directory` that is not an earlier export: files
    other than an export's, or a `config.json` of another model."""
    names = sorted(os.listdir(directory))
    foreign = [name for name in names if name not in EXPORT_FILES]
    if CONFIG_FILE in names and not foreign:
        try:
            with open(os.path.join(directory, CONFIG_FILE), encoding="utf-8") as file:
                config = json.load(file)
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            config = None
        if not isinstance(config, dict) or config.get("model_type") != "albert":
            foreign = [f"a {CONFIG_FILE} of no ALBERT model"]
    if foreign:
        shown = ", ".join(foreign[:5]) + (" and more" if len(foreign) > 5 else "")
        raise ValueError(
            f"{directory!r} is not empty and is not a transformers ALBERT export "
            f"(it holds {shown}); refusing to write over it. Choose an empty or "
            "new directory."
        )
