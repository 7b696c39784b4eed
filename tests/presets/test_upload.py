"""`upload_preset` against the real huggingface_hub and kagglehub clients,
with only their HTTP transport replaced (hub_fakes.py): what would be sent,
and every refusal made before any request."""

import json
import os
import sys

import keras
import pytest
from helpers import copy_keras_hub_preset, file_contents
from hub_fakes import (
    FakeHuggingFaceHub,
    FakeKaggle,
    hugging_face_transport,
    kaggle_transport,
)

from albert_mlm import upload_preset
from albert_mlm.presets.model_card import model_card

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="backend independent"
)

HF_URI = "hf://someone/tiny-albert"
KAGGLE_URI = "kaggle://someone/tiny-albert/keras/base"


@pytest.fixture
def preset(tmp_path):
    return copy_keras_hub_preset(tmp_path)


@pytest.fixture
def hf_hub(monkeypatch, tmp_path):
    with hugging_face_transport(FakeHuggingFaceHub(), monkeypatch, tmp_path) as hub:
        yield hub


@pytest.fixture
def kaggle(monkeypatch, tmp_path):
    return kaggle_transport(FakeKaggle(), monkeypatch, tmp_path)


def test_hugging_face_upload_sends_the_preset_and_a_card(preset, hf_hub):
    (preset / "checkpoints").mkdir()
    (preset / "checkpoints" / "step_10.weights.h5").write_bytes(b"left behind")
    (preset / ".hidden").write_text("left behind")
    url = upload_preset(HF_URI, preset)
    assert url == "https://huggingface.co/someone/tiny-albert"
    assert [path for _, path in hf_hub.paths()] == [
        "/api/repos/create",
        "/someone/tiny-albert/resolve/main/README.md",
        "/api/validate-yaml",
        "/api/models/someone/tiny-albert/preupload/main",
        "/api/models/someone/tiny-albert/commit/main",
    ]
    create = json.loads(hf_hub.requests[0][3])
    assert (create["organization"], create["name"]) == ("someone", "tiny-albert")
    assert all(
        headers["authorization"] == "Bearer hf_fake_token"
        for _, _, headers, _ in hf_hub.requests
    )
    header, files = hf_hub.commit()
    assert header["summary"].startswith("albert_mlm ")
    card = files.pop("README.md").decode()
    assert card == model_card(preset, HF_URI)
    expected = file_contents(preset)
    expected = {
        path: data
        for path, data in expected.items()
        if not path.startswith(("checkpoints", ".hidden"))
    }
    assert files == expected


def test_hugging_face_readme_of_the_repository_is_kept(preset, monkeypatch, tmp_path):
    hub = FakeHuggingFaceHub(readme_in_repository=True)
    with hugging_face_transport(hub, monkeypatch, tmp_path):
        upload_preset(HF_URI, preset, version_notes="second upload")
    header, files = hub.commit()
    assert "README.md" not in files
    assert header["summary"] == "second upload"


def test_hugging_face_readme_of_the_folder_is_sent_as_it_is(preset, hf_hub):
    (preset / "README.md").write_text("# My own card\n")
    upload_preset(HF_URI, preset)
    _, files = hf_hub.commit()
    assert files["README.md"] == b"# My own card\n"
    assert not any(method == "HEAD" for method, _ in hf_hub.paths())


