"""Broken and hostile presets, refused on reading (`albert_mlm/presets/`).

Broken: one table row per way to break a preset made from a tiny model saved
with `save_to_preset`, a KerasHub fixture preset or a transformers checkpoint.
Each row runs one loader and expects one exception type and a message naming
the file or variable at fault and what was expected; after every row the files
under `tmp_path` (the broken preset, the offline hub caches) are exactly as
before, no temporary directory appeared, and a model already in memory still
holds the same weights.

Hostile: no way in runs a stranger's code or reaches past the preset. Pickles
are never unpickled, `.keras` files load only with Keras' `safe_mode`, class
names in preset JSON pass an allow-list before anything is imported, and file
names or symbolic links never lead outside the preset directory (or the hub
cache it came from). Code payloads are live (a marker file appears if one ever
runs, as each test's premise check shows); file reads are watched through
Python's audit hooks (`open` events).

What `save_to_preset` refuses is in test_saving_refusals.py.
"""

import contextlib
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile

import h5py
import keras
import numpy as np
import pytest
from helpers import (
    KERAS_HUB_DIR,
    TINY_BACKBONE,
    VOCABULARY_PATH,
    copy_keras_hub_preset,
    copy_transformers_checkpoint,
    edit_json,
    hf_cache_entry,
    replace_with_link,
    to_numpy,
    tree_contents,
    weight_values,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)

pytestmark = pytest.mark.usefixtures("_offline_hubs")


# === Broken presets ===


class Sources:
    """Valid presets to break, made on demand inside `tmp_path`."""

    def __init__(self, tmp_path, masked_lm):
        self.tmp_path = tmp_path
        self.masked_lm = masked_lm

    def saved(self, masked_lm=None):
        """A preset written by `save_to_preset` from a tiny model."""
        directory = self.tmp_path / "saved"
        (masked_lm or self.masked_lm).save_to_preset(str(directory))
        return directory

    def keras_hub(self, preset="groups2_inner2"):
        return copy_keras_hub_preset(self.tmp_path, preset)

    def transformers(self, case="masked_lm_groups2_inner2"):
        return copy_transformers_checkpoint(self.tmp_path, case)


def _poison_h5(path, layer, value):
    """Write `value` into the first element of `layer`'s first variable."""
    with h5py.File(path, "a") as file:
        names = []
        file.visititems(
            lambda name, item: (
                names.append(name)
                if isinstance(item, h5py.Dataset) and layer in name
                else None
            )
        )
        array = file[names[0]][()]
        array.flat[0] = value
        file[names[0]][...] = array


def _poison_safetensors(path, key, value):
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(path))
    tensors[key].flat[0] = value
    save_file(tensors, str(path))


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _break_safetensors_header(path):
    """Keep the 8-byte header length; make the JSON header unparsable."""
    data = bytearray(path.read_bytes())
    (header_length,) = struct.unpack("<Q", data[:8])
    data[8 : 8 + header_length] = b"X" * header_length
    path.write_bytes(bytes(data))


def _nan_in_saved_weights(sources):
    directory = sources.saved()
    _poison_h5(directory / "model.weights.h5", "intermediate", np.nan)
    return directory


def _inf_in_keras_hub_head(sources):
    directory = sources.keras_hub()
    _poison_h5(directory / "task.weights.h5", "masked_lm_head", np.inf)
    return directory


def _non_finite_in_checkpoint(case, key, value):
    def corrupt(sources):
        directory = sources.transformers(case)
        _poison_safetensors(directory / "model.safetensors", key, value)
        return directory

    return corrupt


def _damaged(source, file_name, damage):
    def corrupt(sources):
        directory = getattr(sources, source)()
        damage(directory / file_name)
        return directory

    return corrupt


def _edited(source, edit, file_name="config.json"):
    def corrupt(sources):
        directory = getattr(sources, source)()
        edit_json(directory / file_name, edit)
        return directory

    return corrupt


def _backbone_config(**changes):
    return _edited("keras_hub", lambda c: c["config"].update(changes))


def _foreign_backbone_in_task(content):
    content["config"]["backbone"].update(
        class_name="BertBackbone",
        registered_name="keras_hub>BertBackbone",
        module="keras_hub.src.models.bert.bert_backbone",
    )


def _not_sentencepiece(path):
    path.write_text("<pad>\n<unk>\n[CLS]\n[SEP]\n[MASK]\n")


