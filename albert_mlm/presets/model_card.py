"""A model card (`README.md`) for a preset directory, from its own files.

YAML front matter for the Hugging Face Hub, then the architecture
(`config.json`), the parameter count (`metadata.json`), the training data and
evaluation (`metadata.json`'s `"pretraining"` entry and `pretraining.json`),
the licence notices in the folder and how to load it. Every number is read
from the files; a section whose files say nothing is left out.

>>> card = model_card("albert_tiny_en_uncased", "hf://someone/albert-tiny")
>>> card.splitlines()[0], "pipeline_tag: fill-mask" in card
('---', True)
>>> print(card[card.index("| layers"):].splitlines()[0])
| layers | 4 (1 shared group of 1 block) |
"""

import json
import os
import re

from albert_mlm.presets.handles import HF_PREFIX
from albert_mlm.presets.registry import shipped_notices, shipped_presets

# Files whose name says they carry licence terms.
_NOTICE_NAME = re.compile(r"(?i)(licen[cs]e|notice|copying)")
# A notice naming the model's own licence (not one of its data's).
_OWN_LICENCE_NAME = re.compile(r"(?i)^licen[cs]e(\.(txt|md))?$")
# First-line markers of licences the Hub knows by id.
_LICENCE_IDS = {
    "Apache License": "apache-2.0",
    "MIT License": "mit",
    "Creative Commons Attribution 4.0": "cc-by-4.0",
    "Creative Commons Attribution-ShareAlike 4.0": "cc-by-sa-4.0",
}
# Evaluation results among `metadata.json`'s "pretraining" entries; the rest
# describe the training.
_EVALUATION_KEYS = (
    "held_out", "masked_tokens", "loss", "top1", "top5", "unigram_top1",
    "unigram_top5", "sentence_order_accuracy", "cloze", "cloze_previous_preset",
)  # fmt: skip
# Settings of `pretraining.json` that are local paths or restate other rows.
_LOCAL_SETTINGS = ("corpus", "out", "preset", "vocab", "config", "resume")


def _read_json(path):
    """The parsed file, or None where it is absent or not JSON."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError, RecursionError):
        return None


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value).replace("|", "\\|")  # A table cell ends at "|".
    if isinstance(value, int) or value.is_integer():
        return f"{int(value):,}"
    return f"{value:.6g}"


def _rows(entries):
    return "\n".join(
        f"| {key} | {_number(value)} |" for key, value in entries if value is not None
    )


def transformers_export(directory):
    """The folder (`""` for `directory` itself) holding a transformers
    `config.json` (one with `model_type`), or None."""
    for folder in ["", *sorted(os.listdir(directory))]:
        config = _read_json(os.path.join(directory, folder, "config.json"))
        if isinstance(config, dict) and "model_type" in config:
            return folder
    return None


def licence_notices(directory):
    """The licence notice files in `directory`, sorted."""
    return sorted(
        name
        for name in os.listdir(directory)
        if _NOTICE_NAME.search(name) and os.path.isfile(os.path.join(directory, name))
    )


def _first_line(path, limit=200):
    """The file's first paragraph on one line, cut at `limit` characters."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):
        return ""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    return paragraph if len(paragraph) <= limit else paragraph[: limit - 1] + "…"


def licence_id(directory):
    """The Hub's id of the licence named by the folder's `LICENSE`, or None."""
    found = set()
    for name in licence_notices(directory):
        if _OWN_LICENCE_NAME.match(name):
            line = _first_line(os.path.join(directory, name))
            found |= {id for mark, id in _LICENCE_IDS.items() if line.startswith(mark)}
    return found.pop() if len(found) == 1 else None


def _front_matter(directory):
    lines = ["---", "library_name: keras"]
    licence = licence_id(directory)
    if licence:
        lines.append(f"license: {licence}")
    lines += ["tags:", "- albert", "- albert_mlm", "- keras-hub", "- fill-mask"]
    lines += ["pipeline_tag: fill-mask", "---"]
    return "\n".join(lines)