def test_kaggle_upload_creates_the_model_and_its_variation(preset, kaggle):
    (preset / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n")
    url = upload_preset(KAGGLE_URI, preset)
    assert url == "https://www.kaggle.com/models/someone/tiny-albert/keras/base"
    calls = kaggle.calls()
    assert calls[:2] == ["GetModel", "CreateModel"]
    assert calls[-1] == "CreateModelInstance"
    assert kaggle.body_of("CreateModel")["ownerSlug"] == "someone"
    assert kaggle.body_of("CreateModel")["slug"] == "tiny-albert"
    by_name = {
        path.split("/")[-1]: data for path, data in file_contents(preset).items()
    }
    assert kaggle.uploads == by_name
    assert calls.count("StartBlobUpload") == len(by_name)
    instance = kaggle.body_of("CreateModelInstance")
    assert (instance["ownerSlug"], instance["modelSlug"]) == ("someone", "tiny-albert")
    body = instance["body"]
    assert body["instanceSlug"] == "base"
    assert body["framework"] == "MODEL_FRAMEWORK_KERAS"
    assert body["licenseName"] == "Apache 2.0"
    top = {entry["token"] for entry in body["files"]}
    assert top == {f"token-{name}" for name in by_name if name != "vocabulary.spm"}
    [assets] = body["directories"]
    assert assets["name"] == "assets"
    assert assets["directories"][0]["files"] == [{"token": "token-vocabulary.spm"}]
    auth = [headers.get("Authorization", "") for _, _, headers, _ in kaggle.requests]
    assert all(value.startswith("Basic ") for value in auth if value) and any(auth)


def test_kaggle_upload_to_an_existing_variation_sends_the_notes(
    preset, monkeypatch, tmp_path
):
    kaggle = kaggle_transport(FakeKaggle(instance_exists=True), monkeypatch, tmp_path)
    upload_preset(KAGGLE_URI, preset, version_notes="retrained for longer")
    assert kaggle.calls()[-2:] == ["CreateModelInstance", "CreateModelInstanceVersion"]
    version = kaggle.body_of("CreateModelInstanceVersion")
    assert version["instanceSlug"] == "base"
    assert version["body"]["versionNotes"] == "retrained for longer"


def test_a_shipped_preset_travels_with_the_notices_shipped_beside_it(hf_hub):
    from albert_mlm.presets.registry import shipped_notices, shipped_presets

    directory = shipped_presets()["albert_tiny_en_uncased"]
    notices = shipped_notices(directory)
    assert "WEB_LICENSE.txt" in [os.path.basename(path) for path in notices]
    upload_preset(HF_URI, directory)
    _, files = hf_hub.commit()
    for path in notices:
        with open(path, "rb") as file:
            assert files[os.path.basename(path)] == file.read()
    card = files["README.md"].decode()
    assert "- `WEB_LICENSE.txt`: The corpus of the English preset" in card
    # A folder of one's own gets no notices it does not hold.
    assert shipped_notices(os.path.dirname(directory)) == []


# === Refusals, before any request ===


def _refused(uri, preset, hf_hub, kaggle, error=ValueError):
    with pytest.raises(error) as caught:
        upload_preset(uri, preset)
    assert hf_hub.requests == [] and kaggle.requests == []
    return str(caught.value)


@pytest.mark.parametrize("uri", [HF_URI, KAGGLE_URI])
def test_incomplete_preset_is_refused_naming_every_missing_file(
    uri, preset, hf_hub, kaggle
):
    for name in ("model.weights.h5", "metadata.json", "task.weights.h5"):
        (preset / name).unlink()
    (preset / "assets" / "tokenizer" / "vocabulary.spm").unlink()
    message = _refused(uri, preset, hf_hub, kaggle)
    assert "is not a complete preset" in message
    for name in (
        "model.weights.h5",
        "metadata.json",
        "task.weights.h5",
        "assets/tokenizer/vocabulary.spm",
    ):
        assert name in message
    assert "preprocessor.json" not in message


def test_task_without_preprocessor_is_refused(preset, hf_hub, kaggle):
    (preset / "preprocessor.json").unlink()
    assert "lacks preprocessor.json." in _refused(HF_URI, preset, hf_hub, kaggle)


@pytest.mark.parametrize(
    "uri",
    [
        "hf://someone",
        "hf://someone/tiny/extra",
        "hf://../tiny",
        "kaggle://someone/tiny-albert/keras",
        "kaggle://someone/tiny-albert/jax/base",
        "kaggle://someone/tiny-albert/keras/base/2",
        "someone/tiny-albert",
        "s3://bucket/tiny",
    ],
)
def test_malformed_handle_is_refused(uri, preset, hf_hub, kaggle):
    message = _refused(uri, preset, hf_hub, kaggle)
    assert "'hf://owner/name' or 'kaggle://owner/model/keras/variation'" in message


@pytest.mark.parametrize(
    "uri, package", [(HF_URI, "huggingface_hub"), (KAGGLE_URI, "kagglehub")]
)
def test_missing_client_is_refused_with_the_install_hint(
    uri, package, preset, hf_hub, kaggle, monkeypatch
):
    monkeypatch.setitem(sys.modules, package, None)  # `import` now fails.
    message = _refused(uri, preset, hf_hub, kaggle, error=ImportError)
    assert package in message and "pip install 'albert_mlm[hub]'" in message


@pytest.mark.parametrize("name", ["model.weights.h5", "task.weights.h5"])
def test_unreadable_weights_are_refused(name, preset, hf_hub, kaggle):
    (preset / name).write_bytes(b"not an HDF5 file")
    message = _refused(KAGGLE_URI, preset, hf_hub, kaggle)
    assert f"{name} in " in message and "not a readable HDF5" in message


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda c: c.update(class_name="BertBackbone"), "not describe an ALBERT"),
        (lambda c: c.update(registered_name="evil>AlbertBackbone"), "ALBERT"),
        (lambda c: c["config"].update(num_layers=0), "num_layers"),
        (lambda c: c["config"].pop("hidden_dim"), "hidden_dim"),
        (lambda c: c.update(model_type="albert"), "transformers checkpoint"),
    ],
)
def test_config_that_is_not_ours_is_refused(edit, expected, preset, hf_hub, kaggle):
    config = json.loads((preset / "config.json").read_text())
    edit(config)
    (preset / "config.json").write_text(json.dumps(config))
    assert expected in _refused(HF_URI, preset, hf_hub, kaggle)


def test_missing_directory_is_refused(tmp_path, hf_hub, kaggle):
    message = _refused(HF_URI, tmp_path / "absent", hf_hub, kaggle, FileNotFoundError)
    assert "absent" in message