def _vocabulary_larger_than_embedding(sources):
    small = AlbertMaskedLM(
        AlbertBackbone(**{**TINY_BACKBONE, "vocabulary_size": 300}),
        sources.masked_lm.preprocessor,
    )
    return sources.saved(small)


def _handle(handle):
    return lambda sources: handle


def _row(id, corrupt, cls, error, message):
    return pytest.param(corrupt, cls, error, message, id=id)


VOCABULARY_FILE = os.path.join("assets", "tokenizer", "vocabulary.spm")
ROWS = [
    # --- Weights: non-finite values, unreadable files ---
    _row(
        "nan-in-weights-h5",
        _nan_in_saved_weights,
        AlbertBackbone,
        ValueError,
        r"Non-finite values .* variable '[^']*intermediate_dense/kernel'.*"
        r"model\.weights\.h5",
    ),
    _row(
        "inf-in-task-weights-h5",
        _inf_in_keras_hub_head,
        AlbertMaskedLM,
        ValueError,
        r"Non-finite values .* variable 'mlm_head/[^']*'.*task\.weights\.h5",
    ),
    _row(
        "nan-in-safetensors",
        _non_finite_in_checkpoint(
            "masked_lm_groups2_inner2",
            "albert.embeddings.word_embeddings.weight",
            np.nan,
        ),
        AlbertMaskedLM,
        ValueError,
        r"Non-finite values .* variable 'token_embedding/embeddings'.*"
        r"word_embeddings\.weight",
    ),
    _row(
        "infinity-in-safetensors",
        _non_finite_in_checkpoint("model_relu_groups3", "pooler.weight", -np.inf),
        AlbertBackbone,
        ValueError,
        r"Non-finite values .* variable 'pooled_dense/kernel'.*pooler\.weight",
    ),
    _row(
        "truncated-weights-h5",
        _damaged("saved", "model.weights.h5", _truncate),
        AlbertMaskedLM,
        ValueError,
        r"model\.weights\.h5' is not a readable \.weights\.h5 \(HDF5\) file.*"
        r"truncated",
    ),
    _row(
        "random-bytes-weights-h5",
        _damaged("keras_hub", "model.weights.h5", _random_bytes),
        AlbertBackbone,
        ValueError,
        r"model\.weights\.h5' is not a readable \.weights\.h5 \(HDF5\) file.*"
        r"signature",
    ),
    _row(
        "truncated-safetensors",
        _damaged("transformers", "model.safetensors", _truncate),
        AlbertMaskedLM,
        ValueError,
        r"model\.safetensors' is not a readable safetensors file",
    ),
    _row(
        "bad-header-safetensors",
        _damaged("transformers", "model.safetensors", _break_safetensors_header),
        AlbertBackbone,
        ValueError,
        r"model\.safetensors' is not a readable safetensors file.*[Hh]eader",
    ),
    # --- config.json and the other JSON files ---
    _row(
        "config-missing-key",
        _edited("keras_hub", lambda c: c["config"].pop("num_heads")),
        AlbertBackbone,
        ValueError,
        r"config\.json of preset .* lacks the AlbertBackbone arguments "
        r"\['num_heads'\]",
    ),
    _row(
        "transformers-config-missing-key",
        _edited("transformers", lambda c: c.pop("vocab_size")),
        AlbertMaskedLM,
        ValueError,
        r"config\.json of preset .* lacks the AlbertConfig keys \['vocab_size'\]",
    ),
    _row(
        "preprocessor-json-unknown-key",
        _edited(
            "saved",
            lambda c: c["config"].update(mask_everything=True),
            "preprocessor.json",
        ),
        AlbertMaskedLMPreprocessor,
        ValueError,
        r"preprocessor\.json of preset .* unknown AlbertMaskedLMPreprocessor "
        r"arguments \['mask_everything'\]",
    ),
    _row(
        "config-string-for-int",
        _backbone_config(num_layers="twelve"),
        AlbertBackbone,
        ValueError,
        r"config\.json of preset .* `num_layers` must be a positive integer\. "
        r"Received: num_layers='twelve'",
    ),
    _row(
        "config-float-for-int",
        _backbone_config(hidden_dim=16.0),
        AlbertMaskedLM,
        ValueError,
        r"config\.json of preset .* `hidden_dim` must be a positive integer\. "
        r"Received: hidden_dim=16\.0",
    ),
    _row(
        "config-negative",
        _backbone_config(num_heads=-2),
        AlbertBackbone,
        ValueError,
        r"config\.json of preset .* `num_heads` must be a positive integer\. "
        r"Received: num_heads=-2",
    ),
    _row(
        "config-string-for-rate",
        _backbone_config(dropout="0.1"),
        AlbertBackbone,
        ValueError,
        r"config\.json of preset .* `dropout` must be a number in \[0, 1\)\. "
        r"Received: dropout='0\.1'",
    ),
    _row(
        "foreign-class-nested-in-task-json",
        _edited("keras_hub", _foreign_backbone_in_task, "task.json"),
        AlbertMaskedLM,
        ValueError,
        r"task\.json of preset .* \('backbone'\) holds a 'BertBackbone' "
        r"\(registered as 'keras_hub>BertBackbone'.*expected AlbertBackbone",
    ),
    _row(
        "arbitrary-module-path",
        _edited("saved", lambda c: c.update(module="os.path")),
        AlbertBackbone,
        ValueError,
        r"config\.json of preset .* module 'os\.path'\); expected AlbertBackbone "
        r".*Nothing was imported",
    ),
    # --- Vocabulary ---
    _row(
        "vocabulary-not-sentencepiece",
        _damaged("saved", VOCABULARY_FILE, _not_sentencepiece),
        AlbertTokenizer,
        ValueError,
        r"assets/tokenizer/vocabulary\.spm of preset .* is not a usable ALBERT "
        r"vocabulary: `proto` is not a valid SentencePiece model",
    ),
    _row(
        "vocabulary-larger-than-embedding",
        _vocabulary_larger_than_embedding,
        AlbertMaskedLM,
        ValueError,
        r"vocabulary has 400 pieces but config\.json's vocabulary_size .* only 300",
    ),
    # --- Handles that try to leave a hub's cache ---
    *[
        _row(
            f"handle-{handle.replace('/', '_')}",
            _handle(handle),
            AlbertMaskedLM,
            ValueError,
            rf"Invalid preset handle '{handle}'.* parts of letters, digits",
        )
        for handle in ("kaggle://../../etc", "hf://../x", "hf://org/../../x")
    ],
]


