"""Hugging Face transformers checkpoints as presets
(`albert_mlm.presets.transformers_checkpoint`): weights against transformers'
goldens, missing parts, refused formats, and tokenization against transformers.

No test here touches the network: an autouse fixture points both hub clients
at empty caches under `tmp_path`, puts `huggingface_hub` in offline mode and
aims `kagglehub` at a refused loopback endpoint.
"""

import json
import shutil
import warnings

import pytest
from helpers import (
    TRANSFORMERS_DIR,
    TRANSFORMERS_TOLERANCE,
    VOCABULARY_PATH,
    copy_transformers_checkpoint,
    edit_json,
    max_error,
    to_numpy,
    transformers_goldens,
    transformers_inputs,
)

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)

# Every test runs with empty, offline hub caches (see conftest.py).
pytestmark = pytest.mark.usefixtures("_offline_hubs")


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


# === Weights against transformers' goldens ===


@pytest.mark.parametrize("case", TRANSFORMERS_CASES)
def test_transformers_checkpoint_masked_lm(tmp_path, case):
    directory = copy_transformers_checkpoint(tmp_path, case)
    goldens = transformers_goldens(case)
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

    x = transformers_inputs(goldens)
    real = goldens["attention_mask"] == 1
    outputs = masked_lm.backbone(x)
    assert (
        max_error(outputs["sequence_output"], goldens["last_hidden_state"], real)
        <= TRANSFORMERS_TOLERANCE
    )
    if case in HAS_POOLER:
        assert max_error(outputs["pooled_output"], goldens["pooler_output"]) <= (
            TRANSFORMERS_TOLERANCE
        )
    if case in HAS_HEAD:
        logits = masked_lm({**x, "mask_positions": goldens["mask_positions"]})
        assert max_error(logits, goldens["mask_logits"]) <= TRANSFORMERS_TOLERANCE


def test_transformers_for_masked_lm_warns_about_pooler(tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    with pytest.warns(UserWarning, match="pooler"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.warns(UserWarning, match="pooler"):
        AlbertBackbone.from_preset(str(directory))


def test_transformers_model_warns_about_head_and_backbone_loads(tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "model_relu_groups3")
    with pytest.warns(UserWarning, match="masked-LM head"):
        AlbertMaskedLM.from_preset(str(directory))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # AlbertModel has every backbone weight.
        backbone = AlbertBackbone.from_preset(str(directory))
    goldens = transformers_goldens("model_relu_groups3")
    outputs = backbone(transformers_inputs(goldens))
    real = goldens["attention_mask"] == 1
    assert (
        max_error(outputs["sequence_output"], goldens["last_hidden_state"], real)
        <= TRANSFORMERS_TOLERANCE
    )
    assert max_error(outputs["pooled_output"], goldens["pooler_output"]) <= (
        TRANSFORMERS_TOLERANCE
    )


def test_transformers_sharded_checkpoint_loads_every_shard(tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "masked_lm_gelu_fast_sharded")
    assert not (directory / "model.safetensors").exists()
    with pytest.warns(UserWarning, match="pooler"):
        masked_lm = AlbertMaskedLM.from_preset(str(directory))
    goldens = transformers_goldens("masked_lm_gelu_fast_sharded")
    logits = masked_lm(
        {**transformers_inputs(goldens), "mask_positions": goldens["mask_positions"]}
    )
    assert max_error(logits, goldens["mask_logits"]) <= TRANSFORMERS_TOLERANCE

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
    with pytest.raises(ValueError, match="only pytorch_model.bin, a pickle file"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(ValueError, match="only pytorch_model.bin, a pickle file"):
        AlbertBackbone.from_preset(str(directory))


def test_transformers_other_model_type_is_refused(tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
    edit_json(directory / "config.json", lambda c: c.update(model_type="bert"))
    with pytest.raises(ValueError, match="model_type 'bert'; expected 'albert'"):
        AlbertMaskedLM.from_preset(str(directory))
    with pytest.raises(ValueError, match="model_type 'bert'; expected 'albert'"):
        AlbertTokenizer.from_preset(str(directory))


# === Tokenization against transformers ===


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
    length = int(to_numpy(x["padding_mask"])[0].sum())
    return (
        to_numpy(x["token_ids"])[0][:length].tolist(),
        to_numpy(x["segment_ids"])[0][:length].tolist(),
    )


@pytest.fixture
def transformers_preprocessor(tmp_path):
    directory = copy_transformers_checkpoint(tmp_path, "masked_lm_groups2_inner2")
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
