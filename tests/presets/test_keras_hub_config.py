"""KerasHub's preset JSON (`albert_mlm.presets.keras_hub_config`): bad or foreign
class names, unknown arguments and invalid JSON are refused.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import json

import pytest
from helpers import copy_keras_hub_preset, edit_json

from albert_mlm import AlbertBackbone, AlbertMaskedLM, AlbertTokenizer

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c.update(class_name="BertBackbone"), "expected AlbertBackbone"),
        (
            lambda c: c.update(registered_name="evil_module>AlbertBackbone"),
            "evil_module",
        ),
        (lambda c: c["config"].update(exec_me="import os"), "exec_me"),
        (lambda c: c.pop("config"), "config"),
        (lambda c: c["config"].update(name="a/b"), "name 'a/b'"),
        (lambda c: c["config"].update(name=7), "name 7"),
    ],
    ids=[
        "class_name",
        "registered_name",
        "unknown_key",
        "no_config",
        "name_with_slash",
        "name_not_text",
    ],  # fmt: skip
)
def test_bad_config_json_is_refused(tmp_path, edit, message):
    directory = copy_keras_hub_preset(tmp_path)
    edit_json(directory / "config.json", edit)
    with pytest.raises(ValueError, match=message):
        AlbertBackbone.from_preset(str(directory))
    with pytest.raises(ValueError, match=message):
        AlbertMaskedLM.from_preset(str(directory))


def test_bad_tokenizer_json_is_refused(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    edit_json(
        directory / "tokenizer.json",
        lambda c: c.update(registered_name="evil_module>AlbertTokenizer"),
    )
    with pytest.raises(ValueError, match="evil_module"):
        AlbertTokenizer.from_preset(str(directory))


def test_invalid_json_is_value_error(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    (directory / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        AlbertBackbone.from_preset(str(directory))


def test_wrong_class_name_error_names_the_class_found(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    edit_json(directory / "config.json", lambda c: c.update(class_name="BertBackbone"))
    with pytest.raises(ValueError, match="BertBackbone"):
        AlbertBackbone.from_preset(str(directory))


def test_saved_names_are_kept_however_often_a_preset_is_loaded(tmp_path):
    """As in KerasHub: the second load in a process is not `albert_backbone_1`,
    so saving it again writes the same config."""
    directory = copy_keras_hub_preset(tmp_path)
    edit_json(directory / "config.json", lambda c: c["config"].update(name="mine"))
    names = {
        file_name: json.loads((directory / file_name).read_text())["config"]["name"]
        for file_name in ("config.json", "task.json", "tokenizer.json")
    }
    first, second = (AlbertMaskedLM.from_preset(str(directory)) for _ in range(2))
    for masked_lm in (first, second):
        assert masked_lm.backbone.name == "mine" == names["config.json"]
        assert masked_lm.name == names["task.json"]
        assert masked_lm.preprocessor.tokenizer.name == names["tokenizer.json"]
    second.save_to_preset(str(tmp_path / "again"))
    for file_name, name in names.items():
        saved = json.loads((tmp_path / "again" / file_name).read_text())
        assert saved["config"]["name"] == name
