"""`from_preset` / `save_to_preset`: KerasHub presets, transformers
checkpoints, built-in names, and the kaggle:// and hf:// hubs (offline,
through the real `kagglehub` and `huggingface_hub` clients and their caches).

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import json
import os
import shutil
import warnings

import h5py
import keras
import numpy as np
import pytest
from conftest import (
    KERAS_HUB_DIR,
    KERAS_HUB_PRESETS,
    TRANSFORMERS_DIR,
    VOCABULARY_PATH,
    _copy_keras_hub_preset,
    _edit_json,
    _files,
    _hf_cache_entry,
    _numpy,
    _transformers_checkpoint,
    _weights,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)
from albert_mlm.presets import saving
from albert_mlm.presets.handles import resolve_preset
from albert_mlm.presets.registry import BUILT_IN_PRESETS

KERAS_HUB_TOLERANCE = 1e-5
TRANSFORMERS_TOLERANCE = 1e-4
TRANSFORMERS_CASES = (
    "masked_lm_groups2_inner2",
    "pretraining_gelu",
    "model_relu_groups3",
    "masked_lm_gelu_fast_sharded",
)
HAS_POOLER = {"pretraining_gelu", "model_relu_groups3"}
HAS_HEAD = {
    "masked_lm_groups2_inner2",
    "pretraining_gelu",
    "masked_lm_gelu_fast_sharded",
}
BUILT_IN_NAMES = {
    "albert_base_en_uncased": 11_683_584,
    "albert_large_en_uncased": 17_683_968,
    "albert_extra_large_en_uncased": 58_724_864,
    "albert_extra_extra_large_en_uncased": 222_595_584,
}
PRESET_FILES = {
    "config.json",
    "metadata.json",
    "model.weights.h5",
    "task.json",
    "task.weights.h5",
    "preprocessor.json",
    "tokenizer.json",
    os.path.join("assets", "tokenizer", "vocabulary.spm"),
}


# === Helpers ===

# Every test runs with empty, offline hub caches (see conftest).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


def _keras_hub_goldens(preset):
    return dict(np.load(KERAS_HUB_DIR / preset / "goldens.npz"))


def _keras_hub_inputs(goldens, with_mask_positions=True):
    keys = ["token_ids", "segment_ids", "padding_mask"]
    if with_mask_positions:
        keys.append("mask_positions")
    return {key: goldens[key] for key in keys}


def _assert_keras_hub_logits(masked_lm, preset):
    goldens = _keras_hub_goldens(preset)
    logits = _numpy(masked_lm(_keras_hub_inputs(goldens)))
    np.testing.assert_allclose(
        logits, goldens["logits"], atol=KERAS_HUB_TOLERANCE, rtol=0
    )
    return logits


def _transformers_goldens(case):
    return dict(np.load(TRANSFORMERS_DIR / case / "goldens.npz"))


def _transformers_inputs(goldens):
    return {
        "token_ids": goldens["input_ids"],
        "segment_ids": goldens["token_type_ids"],
        "padding_mask": goldens["attention_mask"],
    }


def _max_error(actual, expected, where=None):
    error = np.abs(_numpy(actual).astype("float64") - np.asarray(expected, "float64"))
    return float(error[where].max() if where is not None else error.max())


def _dataset_names(path):
    names = []
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                names.append(name) if isinstance(item, h5py.Dataset) else None
            )
        )
    return sorted(name for name in names if not name.startswith("optimizer/"))


# === 1. KerasHub preset directories ===


@pytest.mark.parametrize("preset", KERAS_HUB_PRESETS)
def test_keras_hub_preset_masked_lm_and_backbone_match_goldens(preset):
    directory = KERAS_HUB_DIR / preset
    masked_lm = AlbertMaskedLM.from_preset(str(directory))
    _assert_keras_hub_logits(masked_lm, preset)

    goldens = _keras_hub_goldens(preset)
    backbone = AlbertBackbone.from_preset(directory)  # a pathlib.Path works too
    outputs = backbone(_keras_hub_inputs(goldens, with_mask_positions=False))
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(
            _numpy(outputs[key]), goldens[key], atol=KERAS_HUB_TOLERANCE, rtol=0
        )


def test_keras_hub_preset_tokenizer_and_preprocessor_settings():
    directory = KERAS_HUB_DIR / "groups2_inner2"
    stored = json.loads((directory / "preprocessor.json").read_text())["config"]

    tokenizer = AlbertTokenizer.from_preset(str(directory))
    assert isinstance(tokenizer, AlbertTokenizer)
    assert tokenizer.vocabulary_size() == 400
    assert tokenizer.lowercase is True
    reference = AlbertTokenizer(str(VOCABULARY_PATH))
    text = ["The Quick BROWN Fox jumped."]
    np.testing.assert_array_equal(_numpy(tokenizer(text)), _numpy(reference(text)))

    preprocessor = AlbertMaskedLMPreprocessor.from_preset(str(directory))
    assert stored["sequence_length"] == 16 and stored["mask_selection_length"] == 4
    for key in (
        "sequence_length",
        "truncate",
        "mask_selection_rate",
        "mask_selection_length",
        "mask_token_rate",
        "random_token_rate",
    ):
        assert getattr(preprocessor, key) == stored[key], key
    x, y, _ = preprocessor(["the quick brown fox jumped over the lazy dog"])
    assert tuple(x["token_ids"].shape) == (1, 16)
    assert tuple(y.shape) == (1, 4)

    masked_lm = AlbertMaskedLM.from_preset(str(directory))
    assert masked_lm.preprocessor.sequence_length == 16
    assert masked_lm.preprocessor.mask_selection_length == 4


def test_keras_hub_preset_overrides():
    directory = str(KERAS_HUB_DIR / "groups2_inner2")
    preprocessor = AlbertMaskedLMPreprocessor.from_preset(directory, sequence_length=12)
    assert preprocessor.sequence_length == 12
    assert preprocessor.mask_selection_length == 4  # the rest still from the preset

    masked_lm = AlbertMaskedLM.from_preset(directory, sequence_length=12)
    assert masked_lm.preprocessor.sequence_length == 12

    bare = AlbertMaskedLM.from_preset(directory, preprocessor=None)
    assert bare.preprocessor is None
    _assert_keras_hub_logits(bare, "groups2_inner2")

    half = AlbertBackbone.from_preset(directory, dtype="bfloat16")
    assert half.weights and all(
        keras.backend.standardize_dtype(v.dtype) == "bfloat16" for v in half.weights
    )
    full = AlbertBackbone.from_preset(directory)
    np.testing.assert_allclose(
        _numpy(keras.ops.cast(half.token_embedding.embeddings, "float32")),
        _numpy(full.token_embedding.embeddings),
        atol=1e-2,
        rtol=1e-2,
    )

    with pytest.raises(TypeError, match="not_an_argument"):
        AlbertBackbone.from_preset(directory, not_an_argument=1)


def test_keras_hub_preset_load_weights_false():
    directory = str(KERAS_HUB_DIR / "groups2_inner2")
    loaded = AlbertMaskedLM.from_preset(directory)
    fresh = AlbertMaskedLM.from_preset(directory, load_weights=False)
    assert fresh.preprocessor is not None
    assert [v.shape for v in fresh.weights] == [v.shape for v in loaded.weights]
    differing = [
        not np.array_equal(a, b) for a, b in zip(_weights(fresh), _weights(loaded))
    ]
    # Layer-norm gammas/betas and zero biases may coincide; kernels must not.
    assert sum(differing) > len(differing) // 2
    assert not np.array_equal(
        _numpy(fresh.backbone.token_embedding.embeddings),
        _numpy(loaded.backbone.token_embedding.embeddings),
    )


# === 2. save_to_preset ===


def _assert_layout_matches_original(
    saved, original, expected_files, compare_values=True
):
    saved_files = set(_files(saved))
    assert saved_files == expected_files
    assert expected_files <= set(_files(original))
    for name in expected_files:
        if name.endswith(".json") and name != "metadata.json":
            ours = json.loads((saved / name).read_text())
            theirs = json.loads((original / name).read_text())
            assert ours["class_name"] == theirs["class_name"], name
            assert ours["registered_name"] == theirs["registered_name"], name
            assert ours["registered_name"].startswith("keras_hub>"), name
            # Keys may differ slightly (we write `trainable` in task.json and
            # no float `dtype` in preprocessor.json); shared values must agree.
            if compare_values:
                for key in set(ours["config"]) & set(theirs["config"]):
                    if key != "name" and not isinstance(theirs["config"][key], dict):
                        assert ours["config"][key] == theirs["config"][key], (name, key)
            for key in ("backbone", "preprocessor", "tokenizer"):
                if isinstance(theirs["config"].get(key), dict):
                    assert (
                        ours["config"][key]["registered_name"]
                        == (theirs["config"][key]["registered_name"])
                    ), (name, key)
        elif name.endswith(".h5"):
            assert _dataset_names(saved / name) == _dataset_names(original / name), name
        elif name.endswith(".spm"):
            assert (saved / name).read_bytes() == (original / name).read_bytes()
    if "metadata.json" in expected_files:
        metadata = json.loads((saved / "metadata.json").read_text())
        original_metadata = json.loads((original / "metadata.json").read_text())
        assert metadata["parameter_count"] == original_metadata["parameter_count"]


@pytest.mark.parametrize("preset", ["groups2_inner2", "groups1_inner1"])
def test_save_masked_lm_round_trip(tmp_path, preset):
    original = KERAS_HUB_DIR / preset
    masked_lm = AlbertMaskedLM.from_preset(str(original))
    logits = _assert_keras_hub_logits(masked_lm, preset)
    saved = tmp_path / "saved"
    masked_lm.save_to_preset(str(saved))
    _assert_layout_matches_original(saved, original, PRESET_FILES)
    # Same backbone config as KerasHub wrote (defaults are not spelled out).
    ours, theirs = (
        json.loads((d / "config.json").read_text())["config"] for d in (saved, original)
    )
    ours.pop("name"), theirs.pop("name")  # Keras' unique names depend on history.
    assert ours == theirs
    # The files KerasHub wrote and ours hold the same arrays.
    for name in ("model.weights.h5", "task.weights.h5"):
        with h5py.File(saved / name) as ours, h5py.File(original / name) as theirs:
            for key in _dataset_names(original / name):
                np.testing.assert_array_equal(ours[key][()], theirs[key][()])

    reloaded = AlbertMaskedLM.from_preset(str(saved))
    goldens = _keras_hub_goldens(preset)
    np.testing.assert_array_equal(_numpy(reloaded(_keras_hub_inputs(goldens))), logits)
    assert reloaded.preprocessor.sequence_length == 16
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_save_backbone_tokenizer_preprocessor_round_trip(tmp_path):
    original = KERAS_HUB_DIR / "groups3_inner2"
    goldens = _keras_hub_goldens("groups3_inner2")

    backbone = AlbertBackbone.from_preset(str(original))
    backbone.save_to_preset(str(tmp_path / "backbone"))
    _assert_layout_matches_original(
        tmp_path / "backbone",
        original,
        {"config.json", "metadata.json", "model.weights.h5"},
    )
    reloaded = AlbertBackbone.from_preset(str(tmp_path / "backbone"))
    inputs = _keras_hub_inputs(goldens, with_mask_positions=False)
    expected = backbone(inputs)
    actual = reloaded(inputs)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(_numpy(actual[key]), _numpy(expected[key]))

    tokenizer = AlbertTokenizer.from_preset(str(original))
    tokenizer.save_to_preset(str(tmp_path / "tokenizer"))
    _assert_layout_matches_original(
        tmp_path / "tokenizer",
        original,
        {"tokenizer.json", os.path.join("assets", "tokenizer", "vocabulary.spm")},
    )
    text = ["the quick brown fox"]
    np.testing.assert_array_equal(
        _numpy(AlbertTokenizer.from_preset(str(tmp_path / "tokenizer"))(text)),
        _numpy(tokenizer(text)),
    )

    preprocessor = AlbertMaskedLMPreprocessor.from_preset(
        str(original), sequence_length=12
    )
    preprocessor.save_to_preset(str(tmp_path / "preprocessor"))
    _assert_layout_matches_original(
        tmp_path / "preprocessor",
        original,
        {
            "preprocessor.json",
            "tokenizer.json",
            os.path.join("assets", "tokenizer", "vocabulary.spm"),
        },
        compare_values=False,  # sequence_length was overridden.
    )
    again = AlbertMaskedLMPreprocessor.from_preset(str(tmp_path / "preprocessor"))
    assert again.sequence_length == 12
    assert again.mask_selection_length == 4


def test_save_tokenizer_into_backbone_preset_keeps_it(tmp_path):
    original = KERAS_HUB_DIR / "groups2_inner2"
    target = tmp_path / "preset"
    backbone = AlbertBackbone.from_preset(str(original))
    backbone.save_to_preset(str(target))
    before = _files(target)

    AlbertTokenizer.from_preset(str(original)).save_to_preset(str(target))
    after = _files(target)
    for name, content in before.items():
        assert after[name] == content, name
    assert set(after) == set(before) | {
        "tokenizer.json",
        os.path.join("assets", "tokenizer", "vocabulary.spm"),
    }
    reloaded = AlbertBackbone.from_preset(str(target))
    np.testing.assert_array_equal(
        _numpy(reloaded.token_embedding.embeddings),
        _numpy(backbone.token_embedding.embeddings),
    )
    assert AlbertTokenizer.from_preset(str(target)).vocabulary_size() == 400


def test_save_refuses_non_empty_non_preset_directory(tmp_path):
    target = tmp_path / "my_documents"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    (target / "sub").mkdir()
    (target / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = _files(target)
    tokenizer = AlbertTokenizer(str(VOCABULARY_PATH))
    with pytest.raises(ValueError, match="not empty"):
        tokenizer.save_to_preset(str(target))
    assert _files(target) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    # An empty directory is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    tokenizer.save_to_preset(str(empty))
    assert (empty / "tokenizer.json").is_file()


def _failing_weights_writer(calls):
    from albert_mlm.presets.keras_hub_weights import write_keras_hub_weights

    def write(entries, path):
        calls.append(path)
        if len(calls) == 2:  # The head's weights, after the backbone's.
            with open(path, "wb") as file:
                file.write(b"half a file")
            raise RuntimeError("disk full")
        write_keras_hub_weights(entries, path)

    return write


def test_save_is_atomic_over_an_existing_preset(tmp_path, monkeypatch):
    target = _copy_keras_hub_preset(tmp_path, "groups2_inner2", "preset")
    before = _files(target)
    other = AlbertMaskedLM.from_preset(str(KERAS_HUB_DIR / "groups3_inner2"))

    calls = []
    monkeypatch.setattr(
        saving, "write_keras_hub_weights", _failing_weights_writer(calls)
    )
    with pytest.raises(RuntimeError, match="disk full"):
        other.save_to_preset(str(target))
    assert len(calls) == 2  # It did fail midway, after writing a weights file.
    assert _files(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hf_home",
        "kagglehub_cache",
        "preset",
    ]
    _assert_keras_hub_logits(AlbertMaskedLM.from_preset(str(target)), "groups2_inner2")


def test_save_is_atomic_into_a_new_directory(tmp_path, monkeypatch):
    masked_lm = AlbertMaskedLM.from_preset(str(KERAS_HUB_DIR / "groups1_inner1"))
    parent = tmp_path / "parent"
    parent.mkdir()

    def fail(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(saving, "_write_task", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        saving.save_task(masked_lm, str(parent / "new_preset"))
    assert list(parent.iterdir()) == []


# === 3. transformers checkpoints ===


@pytest.mark.parametrize("case", TRANSFORMERS_CASES)
def test_transformers_checkpoint_masked_lm(tmp_path, case):
    directory = _transformers_checkpoint(tmp_path, case)
    goldens = _transformers_goldens(case)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        masked_lm = AlbertMaskedLM.from_preset(str(directory))
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any("pooler" in m for m in messages) == (case not in HAS_POOLER), messages
    assert any("masked-LM head" in m for m in messages) == (case not in HAS_HEAD), (
        messages
    )

    config = json.loads((directory / "config.json").read_text())
    assert masked_lm.backbone.num_layers == config["num_hidden_layers"]
    assert masked_lm.preprocessor.sequence_length == 32

    x = _transformers_inputs(goldens)
    real = goldens["attention_mask"] == 1
    outputs = masked_lm.backbone(x)
    assert (
        _max_error(outputs["sequence_output"], goldens["last_hidden_state"], real)
        <= TRANSFORMERS_TOLERANCE
    )
    if case in HAS_POOLER:
        assert _max_error(outputs["pooled_output"], goldens["pooler_output"]) <= (
            TRANSFORMERS_TOLERANCE
        )
    if case in HAS_HEAD:
        logits = masked_lm({**x, "mask_positions": goldens["mask_positions"]})
        assert _max_error(logits, goldens["mask_logits"]) <= TRANSFORMERS_TOLERANCE


def test_transformers_for_masked_lm_warns_about_pooler(tmp_path):
    directory = _transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    with pytest.warns(UserWarning, match="pooler"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.warns(UserWarning, match="pooler"):
        AlbertBackbone.from_preset(str(directory))


def test_transformers_model_warns_about_head_and_backbone_loads(tmp_path):
    directory = _transformers_checkpoint(tmp_path, "model_relu_groups3")
    with pytest.warns(UserWarning, match="masked-LM head"):
        AlbertMaskedLM.from_preset(str(directory))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # AlbertModel has every backbone weight.
        backbone = AlbertBackbone.from_preset(str(directory))
    goldens = _transformers_goldens("model_relu_groups3")
    outputs = backbone(_transformers_inputs(goldens))
    real = goldens["attention_mask"] == 1
    assert (
        _max_error(outputs["sequence_output"], goldens["last_hidden_state"], real)
        <= TRANSFORMERS_TOLERANCE
    )
    assert _max_error(outputs["pooled_output"], goldens["pooler_output"]) <= (
        TRANSFORMERS_TOLERANCE
    )


def test_transformers_sharded_checkpoint_loads_every_shard(tmp_path):
    directory = _transformers_checkpoint(tmp_path, "masked_lm_gelu_fast_sharded")
    assert not (directory / "model.safetensors").exists()
    with pytest.warns(UserWarning, match="pooler"):
        masked_lm = AlbertMaskedLM.from_preset(str(directory))
    goldens = _transformers_goldens("masked_lm_gelu_fast_sharded")
    logits = masked_lm(
        {**_transformers_inputs(goldens), "mask_positions": goldens["mask_positions"]}
    )
    assert _max_error(logits, goldens["mask_logits"]) <= TRANSFORMERS_TOLERANCE

    # Without one of its shards the checkpoint is refused.
    (directory / "model-00003-of-00003.safetensors").unlink()
    with pytest.raises(ValueError, match="model-00003-of-00003"):
        AlbertMaskedLM.from_preset(str(directory))


def test_transformers_pytorch_bin_only_is_refused(tmp_path):
    directory = tmp_path / "pickled"
    directory.mkdir()
    shutil.copy(
        TRANSFORMERS_DIR / "masked_lm_groups2_inner2" / "config.json", directory
    )
    shutil.copy(VOCABULARY_PATH, directory / "spiece.model")
    (directory / "pytorch_model.bin").write_bytes(b"PK\x03\x04 not really a pickle")
    with pytest.raises(ValueError, match="safetensors"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(ValueError, match="safetensors"):
        AlbertBackbone.from_preset(str(directory))


def test_transformers_other_model_type_is_refused(tmp_path):
    directory = _transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    _edit_json(directory / "config.json", lambda c: c.update(model_type="bert"))
    with pytest.raises(ValueError, match="'albert'"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(ValueError, match="'albert'"):
        AlbertTokenizer.from_preset(str(directory))


def _tokenization_cases():
    return json.loads((TRANSFORMERS_DIR / "tokenization.json").read_text())


# Deliberate differences from transformers, left out of the comparison:
# - "<pad>" written in text: transformers turns it into the pad id; we keep
#   user text as text (no special token is parsed from input but [MASK]).
# - the "..." at the end of the punctuation text: tokenizers' Unigram breaks
#   a score tie between two segmentations differently from sentencepiece.
KNOWN_SINGLE_DIFFERENCES = {
    "<pad> written in text",
    "punctuation: a-b; c/d? (e) [f] {g} ...",
}
# transformers treats an empty `text_pair` ("") as no pair at all (Python
# falsiness), giving `[CLS] A [SEP]`; see the test below.
EMPTY_SECOND_TEXT = ("only the first text", "")


def _packed(preprocessor, inputs):
    x, _, _ = preprocessor(inputs)
    length = int(_numpy(x["padding_mask"])[0].sum())
    return (
        _numpy(x["token_ids"])[0][:length].tolist(),
        _numpy(x["segment_ids"])[0][:length].tolist(),
    )


@pytest.fixture
def transformers_preprocessor(tmp_path):
    directory = _transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    tokenizer = AlbertTokenizer.from_preset(str(directory))
    return AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=64, mask_selection_rate=0.0, mask_selection_length=4
    )


def test_transformers_tokenization_single_texts(transformers_preprocessor):
    cases = _tokenization_cases()["single"]
    compared = 0
    for case in cases:
        if case["text"] in KNOWN_SINGLE_DIFFERENCES:
            continue
        token_ids, segment_ids = _packed(transformers_preprocessor, [case["text"]])
        assert token_ids == case["input_ids"], case["text"]
        assert segment_ids == [0] * len(token_ids), case["text"]
        compared += 1
    assert compared == len(cases) - len(KNOWN_SINGLE_DIFFERENCES)
    # The left-out cases do differ (so the exclusions are still needed).
    for case in cases:
        if case["text"] in KNOWN_SINGLE_DIFFERENCES:
            token_ids, _ = _packed(transformers_preprocessor, [case["text"]])
            assert token_ids != case["input_ids"], case["text"]


def test_transformers_tokenization_pairs(transformers_preprocessor):
    cases = _tokenization_cases()["pairs"]
    compared = 0
    for case in cases:
        if (case["text"], case["text_pair"]) == EMPTY_SECOND_TEXT:
            continue
        token_ids, segment_ids = _packed(
            transformers_preprocessor, ([case["text"]], [case["text_pair"]])
        )
        assert token_ids == case["input_ids"], case
        assert segment_ids == case["token_type_ids"], case
        compared += 1
    assert compared == len(cases) - 1
    # 'truncated_pairs' are not compared: transformers truncates
    # 'longest_first', our packer 'round_robin' (KerasHub's default).


def test_transformers_tokenization_pair_with_empty_second_text(
    transformers_preprocessor,
):
    (case,) = [
        c
        for c in _tokenization_cases()["pairs"]
        if (c["text"], c["text_pair"]) == EMPTY_SECOND_TEXT
    ]
    token_ids, segment_ids = _packed(
        transformers_preprocessor, ([case["text"]], [case["text_pair"]])
    )
    # Deliberately different: transformers drops an empty `text_pair` ('' is
    # falsy) and packs [CLS] A [SEP]; we keep the pair, as KerasHub's packer
    # does, and pack [CLS] A [SEP] [SEP] with the last [SEP] in segment 1.
    assert token_ids == case["input_ids"] + [3]
    assert segment_ids == case["token_type_ids"] + [1]


# === 4. Built-in preset names ===


def test_built_in_architecture_needs_no_network(_offline_hubs):
    backbone = AlbertBackbone.from_preset("albert_base_en_uncased", load_weights=False)
    assert backbone.count_params() == 11_683_584
    assert (
        backbone.count_params()
        == BUILT_IN_PRESETS["albert_base_en_uncased"]["parameter_count"]
    )
    masked_lm = AlbertMaskedLM.from_preset(
        "albert_base_en_uncased", load_weights=False, preprocessor=None
    )
    assert masked_lm.preprocessor is None
    assert masked_lm.backbone.count_params() == 11_683_584
    assert list(_offline_hubs["kaggle"].iterdir()) == []


@pytest.mark.parametrize(
    "cls", [AlbertBackbone, AlbertMaskedLM, AlbertTokenizer, AlbertMaskedLMPreprocessor]
)
def test_presets_listing(cls):
    assert set(BUILT_IN_NAMES) <= set(cls.presets)
    for name, count in BUILT_IN_NAMES.items():
        assert cls.presets[name]["parameter_count"] == count
        assert "architecture" not in cls.presets[name]
        assert cls.presets[name]["description"]


def test_unknown_preset_name_lists_known_names():
    with pytest.raises(ValueError) as info:
        AlbertMaskedLM.from_preset("albert_gigantic_en")
    message = str(info.value)
    assert "albert_gigantic_en" in message
    for name in BUILT_IN_NAMES:
        assert name in message


def test_missing_local_directory_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        AlbertBackbone.from_preset(str(tmp_path / "no" / "such_preset"))


# === 5. kaggle:// through kagglehub's cache ===


def _kaggle_cache_entry(cache, handle):
    """kagglehub's cache layout (kagglehub/cache.py, `_get_model_path` and
    `_get_models_completion_marker_filepath`) for a versioned model handle."""
    owner, model, framework, variation, version = handle.split("/")
    base = cache / "models" / owner / model / framework / variation
    base.mkdir(parents=True, exist_ok=True)
    (base / f"{version}.complete").write_text("")
    return base / version


def test_kaggle_handle_loads_from_cache(_offline_hubs):
    files = _kaggle_cache_entry(_offline_hubs["kaggle"], "owner/model/keras/tiny/1")
    shutil.copytree(KERAS_HUB_DIR / "groups3_inner2", files)
    masked_lm = AlbertMaskedLM.from_preset("kaggle://owner/model/keras/tiny/1")
    _assert_keras_hub_logits(masked_lm, "groups3_inner2")
    tokenizer = AlbertTokenizer.from_preset("kaggle://owner/model/keras/tiny/1")
    assert tokenizer.vocabulary_size() == 400


def test_kaggle_cache_without_completion_marker_is_not_used(_offline_hubs):
    files = _kaggle_cache_entry(_offline_hubs["kaggle"], "owner/model/keras/tiny/2")
    shutil.copytree(KERAS_HUB_DIR / "groups3_inner2", files)
    (files.parent / "2.complete").unlink()
    with pytest.raises(OSError, match="local directory"):
        AlbertMaskedLM.from_preset("kaggle://owner/model/keras/tiny/2")


def test_kaggle_missing_cache_entry_fails_with_advice(_offline_hubs):
    with pytest.raises(OSError) as info:
        AlbertBackbone.from_preset("kaggle://owner/model/keras/absent/3")
    message = str(info.value)
    assert "Could not download" in message
    assert "local directory" in message
    assert "kaggle://owner/model/keras/absent/3" in message
    assert list(_offline_hubs["kaggle"].rglob("*")) == []


def test_built_in_name_resolves_through_kaggle_cache(_offline_hubs):
    handle = BUILT_IN_PRESETS["albert_base_en_uncased"]["kaggle_handle"]
    assert handle == "kaggle://keras/albert/keras/albert_base_en_uncased/5"
    files = _kaggle_cache_entry(_offline_hubs["kaggle"], handle[len("kaggle://") :])
    files.mkdir()
    (files / "config.json").write_text("{}")
    assert os.path.samefile(resolve_preset("albert_base_en_uncased"), files)


# === 6. hf:// through huggingface_hub's cache ===


def test_hf_handle_loads_from_cache(tmp_path, _offline_hubs):
    snapshot = _hf_cache_entry(_offline_hubs["hf"], "owner/tiny-albert")
    checkpoint = _transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    for path in checkpoint.iterdir():
        shutil.copy(path, snapshot / path.name)
    with pytest.warns(UserWarning, match="pooler"):
        masked_lm = AlbertMaskedLM.from_preset("hf://owner/tiny-albert")
    goldens = _transformers_goldens("masked_lm_groups2_inner2")
    logits = masked_lm(
        {**_transformers_inputs(goldens), "mask_positions": goldens["mask_positions"]}
    )
    assert _max_error(logits, goldens["mask_logits"]) <= TRANSFORMERS_TOLERANCE
    assert masked_lm.preprocessor.tokenizer.vocabulary_size() == 400


def test_hf_handle_loads_keras_hub_preset_from_cache(_offline_hubs):
    snapshot = _hf_cache_entry(_offline_hubs["hf"], "owner/keras-preset")
    shutil.copytree(KERAS_HUB_DIR / "groups1_inner1", snapshot, dirs_exist_ok=True)
    masked_lm = AlbertMaskedLM.from_preset("hf://owner/keras-preset")
    _assert_keras_hub_logits(masked_lm, "groups1_inner1")


def test_hf_missing_repository_fails_and_leaves_cache_alone(_offline_hubs):
    cache = _offline_hubs["hf"]
    _hf_cache_entry(cache, "owner/other")
    before = sorted(str(p) for p in cache.rglob("*"))
    with pytest.raises(OSError) as info:
        AlbertMaskedLM.from_preset("hf://owner/absent")
    assert "local directory" in str(info.value)
    assert "hf://owner/absent" in str(info.value)
    assert sorted(str(p) for p in cache.rglob("*")) == before


def test_hf_failed_load_writes_nothing_into_cache(tmp_path, _offline_hubs):
    cache = _offline_hubs["hf"]
    snapshot = _hf_cache_entry(cache, "owner/broken")
    checkpoint = _transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    for path in checkpoint.iterdir():
        if path.name != "model.safetensors":
            shutil.copy(path, snapshot / path.name)
    before = _files(cache)
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        AlbertMaskedLM.from_preset("hf://owner/broken")
    assert _files(cache) == before


# === 7. Handle and file validation ===


@pytest.mark.parametrize(
    "handle",
    [
        "kaggle://owner/../x/y/1",
        "kaggle://a/b/c",
        "kaggle://a/b/c/d/e/f",
        "kaggle://a/b/c/d/latest",
        "kaggle:///b/c/d/1",
        "hf://../../etc",
        "hf://owner/name/extra",
        "hf://owner",
        "hf://owner/..",
        "hf://owner/na me",
    ],
)
def test_invalid_handles_are_refused(handle, _offline_hubs):
    with pytest.raises(ValueError, match="Invalid preset handle"):
        AlbertMaskedLM.from_preset(handle)
    assert list(_offline_hubs["kaggle"].iterdir()) == []
    assert list(_offline_hubs["hf"].iterdir()) == []


def test_preset_argument_type_is_checked():
    with pytest.raises(TypeError, match="preset"):
        AlbertBackbone.from_preset(42)


def test_missing_config_json(tmp_path):
    directory = _copy_keras_hub_preset(tmp_path)
    (directory / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(FileNotFoundError, match="config.json"):
        AlbertBackbone.from_preset(str(directory))


def test_missing_backbone_weights(tmp_path):
    directory = _copy_keras_hub_preset(tmp_path)
    (directory / "model.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match="model.weights.h5"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(FileNotFoundError, match="model.weights.h5"):
        AlbertBackbone.from_preset(str(directory))
    # Without weights to load, the files are not needed.
    assert (
        AlbertBackbone.from_preset(str(directory), load_weights=False).num_layers == 4
    )


def test_missing_task_weights_warns(tmp_path):
    directory = _copy_keras_hub_preset(tmp_path)
    (directory / "task.weights.h5").unlink()
    with pytest.warns(UserWarning, match="task.weights.h5"):
        AlbertMaskedLM.from_preset(str(directory))


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
    ],
    ids=["class_name", "registered_name", "unknown_key", "no_config"],
)
def test_bad_config_json_is_refused(tmp_path, edit, message):
    directory = _copy_keras_hub_preset(tmp_path)
    _edit_json(directory / "config.json", edit)
    with pytest.raises(ValueError, match=message):
        AlbertBackbone.from_preset(str(directory))
    with pytest.raises(ValueError, match=message):
        AlbertMaskedLM.from_preset(str(directory))


def test_bad_tokenizer_json_is_refused(tmp_path):
    directory = _copy_keras_hub_preset(tmp_path)
    _edit_json(
        directory / "tokenizer.json",
        lambda c: c.update(registered_name="evil_module>AlbertTokenizer"),
    )
    with pytest.raises(ValueError, match="evil_module"):
        AlbertTokenizer.from_preset(str(directory))


def test_invalid_json_is_value_error(tmp_path):
    directory = _copy_keras_hub_preset(tmp_path)
    (directory / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        AlbertBackbone.from_preset(str(directory))


def test_weight_shape_mismatch_names_the_variable(tmp_path):
    directory = _copy_keras_hub_preset(tmp_path)
    _edit_json(
        directory / "config.json", lambda c: c["config"].update(intermediate_dim=24)
    )
    with pytest.raises(ValueError, match=r"variable '[^']*intermediate_dense/kernel'"):
        AlbertBackbone.from_preset(str(directory))
    with pytest.raises(ValueError, match="intermediate_dense"):
        AlbertMaskedLM.from_preset(str(directory))
    # With load_weights=False the edited architecture builds.
    backbone = AlbertBackbone.from_preset(str(directory), load_weights=False)
    assert backbone.intermediate_dim == 24


def test_wrong_class_name_error_names_the_class_found(tmp_path):
    directory = _copy_keras_hub_preset(tmp_path)
    _edit_json(directory / "config.json", lambda c: c.update(class_name="BertBackbone"))
    with pytest.raises(ValueError, match="BertBackbone"):
        AlbertBackbone.from_preset(str(directory))


def test_sharded_keras_hub_weights_load():
    # KerasHub writes `model.weights.json` + shards for large backbones.
    directory = KERAS_HUB_DIR / "groups2_inner2_sharded"
    assert not (directory / "model.weights.h5").exists()
    assert len(list(directory.glob("model_*.weights.h5"))) > 1
    masked_lm = AlbertMaskedLM.from_preset(str(directory))
    goldens = np.load(directory / "goldens.npz")
    inputs = {
        k: goldens[k]
        for k in ("token_ids", "segment_ids", "padding_mask", "mask_positions")
    }
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(masked_lm(inputs)), goldens["logits"], atol=1e-5
    )
