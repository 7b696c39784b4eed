"""The model card: every number read from the preset's own files, the
transformers section only beside a transformers export, licence notices."""

import json
import shutil

import keras
import pytest
from helpers import TINY_BACKBONE, TRANSFORMERS_DIR, copy_keras_hub_preset

from albert_mlm.presets.model_card import licence_id, model_card
from albert_mlm.presets.registry import shipped_presets

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="backend independent"
)

URI = "hf://someone/tiny-albert"


def _cell(value):
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.6g}"
    return f"{int(value):,}" if isinstance(value, int | float) else str(value)


def _architecture_rows(arguments, parameter_count):
    return [
        f"| hidden size | {_cell(arguments['hidden_dim'])} |",
        f"| attention heads | {_cell(arguments['num_heads'])} |",
        f"| feed-forward size | {_cell(arguments['intermediate_dim'])} |",
        f"| embedding size | {_cell(arguments['embedding_dim'])} |",
        f"| vocabulary | {_cell(arguments['vocabulary_size'])} |",
        f"| maximum sequence length | {_cell(arguments['max_sequence_length'])} |",
        f"| parameters (backbone) | {_cell(parameter_count)} |",
    ]


def test_shipped_preset_card_has_the_numbers_of_its_files():
    directory = shipped_presets()["albert_tiny_en_uncased"]
    card = model_card(directory, URI)
    lines = card.splitlines()
    read = lambda name: json.loads(open(f"{directory}/{name}").read())  # noqa: E731
    config, metadata = read("config.json")["config"], read("metadata.json")
    for row in _architecture_rows(config, metadata["parameter_count"]):
        assert row in lines
    assert f"| layers | {config['num_layers']} (1 shared group of 1 block) |" in lines
    record = metadata["pretraining"]
    for key in ("steps", "cpu_seconds", "loss", "top1", "top5", "masked_tokens"):
        assert f"| {key} | {_cell(record[key])} |" in lines
    for source, words in record["corpus_words"].items():
        assert f"| {source} | {_cell(words)} |" in lines
    for key in ("top1", "top5", "items"):
        assert f"| {key} | {_cell(record['cloze'][key])} |" in lines
    settings = read("pretraining.json")
    for key in ("batch_size", "learning_rate", "warmup_steps", "sequence_length"):
        assert f"| {key} | {_cell(settings[key])} |" in lines
    assert settings["out"] not in card  # A local path of the training machine.
    assert lines[:2] == ["---", "library_name: keras"]
    assert "pipeline_tag: fill-mask" in lines and "license" not in card.split("---")[1]
    assert 'AlbertMaskedLM.from_preset("hf://someone/tiny-albert")' in card
    assert (
        'keras_hub.models.AlbertMaskedLM.from_preset("hf://someone/tiny-albert")'
        in card
    )
    assert "transformers" not in card


def test_saved_tiny_preset_card_has_its_numbers(masked_lm, tmp_path):
    masked_lm.save_to_preset(tmp_path / "tiny")
    card = model_card(tmp_path / "tiny", URI)
    lines = card.splitlines()
    for row in _architecture_rows(TINY_BACKBONE, masked_lm.backbone.count_params()):
        assert row in lines
    assert "| layers | 4 (2 shared groups of 2 blocks) |" in lines
    assert "## Training" not in card and "## Evaluation" not in card
    assert "This folder holds no licence notice." in card


def test_transformers_export_beside_the_preset_gets_its_section(tmp_path):
    preset = copy_keras_hub_preset(tmp_path)
    shutil.copytree(TRANSFORMERS_DIR / "masked_lm_groups2_inner2", preset / "hf")
    card = model_card(preset, URI)
    assert 'AutoModelForMaskedLM.from_pretrained("someone/tiny-albert", ' in card
    assert 'subfolder="hf")' in card
    assert "transformers" not in model_card(
        preset, "kaggle://someone/tiny-albert/keras/base"
    )


def test_transformers_checkpoint_card_reads_its_config(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(TRANSFORMERS_DIR / "masked_lm_groups2_inner2", checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    card = model_card(checkpoint, URI)
    lines = card.splitlines()
    assert f"| hidden size | {_cell(config['hidden_size'])} |" in lines
    assert f"| vocabulary | {_cell(config['vocab_size'])} |" in lines
    assert f"| layers | {config['num_hidden_layers']} (" in card
    assert 'AutoModelForMaskedLM.from_pretrained("someone/tiny-albert")' in card


def test_licence_notices_are_listed_and_the_licence_named(tmp_path):
    preset = copy_keras_hub_preset(tmp_path)
    (preset / "LICENSE").write_text("\nApache License\nVersion 2.0, January 2004\n")
    (preset / "CORPUS_LICENSE.txt").write_text("The corpus is public domain.\n")
    card = model_card(preset, URI)
    assert "license: apache-2.0" in card.split("---")[1]
    assert "- `LICENSE`: Apache License" in card
    assert "- `CORPUS_LICENSE.txt`: The corpus is public domain." in card
    (preset / "LICENSE").write_text("Some licence of its own\n")
    assert licence_id(preset) is None
    assert "license:" not in model_card(preset, URI)


def test_handle_instead_of_a_directory_is_refused_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="hf://someone/tiny-albert"):
        model_card(URI, URI)