@pytest.mark.parametrize("corrupt, cls, error, message", ROWS)
def test_bad_preset_is_refused_and_leaves_nothing_behind(
    tmp_path, masked_lm, corrupt, cls, error, message
):
    preset = corrupt(Sources(tmp_path, masked_lm))
    weights_before = weight_values(masked_lm)
    files_before = tree_contents(tmp_path)
    with pytest.raises(error, match=message):
        cls.from_preset(str(preset))
    assert tree_contents(tmp_path) == files_before
    for before, after in zip(weights_before, weight_values(masked_lm)):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("source", ["saved", "keras_hub", "transformers"])
def test_unbroken_sources_load(tmp_path, masked_lm, source):
    """The table's premise: each source loads before it is broken."""
    directory = getattr(Sources(tmp_path, masked_lm), source)()
    # That transformers checkpoint has no pooler, and says so.
    expected = pytest.warns(UserWarning, match="pooler")
    with expected if source == "transformers" else contextlib.nullcontext():
        loaded = AlbertMaskedLM.from_preset(str(directory))
    assert loaded.backbone.vocabulary_size == 400
    if source == "saved":
        for ours, theirs in zip(weight_values(loaded), weight_values(masked_lm)):
            np.testing.assert_array_equal(ours, theirs)


# === Hostile presets: payloads ===


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


# === Hostile presets: 1. pickles ===


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


# === Hostile presets: 2. .keras files ===


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


# === Hostile presets: 3. class names in preset JSON ===

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


# === Hostile presets: 4. files outside the preset ===

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
def test_symbolic_links_out_of_a_preset_are_refused(tmp_path, outside, kind, name, cls):
    if kind == "keras_hub":
        directory = copy_keras_hub_preset(tmp_path)
        target = outside / name
    else:
        directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
        target = outside / name if name.endswith("safetensors") else VOCABULARY_PATH
    replace_with_link(directory / name, target)
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


def test_tokenizer_json_file_names_are_never_opened(tmp_path, outside):
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
def test_shard_names_cannot_point_outside(tmp_path, outside, shard):
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
