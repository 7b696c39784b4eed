"""The device layout of a pretraining run, and what it refuses, without
starting any device: the choices `start_devices` and the processes make."""

import collections

import pytest

from albert_mlm.training.devices import (
    DeviceLayout,
    _chosen_devices,
    require_shardable,
    start_devices,
)
from albert_mlm.training.hosts import process_settings, settings_digest
from albert_mlm.training.pretrain_options import PretrainOptions
from albert_mlm.training.pretraining_model import PretrainError

Device = collections.namedtuple("Device", ["process_index", "id"])
BASE_CONFIG = {
    "vocabulary_size": 30000, "num_heads": 12, "hidden_dim": 768,
    "intermediate_dim": 3072, "embedding_dim": 128,
}  # fmt: skip


def _options(**settings):
    return PretrainOptions(corpus=["unused"], out="unused", **settings)


def test_each_process_gives_its_first_devices_in_process_order():
    devices = [Device(1, 9), Device(0, 3), Device(1, 8), Device(0, 1), Device(0, 2)]
    assert _chosen_devices(devices, 2, None) == [
        Device(0, 1), Device(0, 2), Device(0, 3), Device(1, 8), Device(1, 9)
    ]  # fmt: skip
    assert _chosen_devices(devices, 2, 2) == [
        Device(0, 1), Device(0, 2), Device(1, 8), Device(1, 9)
    ]  # fmt: skip
    with pytest.raises(PretrainError, match="--devices 3: process 1 has only 2"):
        _chosen_devices(devices, 2, 3)


@pytest.mark.parametrize(
    "layout, local",
    [
        (DeviceLayout("jax", devices=8, processes=2, process_index=1), (4, 5, 6, 7)),
        (DeviceLayout("jax", devices=8, processes=4, process_index=2), (4, 5)),
        (DeviceLayout("jax", devices=8, model_parallel=2), (0, 1, 2, 3)),
        (DeviceLayout("torch"), (0,)),
    ],
)
def test_a_process_feeds_its_own_replicas(layout, local):
    assert layout.local_replicas == local
    assert layout.is_chief == (layout.process_index == 0)


def test_a_mesh_that_splits_every_sharded_size_passes():
    require_shardable(BASE_CONFIG, DeviceLayout("jax", devices=8, model_parallel=4))
    # Without model parallelism nothing is split.
    require_shardable({}, DeviceLayout("jax", devices=8))


@pytest.mark.parametrize(
    "name, axis",
    [
        ("vocabulary_size", "model"),
        ("num_heads", "model"),
        ("intermediate_dim", "model"),
        ("hidden_dim", "model"),
        ("embedding_dim", "batch"),
    ],
)
def test_a_size_the_mesh_cannot_split_is_named(name, axis):
    # A 2 x 2 mesh: every size of BASE_CONFIG is even but the one made odd.
    config = dict(BASE_CONFIG, **{name: BASE_CONFIG[name] + 1})
    layout = DeviceLayout("jax", devices=4, model_parallel=2)
    with pytest.raises(PretrainError, match=f"the model's {name} .* {axis} axis"):
        require_shardable(config, layout)


def test_process_settings_come_from_options_or_the_environment(monkeypatch):
    assert process_settings(_options()) == (None, 1, 0)
    monkeypatch.setenv("COORDINATOR_ADDRESS", "host0:1234")
    monkeypatch.setenv("NUM_PROCESSES", "4")
    monkeypatch.setenv("PROCESS_ID", "3")
    assert process_settings(_options()) == ("host0:1234", 4, 3)
    assert process_settings(_options(process_id=1)) == ("host0:1234", 4, 1)
    monkeypatch.setenv("PROCESS_ID", "three")
    with pytest.raises(PretrainError, match="PROCESS_ID must be an integer"):
        process_settings(_options())


def test_the_settings_digest_ignores_only_the_process_id(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("some text.\n")
    files = [str(corpus)]
    digest = settings_digest(_options(process_id=0), files)
    assert settings_digest(_options(process_id=3), files) == digest
    assert settings_digest(_options(seed=1), files) != digest
    assert settings_digest(_options(batch_size=64), files) != digest
    corpus.write_text("other, longer text.\n")
    assert settings_digest(_options(process_id=0), files) != digest


def test_one_device_needs_no_distribution():
    layout = start_devices(_options(devices=1))
    assert layout.strategy is None and layout.replicas == 1
    assert layout.summary() == "1 device"
