"""`albert-mlm upload DIR URI` end to end, with the Hub's transport replaced."""

import importlib.util
import pathlib

import keras
import pytest
from helpers import copy_keras_hub_preset, file_contents, run_cli_in_process

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="backend independent"
)


def _hub_fakes():
    """tests/presets/hub_fakes.py, shared with the preset tests."""
    path = pathlib.Path(__file__).parent.parent / "presets" / "hub_fakes.py"
    spec = importlib.util.spec_from_file_location("hub_fakes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hub_fakes = _hub_fakes()


def test_upload_sends_the_preset_and_says_where(tmp_path, monkeypatch):
    preset = copy_keras_hub_preset(tmp_path)
    hub = hub_fakes.FakeHuggingFaceHub()
    with hub_fakes.hugging_face_transport(hub, monkeypatch, tmp_path):
        code, out, err = run_cli_in_process(
            "upload", preset, "hf://someone/tiny-albert", "--version-notes", "v1"
        )
    assert (code, err) == (0, "")
    assert out == (
        f"Uploaded {preset} to hf://someone/tiny-albert "
        "(https://huggingface.co/someone/tiny-albert)\n"
    )
    header, files = hub.commit()
    assert header["summary"] == "v1"
    assert files.pop("README.md").startswith(b"---\nlibrary_name: keras\n")
    assert files == file_contents(preset)


def test_upload_errors_are_one_line_and_send_nothing(tmp_path, monkeypatch):
    preset = copy_keras_hub_preset(tmp_path)
    hub = hub_fakes.FakeHuggingFaceHub()
    with hub_fakes.hugging_face_transport(hub, monkeypatch, tmp_path):
        swapped = run_cli_in_process("upload", "hf://someone/tiny", preset)
        malformed = run_cli_in_process("upload", preset, "hf://someone")
    for code, out, err in (swapped, malformed):
        assert code == 1 and out == "" and err.count("\n") == 1
    assert "takes the directory first, then the handle" in swapped[2]
    assert malformed[2].startswith("albert-mlm upload: error: Invalid upload handle ")
    assert hub.requests == []
