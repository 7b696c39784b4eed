"""`PRESET_READERS` (`presets/loading.py`): `open_preset` asks each reader in
turn whether it `matches`, so a format registered in a test is read; readers'
warnings name the caller's line however deep the call; `load_weights=False`
reads no weight file.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import json
import pathlib
import warnings

import pytest
from helpers import TINY_BACKBONE, copy_keras_hub_preset, copy_transformers_checkpoint

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)
from albert_mlm.presets.keras_hub_preset import KerasHubPreset
from albert_mlm.presets.loading import PRESET_READERS, load_task, open_preset
from albert_mlm.presets.preset_reader import PresetReader
from albert_mlm.presets.transformers_checkpoint import TransformersCheckpoint

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")

ARGUMENTS_FILE = "backbone_arguments.json"


class ArgumentsPreset(PresetReader):
    """A made-up format: the backbone's arguments in one JSON file, no weights."""

    @classmethod
    def matches(cls, directory, config):
        return (pathlib.Path(directory) / ARGUMENTS_FILE).is_file()

    def backbone_arguments(self, backbone_cls):
        return json.loads(pathlib.Path(self.path(ARGUMENTS_FILE)).read_text())

    def load_backbone_weights(self, backbone):
        pass


@pytest.fixture
def arguments_format():
    """`ArgumentsPreset` registered first for the test, unregistered after it."""
    PRESET_READERS.insert(0, ArgumentsPreset)
    yield ArgumentsPreset
    PRESET_READERS.remove(ArgumentsPreset)


def _arguments_preset(tmp_path):
    directory = tmp_path / "arguments_preset"
    directory.mkdir()
    (directory / ARGUMENTS_FILE).write_text(json.dumps(TINY_BACKBONE))
    return directory


def test_built_in_readers_are_picked_by_their_matches(tmp_path):
    assert PRESET_READERS[-1] is KerasHubPreset
    keras_hub = copy_keras_hub_preset(tmp_path)
    transformers = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    assert type(open_preset(keras_hub)) is KerasHubPreset
    assert type(open_preset(transformers)) is TransformersCheckpoint
    assert TransformersCheckpoint.matches(transformers, {"model_type": "albert"})
    assert not TransformersCheckpoint.matches(keras_hub, {"class_name": "x"})


def test_open_preset_picks_a_registered_reader(arguments_format, tmp_path):
    directory = _arguments_preset(tmp_path)
    reader = open_preset(directory)
    assert type(reader) is arguments_format
    backbone = AlbertBackbone.from_preset(directory)
    assert backbone.num_layers == TINY_BACKBONE["num_layers"]
    assert backbone.hidden_dim == TINY_BACKBONE["hidden_dim"]
    # A directory it does not match still goes to the readers after it.
    assert type(open_preset(copy_keras_hub_preset(tmp_path))) is KerasHubPreset
    # Asked first, it wins over KerasHub's for a directory both would read.
    both = copy_keras_hub_preset(tmp_path, name="both")
    (both / ARGUMENTS_FILE).write_text(json.dumps(TINY_BACKBONE))
    assert type(open_preset(both)) is arguments_format


def test_an_unregistered_reader_is_not_asked(tmp_path):
    assert ArgumentsPreset not in PRESET_READERS
    reader = open_preset(_arguments_preset(tmp_path))
    assert type(reader) is KerasHubPreset
    with pytest.raises(FileNotFoundError, match="config.json"):
        AlbertBackbone.from_preset(reader.directory)


def _assert_warnings_point_at(load):
    """Every `UserWarning` of `load()` (one at least) names the line of
    `load`, a one-line lambda, as where it was raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load()
    found = {(w.filename, w.lineno) for w in caught if w.category is UserWarning}
    assert found == {(__file__, load.__code__.co_firstlineno)}


def test_keras_hub_warnings_name_the_callers_file(tmp_path):
    directory = copy_keras_hub_preset(tmp_path)
    (directory / "task.weights.h5").unlink()
    task = AlbertMaskedLM.from_preset(directory, load_weights=False)
    # The same warning, raised from three call depths.
    for load in (
        lambda: AlbertMaskedLM.from_preset(directory),
        lambda: load_task(AlbertMaskedLM, directory),
        lambda: open_preset(directory).load_task_weights(task),
    ):
        _assert_warnings_point_at(load)


def test_transformers_warnings_name_the_callers_file(tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    backbone = AlbertBackbone.from_preset(directory, load_weights=False)
    for load in (
        lambda: AlbertBackbone.from_preset(directory),
        lambda: AlbertMaskedLM.from_preset(directory),
        lambda: open_preset(directory).load_backbone_weights(backbone),
    ):
        _assert_warnings_point_at(load)


@pytest.mark.parametrize("weights_format", ["keras_hub", "transformers"])
def test_load_weights_false_reads_no_weights(tmp_path, weights_format):
    if weights_format == "keras_hub":
        directory = copy_keras_hub_preset(tmp_path)
        weight_files = ["model.weights.h5", "task.weights.h5"]
    else:
        directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
        weight_files = ["model.safetensors"]
    for name in weight_files:
        (directory / name).write_bytes(b"not weights")
    with pytest.raises((ValueError, OSError)):
        AlbertBackbone.from_preset(directory)
    with pytest.raises((ValueError, OSError)):
        AlbertMaskedLM.from_preset(directory)
    # Without weights to load, the broken files are never opened.
    assert AlbertBackbone.from_preset(directory, load_weights=False).num_layers == 4
    task = AlbertMaskedLM.from_preset(directory, load_weights=False)
    assert task.preprocessor is not None
    # A tokenizer or preprocessor has no weights: the flag changes nothing.
    for cls in (AlbertTokenizer, AlbertMaskedLMPreprocessor):
        assert type(cls.from_preset(directory, load_weights=False)) is cls