def _architecture(config, metadata):
    """Rows from a KerasHub or a transformers `config.json`."""
    if isinstance(config, dict) and "model_type" in config:
        get = config.get
        layers, groups = get("num_hidden_layers"), get("num_hidden_groups")
        inner, hidden = get("inner_group_num"), get("hidden_size")
        heads, vocabulary = get("num_attention_heads"), get("vocab_size")
        feed_forward, embedding = get("intermediate_size"), get("embedding_size")
        positions = get("max_position_embeddings")
    else:
        arguments = config.get("config", {}) if isinstance(config, dict) else {}
        get = arguments.get
        layers, groups = get("num_layers"), get("num_groups", 1)
        inner, hidden = get("num_inner_repetitions", 1), get("hidden_dim")
        heads, vocabulary = get("num_heads"), get("vocabulary_size")
        feed_forward, embedding = get("intermediate_dim"), get("embedding_dim")
        positions = get("max_sequence_length")
    if layers is None:
        return ""
    shared = f"{_number(layers)} ({_number(groups)} shared group"
    shared += f"{'s' if groups != 1 else ''} of {_number(inner)} block"
    shared += f"{'s' if inner != 1 else ''})"
    parameters = metadata.get("parameter_count") if metadata else None
    rows = [
        ("layers", shared),
        ("hidden size", hidden),
        ("attention heads", heads),
        ("feed-forward size", feed_forward),
        ("embedding size", embedding),
        ("vocabulary", vocabulary),
        ("maximum sequence length", positions),
        ("parameters (backbone)", parameters),
    ]
    return "## Architecture\n\n| | |\n|---|---|\n" + _rows(rows)


def _table(title, entries):
    """A section of scalar rows, then one sub-table per nested entry."""
    if not entries:
        return ""
    scalars = [(k, v) for k, v in entries if not isinstance(v, dict | list)]
    parts = [f"## {title}"]
    if scalars:
        parts.append("| | |\n|---|---|\n" + _rows(scalars))
    for key, value in entries:
        if isinstance(value, dict):
            parts.append(f"### {key}\n\n| | |\n|---|---|\n" + _rows(value.items()))
    return "\n\n".join(parts)


def _training(metadata, settings):
    record = metadata.get("pretraining") if isinstance(metadata, dict) else None
    record = record if isinstance(record, dict) else {}
    training = [(k, v) for k, v in record.items() if k not in _EVALUATION_KEYS]
    evaluation = [(k, v) for k, v in record.items() if k in _EVALUATION_KEYS]
    if isinstance(settings, dict):
        kept = {
            key: value
            for key, value in settings.items()
            if key not in _LOCAL_SETTINGS and not isinstance(value, dict | list)
        }
        training.append(("settings (pretraining.json)", kept))
    sections = [_table("Training", training), _table("Evaluation", evaluation)]
    return "\n\n".join(section for section in sections if section)


def _licences(directory):
    paths = [os.path.join(directory, name) for name in licence_notices(directory)]
    paths += shipped_notices(directory)  # Uploaded with the preset.
    if not paths:
        return "## Licence\n\nThis folder holds no licence notice."
    lines = [f"- `{os.path.basename(path)}`: {_first_line(path)}" for path in paths]
    return "## Licence notices\n\nShipped in this repository:\n\n" + "\n".join(lines)


def _usage(directory, uri):
    block = "```python\n{}\n```"
    parts = [
        "## Use",
        "With albert_mlm:",
        block.format(
            "from albert_mlm import AlbertMaskedLM\n\n"
            f'masked_lm = AlbertMaskedLM.from_preset("{uri}")'
        ),
        "With KerasHub:",
        block.format(
            "import keras_hub\n\n"
            f'masked_lm = keras_hub.models.AlbertMaskedLM.from_preset("{uri}")'
        ),
    ]
    export = transformers_export(directory)
    if export is not None and uri.startswith(HF_PREFIX):
        subfolder = f', subfolder="{export}"' if export else ""
        repository = f'"{uri[len(HF_PREFIX) :]}"{subfolder}'
        parts += [
            "With transformers:",
            block.format(
                "from transformers import AutoModelForMaskedLM, AutoTokenizer\n\n"
                f"model = AutoModelForMaskedLM.from_pretrained({repository})\n"
                f"tokenizer = AutoTokenizer.from_pretrained({repository})"
            ),
        ]
    return "\n\n".join(parts)


def model_card(preset_dir, uri):
    """The markdown model card of the preset in `preset_dir`, published at `uri`.

    Args:
        preset_dir: a preset directory (or a shipped preset's name).
        uri: where it is published (`hf://owner/name` or `kaggle://...`),
            for the loading examples.
    """
    directory = os.fspath(preset_dir)
    directory = shipped_presets().get(directory, directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Preset directory {directory!r} does not exist.")
    config = _read_json(os.path.join(directory, "config.json"))
    metadata = _read_json(os.path.join(directory, "metadata.json"))
    settings = _read_json(os.path.join(directory, "pretraining.json"))
    name = uri.split("://", 1)[-1]
    sections = [
        _front_matter(directory),
        f"# {name}\n\nAn ALBERT masked language model in KerasHub's preset "
        "format, saved with albert_mlm.",
        _architecture(config, metadata),
        _training(metadata, settings),
        _licences(directory),
        _usage(directory, uri),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"
