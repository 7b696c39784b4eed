"""`albert-mlm convert` (`albert_mlm/cli/convert_command.py`), run through
`albert_mlm.cli.main` in this process: it refuses an existing destination
without `--force`, the source itself and a transformers checkpoint (even
with `--force`, changing no byte); it keeps a pretraining run's records;
`--force` replaces an existing preset whole; and `--format transformers`
writes a checkpoint transformers loads with every weight used."""

import json

import keras
import pytest
from helpers import (
    KERAS_HUB_DIR,
    copy_keras_hub_preset,
    copy_transformers_checkpoint,
    file_contents,
    pretrain_args,
    run_cli_in_process,
)

from albert_mlm import AlbertMaskedLM

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")

RECORDS = ("pretraining.json", "training_log.csv", "training_curve.png")


@pytest.fixture(scope="module")
def pretrained_preset(corpus, tmp_path_factory):
    """A preset written by a two-step `albert-mlm pretrain` run."""
    out = tmp_path_factory.mktemp("pretrained") / "preset"
    code, _, stderr = run_cli_in_process(*pretrain_args(corpus, out, "--steps", "2"))
    assert code == 0, stderr[-3000:]
    return out


def test_existing_destination_needs_force(tmp_path):
    destination = tmp_path / "destination"
    destination.mkdir()
    (destination / "notes.txt").write_text("keep me")
    before = file_contents(destination)
    code, stdout, stderr = run_cli_in_process(
        "convert", KERAS_HUB_DIR / "groups2_inner2", destination
    )
    assert code == 1
    assert stderr.startswith("albert-mlm convert: error: ")
    assert "--force" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Wrote" not in stdout
    assert file_contents(destination) == before


def test_an_empty_destination_directory_is_used(tmp_path):
    destination = tmp_path / "empty"
    destination.mkdir()
    code, stdout, stderr = run_cli_in_process(
        "convert", KERAS_HUB_DIR / "groups2_inner2", destination
    )
    assert code == 0, stderr
    assert (destination / "task.json").is_file()


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_source_as_destination_is_refused(tmp_path, force):
    preset = copy_keras_hub_preset(tmp_path)
    before = file_contents(preset)
    code, _, stderr = run_cli_in_process("convert", preset, preset, *force)
    assert code == 1
    assert "source itself" in stderr
    assert file_contents(preset) == before
    # Also when the same folder is spelled another way.
    code, _, stderr = run_cli_in_process(
        "convert", preset, preset.parent / "." / preset.name, *force
    )
    assert code == 1
    assert file_contents(preset) == before


def test_transformers_checkpoint_is_never_replaced(tmp_path):
    checkpoint = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    before = file_contents(checkpoint)
    code, _, stderr = run_cli_in_process(
        "convert", KERAS_HUB_DIR / "groups2_inner2", checkpoint, "--force"
    )
    assert code == 1
    assert "transformers checkpoint" in stderr
    assert file_contents(checkpoint) == before
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == [
        checkpoint.name, "hf_home", "kagglehub_cache",
    ]  # fmt: skip


def test_pretraining_records_travel_with_the_preset(pretrained_preset, tmp_path):
    source = pretrained_preset
    assert (source / "pretraining.json").is_file()
    assert (source / "training_log.csv").is_file()
    destination = tmp_path / "converted"
    code, stdout, stderr = run_cli_in_process("convert", source, destination)
    assert code == 0, stderr
    assert stdout == f"Wrote {destination}\n"
    for name in RECORDS:
        if (source / name).is_file():
            assert (destination / name).read_bytes() == (source / name).read_bytes()
        else:
            assert not (destination / name).exists()
    source_metadata = json.loads((source / "metadata.json").read_text())
    metadata = json.loads((destination / "metadata.json").read_text())
    assert "pretraining" in source_metadata
    assert metadata["pretraining"] == source_metadata["pretraining"]
    AlbertMaskedLM.from_preset(destination)


def test_force_replaces_an_existing_preset_whole(pretrained_preset, tmp_path):
    destination = tmp_path / "converted"
    code, _, stderr = run_cli_in_process("convert", pretrained_preset, destination)
    assert code == 0, stderr
    assert (destination / "pretraining.json").is_file()

    code, _, stderr = run_cli_in_process(
        "convert", KERAS_HUB_DIR / "groups3_inner2", destination
    )
    assert code == 1 and "--force" in stderr

    code, _, stderr = run_cli_in_process(
        "convert", KERAS_HUB_DIR / "groups3_inner2", destination, "--force"
    )
    assert code == 0, stderr
    for name in RECORDS:
        assert not (destination / name).exists(), name
    metadata = json.loads((destination / "metadata.json").read_text())
    assert "pretraining" not in metadata
    assert AlbertMaskedLM.from_preset(destination).backbone.num_groups == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "converted", "hf_home", "kagglehub_cache",
    ]  # fmt: skip


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="Once, on one backend."
)
def test_convert_to_transformers(tmp_path):
    transformers = pytest.importorskip("transformers")
    source = copy_transformers_checkpoint(tmp_path, "pretraining_gelu")
    destination = tmp_path / "exported"
    code, stdout, stderr = run_cli_in_process(
        "convert", source, destination, "--format", "transformers"
    )
    assert code == 0, stderr[-3000:]
    assert "transformers format, from AlbertPreTrainer" in stdout
    config = json.loads((destination / "config.json").read_text())
    assert config["architectures"] == ["AlbertForPreTraining"]
    model, info = transformers.AlbertForPreTraining.from_pretrained(
        str(destination), output_loading_info=True
    )
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(destination))
    assert tokenizer("a [MASK].")["input_ids"][0] == 2  # [CLS]
