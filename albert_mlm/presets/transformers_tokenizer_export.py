"""An `AlbertTokenizer` as files transformers' `AutoTokenizer` loads offline.

`spiece.model` (our SentencePiece model) and `tokenizer_config.json`
(`tokenizer_class`, `do_lower_case` and `keep_accents` from our `lowercase`,
the special tokens). With `lowercase=True` transformers' `AlbertTokenizer`
normalises as ours does (collapse whitespace, ``` `` ``` and `''` to `"`,
strip accents, lowercase). With `lowercase=False` ours leaves the text to
SentencePiece alone, while transformers' `AlbertTokenizer` still turns
``` `` ``` and `''` into `"`: so a `tokenizer.json` without those two
replacements is written too (built with transformers, when importable) and
`tokenizer_class` is the generic `PreTrainedTokenizerFast`, which follows it
exactly; without transformers a warning says what differs.

Two differences remain, both documented in docs/formats.md: "<pad>" written
in the text is the padding id in transformers and text in ours, and on a
score tie between two segmentations (".." + "." or "." + ".." for "...")
the Hugging Face `tokenizers` library may pick the other one.
"""

import importlib.util
import json
import os

from albert_mlm.caller_warnings import warn_at_caller
from albert_mlm.presets.atomic_directory import replace_atomically
from albert_mlm.presets.transformers_checkpoint import VOCABULARY_FILE
from albert_mlm.presets.transformers_export_folder import (
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_JSON_FILE,
    require_export_or_empty,
)

_SPECIAL_TOKENS = {
    "pad_token": "<pad>",
    "unk_token": "<unk>",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
    "bos_token": "[CLS]",
    "eos_token": "[SEP]",
}


def export_tokenizer(tokenizer, path):
    """Write `tokenizer`'s files into `path` (new, empty or an export, whose
    other files stay), atomically."""
    tokenizer._require_vocabulary()
    replace_atomically(
        path,
        lambda staging: write_tokenizer_files(tokenizer, staging),
        keep_existing=True,
        check_existing=require_export_or_empty,
    )


def write_tokenizer_files(tokenizer, directory, model_max_length=None):
    """Write the tokenizer files into `directory`; `model_max_length` (the
    preprocessor's sequence length) tells transformers where to truncate."""
    with open(os.path.join(directory, VOCABULARY_FILE), "wb") as file:
        file.write(tokenizer.proto)
    stale_json = os.path.join(directory, TOKENIZER_JSON_FILE)
    if os.path.exists(stale_json):
        os.remove(stale_json)
    config = {
        "tokenizer_class": "AlbertTokenizer",
        "do_lower_case": tokenizer.lowercase,
        "keep_accents": not tokenizer.lowercase,
        # Ours collapses whitespace when lowercasing, SentencePiece's own
        # normaliser (ALBERT vocabularies' default) otherwise.
        "remove_space": True,
        **_SPECIAL_TOKENS,
    }
    if model_max_length is not None:
        config["model_max_length"] = model_max_length
    _write_json(directory, TOKENIZER_CONFIG_FILE, config)
    if tokenizer.lowercase:
        return
    if importlib.util.find_spec("transformers") is None:
        warn_at_caller(
            "transformers is not installed, so no tokenizer.json was written: "
            "transformers' AlbertTokenizer will turn `` and '' into \" where "
            "this tokenizer (lowercase=False) keeps them. Export again with "
            "transformers installed to tokenize exactly alike."
        )
        return
    _write_json(directory, TOKENIZER_JSON_FILE, _uncased_free_pipeline(directory))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    _write_json(directory, TOKENIZER_CONFIG_FILE, config)


def _uncased_free_pipeline(directory):
    """transformers' tokenizer pipeline for `spiece.model` in `directory`
    (as `tokenizer.json` content), without its quote replacements."""
    from transformers import AlbertTokenizer

    converted = AlbertTokenizer.from_pretrained(directory)
    pipeline = json.loads(converted.backend_tokenizer.to_str())
    normalizer = pipeline["normalizer"]
    if normalizer is not None and normalizer.get("type") == "Sequence":
        normalizer["normalizers"] = [
            step for step in normalizer["normalizers"] if step["type"] != "Replace"
        ]
    return pipeline


def _write_json(directory, name, content):
    with open(os.path.join(directory, name), "w", encoding="utf-8") as file:
        json.dump(content, file, indent=2, ensure_ascii=False)
        file.write("\n")
