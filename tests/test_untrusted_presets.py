"""Presets from strangers: no way in runs their code or reaches past them.

One test per way in: pickles (never unpickled), `.keras` files (only with
Keras' `safe_mode`), class names in preset JSON (an allow-list, checked
before anything is imported), and file names or symbolic links in a preset
(nothing outside the preset directory, or the hub cache it came from, is
read or written). Code payloads are live (a marker file appears if one ever
runs, as each test's premise check shows); file reads are watched through
Python's audit hooks (`open` events).
"""

import contextlib
import json
import os
import pickle
import shutil
import sys
import zipfile

import keras
import numpy as np
import pytest
from helpers import (
    KERAS_HUB_DIR,
    TRANSFORMERS_DIR,
    VOCABULARY_PATH,
    copy_keras_hub_preset,
    copy_transformers_checkpoint,
    edit_json,
    file_contents,
    hf_cache_entry,
    to_numpy,
    weight_values,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)

pytestmark = pytest.mark.usefixtures("_offline_hubs")

# === Payloads ===


class _Payload:
    """Unpickling this creates `marker` (pickle calls `open(marker, "w")`)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_bytes(marker):
    return pickle.dumps(_Payload(marker))


def _write_npy(path, marker):
    with open(path, "wb") as file:
        np.save(file, np.array([_Payload(marker)], dtype=object), allow_pickle=True)


def test_payloads_are_live(tmp_path):
    """The premise: unpickled, either payload does create its marker."""
    pickle.loads(_pickle_bytes(tmp_path / "from_pickle"))
    assert (tmp_path / "from_pickle").exists()
    _write_npy(tmp_path / "payload.npy", tmp_path / "from_npy")
    np.load(tmp_path / "payload.npy", allow_pickle=True)
    assert (tmp_path / "from_npy").exists()


# === 1. Pickles ===


def _transformers_with_only(file_name, marker, tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    (directory / "model.safetensors").unlink()
    _plant(directory / file_name, marker)
    return directory


def _plant(path, marker):
    if path.suffix == ".npy":
        _write_npy(path, marker)
    else:
        path.write_bytes(_pickle_bytes(marker))


def _keras_hub_with(file_name, marker, tmp_path, replace=None):
    directory = copy_keras_hub_preset(tmp_path)
    if replace:
        (directory / replace).unlink()
    _plant(directory / file_name, marker)
    return directory


PICKLE_CASES = [
    pytest.param(
        lambda m, t: _transformers_with_only("pytorch_model.bin", m, t),
        ValueError,
        r"pytorch_model\.bin, a pickle file .* refused",
        id="pytorch_model.bin-only",
    ),
    *[
        pytest.param(
            lambda m, t, name=name: _transformers_with_only(name, m, t),
            FileNotFoundError,
            r"No model\.safetensors or model\.safetensors\.index\.json",
            id=f"{name}-only",
        )
        for name in ("model.pt", "model.pkl", "model.npy")
    ],
    pytest.param(
        lambda m, t: _keras_hub_with(
            "model.weights.h5", m, t, replace="model.weights.h5"
        ),
        ValueError,
        r"model\.weights\.h5' is not a readable \.weights\.h5",
        id="pickle-named-weights.h5",
    ),
    pytest.param(
        lambda m, t: _keras_hub_with(
            "model.weights.npy", m, t, replace="model.weights.h5"
        ),
        FileNotFoundError,
        r"has no model\.weights\.h5",
        id="npy-instead-of-weights.h5",
    ),
    pytest.param(
        lambda m, t: _transformers_with_only("model.safetensors", m, t),
        ValueError,
        r"model\.safetensors' is not a readable safetensors file",
        id="pickle-named-safetensors",
    ),
]


@pytest.mark.parametrize("make, error, message", PICKLE_CASES)
def test_pickles_are_refused_unopened(tmp_path, make, error, message):
    marker = tmp_path / "unpickled"
    directory = make(marker, tmp_path)
    for cls in (AlbertMaskedLM, AlbertBackbone):
        with pytest.raises(error, match=message):
            cls.from_preset(str(directory))
    assert not marker.exists()


def test_pickles_beside_a_valid_preset_are_ignored(tmp_path):
    marker = tmp_path / "unpickled"
    directory = copy_keras_hub_preset(tmp_path)
    for name in ("pytorch_model.bin", "model.pt", "model.pkl", "model.weights.npy"):
        _plant(directory / name, marker)
    reference = AlbertMaskedLM.from_preset(str(KERAS_HUB_DIR / "groups2_inner2"))
    loaded = AlbertMaskedLM.from_preset(str(directory))
    for ours, theirs in zip(weight_values(loaded), weight_values(reference)):
        np.testing.assert_array_equal(ours, theirs)
    assert not marker.exists()


# === 2. .keras files ===


def test_keras_files_load_only_in_safe_mode(tmp_path, masked_lm):
    saved = tmp_path / "model.keras"
    masked_lm.save(str(saved))
    marker = tmp_path / "lambda_ran"
    marker_path = str(marker)
    payload = keras.layers.Lambda(lambda x: (open(marker_path, "w"), x)[1])
    with zipfile.ZipFile(saved) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(contents["config.json"])
    config["config"]["backbone"] = keras.layers.serialize(payload)
    contents["config.json"] = json.dumps(config)
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, content in contents.items():
            archive.writestr(name, content)

    # The untampered file loads; the tampered one is refused in safe mode.
    reloaded = keras.saving.load_model(str(saved))
    for ours, theirs in zip(weight_values(reloaded), weight_values(masked_lm)):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match=r"`Lambda` layer.*safe_mode"):
        keras.saving.load_model(str(tampered))
    assert not marker.exists()
    # `from_preset` takes directories only: it never opens a `.keras` file.
    with pytest.raises(ValueError, match=r"model\.keras' is a file.*safe_mode"):
        AlbertMaskedLM.from_preset(str(saved))
    # The premise: outside safe mode the lambda is live.
    unsafe = keras.saving.deserialize_keras_object(
        config["config"]["backbone"], safe_mode=False
    )
    unsafe(np.zeros((1, 2)))
    assert marker.exists()


# === 3. Class names in preset JSON ===

EVIL_MODULE = "albert_untrusted_payload"


def _evil(content, **fields):
    content.update(fields)


JSON_CASES = [
    pytest.param(
        "config.json",
        AlbertBackbone,
        lambda c: _evil(c, registered_name=f"{EVIL_MODULE}>AlbertBackbone"),
        id="config-registered_name",
    ),
    pytest.param(
        "config.json",
        AlbertBackbone,
        lambda c: _evil(c, module=EVIL_MODULE),
        id="config-module",
    ),
    pytest.param(
        "config.json",
        AlbertBackbone,
        lambda c: _evil(
            c, module="os", class_name="system", registered_name="os>system"
        ),
        id="config-os.system",
    ),
    pytest.param(
        "config.json",
        AlbertBackbone,
        lambda c: c["config"].update(
            dtype={
                "module": EVIL_MODULE,
                "class_name": "DTypePolicy",
                "config": {"name": "float32"},
                "registered_name": None,
            }
        ),
        id="config-dtype-policy-module",
    ),
    pytest.param(
        "tokenizer.json",
        AlbertTokenizer,
        lambda c: _evil(
            c, module="builtins", class_name="eval", registered_name="builtins>eval"
        ),
        id="tokenizer-builtins.eval",
    ),
    pytest.param(
        "preprocessor.json",
        AlbertMaskedLMPreprocessor,
        lambda c: _evil(c["config"]["tokenizer"], module=EVIL_MODULE),
        id="preprocessor-nested-tokenizer-module",
    ),
    pytest.param(
        "task.json",
        AlbertMaskedLM,
        lambda c: _evil(
            c["config"]["preprocessor"],
            registered_name=f"{EVIL_MODULE}>AlbertMaskedLMPreprocessor",
        ),
        id="task-nested-preprocessor-registered_name",
    ),
]


@pytest.mark.parametrize("file_name, cls, edit", JSON_CASES)
def test_preset_json_names_only_allowed_classes(
    tmp_path, monkeypatch, file_name, cls, edit
):
    marker = tmp_path / "imported"
    (tmp_path / f"{EVIL_MODULE}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "AlbertBackbone = system = eval = DTypePolicy = object\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    directory = copy_keras_hub_preset(tmp_path)
    edit_json(directory / file_name, edit)
    with pytest.raises(ValueError, match=rf"{file_name} of preset .*expected"):
        cls.from_preset(str(directory))
    assert EVIL_MODULE not in sys.modules
    assert not marker.exists()
    # The premise: importing the module is what would leave the marker.
    __import__(EVIL_MODULE)
    del sys.modules[EVIL_MODULE]
    assert marker.exists()


# === 4. Files outside the preset ===

_recorded_opens = None


def _record_opens(event, args):
    if event == "open" and _recorded_opens is not None:
        if isinstance(args[0], str | bytes | os.PathLike):
            _recorded_opens.append(os.path.realpath(args[0]))


sys.addaudithook(_record_opens)


@contextlib.contextmanager
def _opened_files():
    """Real paths of the files Python opens inside the block."""
    global _recorded_opens
    _recorded_opens = opened = []
    try:
        yield opened
    finally:
        _recorded_opens = None


def _outside(tmp_path):
    """Valid files outside the preset, which a preset may try to point at."""
    outside = tmp_path / "outside"
    shutil.copytree(KERAS_HUB_DIR / "groups3_inner2", outside)
    shutil.copy(
        TRANSFORMERS_DIR / "masked_lm_groups2_inner2" / "model.safetensors", outside
    )
    return outside


def _link(path, target):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())


LINK_CASES = [
    pytest.param("keras_hub", "config.json", AlbertBackbone, id="config.json"),
    pytest.param("keras_hub", "model.weights.h5", AlbertBackbone, id="weights"),
    pytest.param("keras_hub", "assets", AlbertTokenizer, id="assets-folder"),
    pytest.param(
        "keras_hub",
        os.path.join("assets", "tokenizer", "vocabulary.spm"),
        AlbertTokenizer,
        id="vocabulary",
    ),
    pytest.param("transformers", "model.safetensors", AlbertMaskedLM, id="safetensors"),
    pytest.param("transformers", "spiece.model", AlbertTokenizer, id="spiece.model"),
]


@pytest.mark.parametrize("kind, name, cls", LINK_CASES)
def test_symbolic_links_out_of_a_preset_are_refused(tmp_path, kind, name, cls):
    outside = _outside(tmp_path)
    if kind == "keras_hub":
        directory = copy_keras_hub_preset(tmp_path)
        target = outside / name
    else:
        directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
        target = outside / name if name.endswith("safetensors") else VOCABULARY_PATH
    _link(directory / name, target)
    with _opened_files() as opened:
        with pytest.raises(ValueError, match=rf"symbolic link '{name}' to .*outside"):
            cls.from_preset(str(directory))
    assert not [p for p in opened if p.startswith(os.path.realpath(outside))]
    assert os.path.realpath(VOCABULARY_PATH) not in opened


def test_links_inside_a_hub_cache_repository_are_followed(tmp_path, _offline_hubs):
    """huggingface_hub's snapshots link into the repository's `blobs/`."""
    case = "masked_lm_gelu_fast_sharded"
    snapshot = hf_cache_entry(_offline_hubs["hf"], "owner/sharded")
    blobs = snapshot.parent.parent / "blobs"
    blobs.mkdir()
    checkpoint = copy_transformers_checkpoint(tmp_path, case)
    for index, path in enumerate(sorted(checkpoint.iterdir())):
        shutil.copy(path, blobs / f"blob{index}")
        (snapshot / path.name).symlink_to(
            os.path.join("..", "..", "blobs", f"blob{index}")
        )
    loaded = []
    for preset in ("hf://owner/sharded", str(snapshot), str(checkpoint)):
        with pytest.warns(UserWarning, match="pooler"):
            masked_lm = AlbertMaskedLM.from_preset(preset)
        # The pooler is not in the checkpoint (freshly initialised): left out.
        loaded.append(
            [to_numpy(v) for v in masked_lm.weights if "pooled_dense" not in v.path]
        )
    for from_cache, from_snapshot, plain in zip(*loaded):
        np.testing.assert_array_equal(from_cache, plain)
        np.testing.assert_array_equal(from_snapshot, plain)

    # A link past the repository folder is refused, even in the cache.
    stray = snapshot / "tokenizer_config.json"
    stray.symlink_to(os.path.join("..", "..", "..", "..", "..", "outside.json"))
    with pytest.raises(ValueError, match="symbolic link 'tokenizer_config.json'"):
        AlbertMaskedLM.from_preset("hf://owner/sharded")


def test_tokenizer_json_file_names_are_never_opened(tmp_path):
    outside = _outside(tmp_path)
    secret = outside / "assets" / "tokenizer" / "vocabulary.spm"
    directory = copy_keras_hub_preset(tmp_path)
    edit_json(
        directory / "tokenizer.json",
        lambda c: c["config"].update(proto=str(secret), config_file="../../secret"),
    )
    with _opened_files() as opened:
        tokenizer = AlbertTokenizer.from_preset(str(directory))
    assert str(secret) not in opened
    assert str(directory / "assets" / "tokenizer" / "vocabulary.spm") in opened
    assert tokenizer.proto == VOCABULARY_PATH.read_bytes()

    # Without its own vocabulary the preset fails; the named file stays unread.
    (directory / "assets" / "tokenizer" / "vocabulary.spm").unlink()
    with _opened_files() as opened:
        with pytest.raises(FileNotFoundError, match=r"has no assets/tokenizer"):
            AlbertTokenizer.from_preset(str(directory))
    assert str(secret) not in opened


SHARD_CASES = [
    pytest.param("../outside/model.weights.h5", id="parent"),
    pytest.param("ABSOLUTE", id="absolute"),
    pytest.param("sub/../../outside/model.weights.h5", id="nested-parent"),
]


@pytest.mark.parametrize("shard", SHARD_CASES)
def test_shard_names_cannot_point_outside(tmp_path, shard):
    outside = _outside(tmp_path)
    if shard == "ABSOLUTE":
        shard = str(outside / "model.weights.h5")

    keras_hub = copy_keras_hub_preset(tmp_path, "groups2_inner2_sharded")
    edit_json(
        keras_hub / "model.weights.json",
        lambda c: c["weight_map"].update({"/vars": shard}),
    )
    with pytest.raises(ValueError, match=r"Shard name .* is not a plain file name"):
        AlbertBackbone.from_preset(str(keras_hub))

    checkpoint = copy_transformers_checkpoint(tmp_path, "masked_lm_gelu_fast_sharded")
    index = "model.safetensors.index.json"
    edit_json(
        checkpoint / index,
        lambda c: c["weight_map"].update(
            {"predictions.bias": shard.replace(".weights.h5", ".safetensors")}
        ),
    )
    with pytest.raises(
        ValueError, match=r"Shard name .* is not a plain '\.safetensors'"
    ):
        AlbertMaskedLM.from_preset(str(checkpoint))


def test_saving_over_a_preset_never_follows_its_links(tmp_path, masked_lm):
    outside = _outside(tmp_path)
    before = file_contents(outside)
    target = copy_keras_hub_preset(tmp_path)
    _link(target / "model.weights.h5", outside / "model.weights.h5")
    _link(target / "notes.txt", outside / "config.json")
    preset_before = file_contents(target)
    with pytest.raises(ValueError, match="symbolic link .* outside"):
        masked_lm.save_to_preset(str(target))
    assert file_contents(outside) == before
    assert file_contents(target) == preset_before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
