"""Produce Hugging Face ``transformers`` reference ("golden") files for tests.

The checkpoint converter of ``albert_mlm`` is tested against tiny ALBERT
checkpoints written by the reference implementation, ``transformers`` 5.24
(PyTorch, CPU), and against outputs that implementation computes.  Everything
is built from local objects (no hub access); it needs the test vocabulary
made by ``tools/golden_files/make_test_vocabulary.py`` (``tests/data/vocabulary.spm``).

Run from the repository root with::

    /work/refvenv/bin/python tools/golden_files/make_transformers_goldens.py

It deletes and rewrites ``tests/data/transformers/`` and produces:

``tests/data/transformers/<case>/``, for each case in ``CASES``
    A checkpoint written by ``model.save_pretrained`` (safetensors) and left
    as ``transformers`` wrote it: ``config.json`` plus ``model.safetensors``
    (or, for the ``*_sharded`` case, ``model.safetensors.index.json`` and
    several ``model-0000i-of-0000n.safetensors`` shards).  The directories
    hold no ``spiece.model``: tests copy ``tests/data/vocabulary.spm`` in
    under that name.  No other tokenizer file is stored either: with
    ``config.json`` and ``spiece.model`` in a directory, ``AlbertTokenizer``
    and ``AutoTokenizer.from_pretrained`` behave exactly as with the
    ``tokenizer.json`` / ``tokenizer_config.json`` that
    ``AlbertTokenizer.save_pretrained`` writes (this script checks it).

    Every parameter (embeddings, layer-norm weights and biases, every linear
    weight and bias, ``predictions.bias``, the pooler, the SOP classifier) is
    overwritten with seeded random values: normal(0, 0.2) for weights and
    embeddings, normal(0, 0.1) for biases, 1 + normal(0, 0.1) for layer-norm
    weights, so no bias is zero and no layer-norm weight is one.  The MLM
    decoder stays tied to the word embeddings, and ``predictions.decoder.bias``
    to ``predictions.bias``; ``save_pretrained`` therefore stores neither
    ``predictions.decoder.weight`` nor ``predictions.decoder.bias``.

    Plus ``goldens.npz`` (the same inputs for every case):

    - ``input_ids``, ``token_type_ids``, ``attention_mask``: int32, (3, 10);
      rows have 0, 3 and 5 padding positions at the end (input id 0, token
      type 0, attention mask 0 there); token types mix 0 and 1; real input
      ids are random in [5, 400).
    - ``mask_positions``: int32, (3, 4); distinct sorted positions inside the
      unpadded part of each row.
    - ``last_hidden_state`` (3, 10, 16), float32: output of the base model
      (``model.albert``, or the ``AlbertModel`` itself).  Padded positions
      hold whatever the reference computes there.
    - ``pooler_output`` (3, 16), float32: only where the base model has a
      pooler (not for ``AlbertForMaskedLM``).
    - ``mask_logits`` (3, 4, 400), float32: the MLM logits gathered at
      ``mask_positions`` (the MaskedLM and PreTraining cases).
    - ``sop_logits`` (3, 2), float32: the sentence-order head (PreTraining
      case only).

``tests/data/transformers/tokenization.json``
    Outputs of ``AlbertTokenizer.from_pretrained(<dir holding spiece.model>)``
    (a ``tokenizers``-backed class; ``transformers`` 5 has no other ALBERT
    tokenizer): for single texts, the ``tokenize()`` pieces and the
    ``input_ids`` with special tokens; for text pairs, ``input_ids``,
    ``token_type_ids`` and ``attention_mask``, also with
    ``truncation="longest_first"`` and ``max_length=12``.  Inputs are stored
    next to outputs and the file describes its own fields.

``tests/data/transformers/fill_mask_and_score.json``
    For each ``AlbertForMaskedLM`` case in ``FILL_MASK_CASES`` (loaded with
    ``spiece.model`` beside it): ``pipeline("fill-mask")`` on texts with one
    ``[MASK]`` (its top ``FILL_MASK_TOP_K`` ids and probabilities, special
    tokens included, so that a test can drop those and compare the rest),
    the pipeline's probabilities of one-piece ``targets=``, and reference
    pseudo-log-likelihoods (PLL, Salazar et al. 2020) computed here with
    plain loops, one forward pass per masked copy, for single texts and a
    sentence pair: each piece's log-probability with only that piece
    masked, and with the later pieces of its word masked too
    (PLL-word-l2r, Kauf & Ivanova 2023; a word's later pieces are those not
    starting with "\u2581").

The script is deterministic: re-running it reproduces every file byte for
byte.  At the end it reloads every checkpoint (with ``spiece.model`` copied
into a temporary copy) through ``from_pretrained`` and checks the outputs
against ``goldens.npz``.
"""

import importlib.metadata
import json
import os
import shutil
import tempfile
import unicodedata

import numpy as np
import sentencepiece as spm
import torch
import transformers
from golden_data import (
    DATA_DIR,
    SPECIAL_TOKEN_IDS,
    VOCABULARY_PATH,
    golden_batch,
    save_npz_deterministic,
    write_json,
)
from make_test_vocabulary import VOCABULARY_SIZE
from safetensors import safe_open
from transformers import (
    AlbertConfig,
    AlbertForMaskedLM,
    AlbertForPreTraining,
    AlbertModel,
    AlbertTokenizer,
    AutoTokenizer,
    pipeline,
)

OUTPUT_DIR = os.path.join(DATA_DIR, "transformers")

INPUT_SEED = 31337
TRUNCATION_MAX_LENGTH = 12

COMMON_CONFIG = {
    "vocab_size": VOCABULARY_SIZE,
    "embedding_size": 8,
    "hidden_size": 16,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "max_position_embeddings": 32,
    "type_vocab_size": 2,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "pad_token_id": SPECIAL_TOKEN_IDS["<pad>"],
}

CASES = {
    "masked_lm_groups2_inner2": {
        "model_class": AlbertForMaskedLM,
        "seed": 101,
        "max_shard_size": None,
        "config": {
            "num_hidden_layers": 4,
            "num_hidden_groups": 2,
            "inner_group_num": 2,
            "hidden_act": "gelu_new",
            "layer_norm_eps": 1e-12,
        },
    },
    "pretraining_gelu": {
        "model_class": AlbertForPreTraining,
        "seed": 202,
        "max_shard_size": None,
        "config": {
            "num_hidden_layers": 3,
            "num_hidden_groups": 1,
            "inner_group_num": 2,
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-5,
        },
    },
    "model_relu_groups3": {
        "model_class": AlbertModel,
        "seed": 303,
        "max_shard_size": None,
        "config": {
            "num_hidden_layers": 6,
            "num_hidden_groups": 3,
            "inner_group_num": 1,
            "hidden_act": "relu",
            "layer_norm_eps": 1e-12,
        },
    },
    "masked_lm_gelu_fast_sharded": {
        "model_class": AlbertForMaskedLM,
        "seed": 404,
        # The word embeddings alone are 12.8 kB, the whole model about 28 kB.
        "max_shard_size": "8KB",
        "config": {
            "num_hidden_layers": 2,
            "num_hidden_groups": 1,
            "inner_group_num": 1,
            "hidden_act": "gelu_fast",
        },
    },
}

SINGLE_TEXTS = [
    "The Quick BROWN Fox.",
    "the quick brown fox jumped over the lazy dog",
    "Café naïve Zoë",
    "  leading and trailing spaces  ",
    "multiple   spaces\tand\t\ttabs\nand\n\nnewlines",
    "``quoted'' text and \"double quotes\"",
    "Numbers 12345, 3.14 and 1,000,000!",
    "punctuation: a-b; c/d? (e) [f] {g} ...",
    "the [MASK] sat on the [MASK].",
    "[MASK]",
    "hello[MASK]world",
    "[mask] in lower case",
    "<unk> written in text",
    "[CLS] written in text [SEP]",
    "<pad> written in text",
    "",
    "   ",
    "ﬁ ① Ｆｕｌｌ",
    "Straße ÆON œuvre",
    "don't won't it's",
    "中文 日本語 emoji 🙂",
]

PAIR_TEXTS = [
    ("The cat sat.", "It was on the mat."),
    ("Café naïve", "Zoë's ``quoted'' words"),
    ("the [MASK] sat", "on the [MASK]."),
    ("", "only the second text"),
    ("only the first text", ""),
    ("multiple   spaces", "tabs\tand\nnewlines"),
]

TRUNCATED_PAIR_TEXTS = [
    # 15 + 3 tokens: only the first text is cut.
    ("the quick brown fox jumped over the lazy dog", "the fox"),
    # 3 + 15 tokens: only the second text is cut.
    ("the fox", "the quick brown fox jumped over the lazy dog"),
    # 5 + 5 tokens, one too many: which text loses it?
    ("the quick brown fox", "the lazy dog fox"),
    # 15 + 8 and 8 + 15 tokens: both are cut; the budget of 9 is split 5 + 4.
    ("the quick brown fox jumped over the lazy dog", "a short one"),
    ("a short one", "the quick brown fox jumped over the lazy dog"),
    # 11 + 10 tokens.
    ("the quick brown fox jumped over", "the lazy dog and the quick cat"),
    # 15 + 23 tokens.
    (
        "every student in the small village remembered the ancient story",
        "our neighbour explained the strange storm to the tired farmers",
    ),
    # 3 + 3 tokens: fits, nothing is cut.
    ("the fox", "the dog"),
]


def _log(*args):
    print(*args, flush=True)


# --- Models --------------------------------------------------------------------


def build_config(case):
    return AlbertConfig(**COMMON_CONFIG, **CASES[case]["config"])


def randomize_parameters(model, seed):
    """Overwrite every parameter of `model` with seeded random values.

    `named_parameters()` lists a tied tensor once, so the tied decoder weight
    and bias receive the values written into the word embeddings and
    `predictions.bias`.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            shape = tuple(param.shape)
            noise = torch.randn(shape, generator=generator, dtype=torch.float32)
            leaf = name.rsplit(".", 1)[-1]
            is_norm = "LayerNorm" in name or "layer_norm" in name
            if is_norm and leaf == "weight":
                value = 1.0 + 0.1 * noise
            elif leaf == "bias":
                value = 0.1 * noise
            elif leaf == "weight":
                value = 0.2 * noise
            else:
                raise RuntimeError(f"unexpected parameter {name}")
            if torch.any(value == 0.0) or (is_norm and torch.any(value == 1.0)):
                raise RuntimeError(f"degenerate random value in {name}")
            param.copy_(value)


def check_tied(model):
    """Assert the MLM decoder shares its tensors (re-tying them if needed)."""
    if not hasattr(model, "predictions"):
        return
    predictions = model.predictions
    embeddings = model.albert.embeddings.word_embeddings
    if predictions.decoder.weight is not embeddings.weight:
        _log("  re-tying predictions.decoder.weight to the word embeddings")
        predictions.decoder.weight = embeddings.weight
    if predictions.decoder.bias is not predictions.bias:
        _log("  re-tying predictions.decoder.bias to predictions.bias")
        predictions.decoder.bias = predictions.bias
    assert predictions.decoder.weight is embeddings.weight
    assert predictions.decoder.bias is predictions.bias
    assert torch.any(predictions.bias != 0)


def build_model(case):
    spec = CASES[case]
    torch.manual_seed(spec["seed"])
    model = spec["model_class"](build_config(case))
    randomize_parameters(model, spec["seed"])
    check_tied(model)
    model.eval()
    return model


def golden_inputs():
    input_ids, token_type_ids, attention_mask, mask_positions = golden_batch(
        VOCABULARY_SIZE, INPUT_SEED
    )
    return {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "mask_positions": mask_positions,
    }


def _torch_inputs(inputs):
    return {
        key: torch.from_numpy(inputs[key].astype(np.int64))
        for key in ("input_ids", "token_type_ids", "attention_mask")
    }


def compute_outputs(model, inputs):
    """Reference outputs of `model` (any of the three classes) for `inputs`."""
    torch_inputs = _torch_inputs(inputs)
    outputs = {}
    with torch.no_grad():
        base = model.albert if hasattr(model, "albert") else model
        base_out = base(**torch_inputs)
        outputs["last_hidden_state"] = base_out.last_hidden_state.numpy()
        if base_out.pooler_output is not None:
            outputs["pooler_output"] = base_out.pooler_output.numpy()
        if isinstance(model, AlbertForMaskedLM):
            logits = model(**torch_inputs).logits.numpy()
        elif isinstance(model, AlbertForPreTraining):
            out = model(**torch_inputs)
            logits = out.prediction_logits.numpy()
            outputs["sop_logits"] = out.sop_logits.numpy()
        else:
            logits = None
    if logits is not None:
        positions = inputs["mask_positions"].astype(np.int64)[:, :, None]
        outputs["mask_logits"] = np.take_along_axis(logits, positions, axis=1)
    return {k: np.asarray(v, dtype=np.float32) for k, v in outputs.items()}


def safetensors_listing(directory):
    """(file, key, shape, dtype) of every tensor stored in `directory`."""
    rows = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".safetensors"):
            continue
        with safe_open(os.path.join(directory, name), framework="pt") as f:
            for key in sorted(f.keys()):
                sl = f.get_slice(key)
                rows.append((name, key, tuple(sl.get_shape()), sl.get_dtype()))
    return rows


def write_case(case, inputs):
    spec = CASES[case]
    _log(f"== {case}: {spec['model_class'].__name__}")
    model = build_model(case)
    case_dir = os.path.join(OUTPUT_DIR, case)
    kwargs = {}
    if spec["max_shard_size"] is not None:
        kwargs["max_shard_size"] = spec["max_shard_size"]
    model.save_pretrained(case_dir, safe_serialization=True, **kwargs)
    goldens = dict(inputs)
    goldens.update(compute_outputs(model, inputs))
    save_npz_deterministic(os.path.join(case_dir, "goldens.npz"), goldens)

    files = sorted(os.listdir(case_dir))
    _log("  files:", ", ".join(files))
    if "spiece.model" in files:
        raise RuntimeError("save_pretrained wrote spiece.model")
    sharded = "model.safetensors.index.json" in files
    if sharded != (spec["max_shard_size"] is not None):
        raise RuntimeError(f"unexpected sharding: {files}")
    if sharded and sum(f.endswith(".safetensors") for f in files) < 2:
        raise RuntimeError("expected several shards")
    stored = {key for _, key, _, _ in safetensors_listing(case_dir)}
    for _, key, shape, dtype in safetensors_listing(case_dir):
        _log(f"  {key} {shape} {dtype}")
    # Every stored tensor must equal the model's parameter of that name.
    state = model.state_dict()
    for _, key, _, _ in safetensors_listing(case_dir):
        if key not in state:
            raise RuntimeError(f"stored key {key} is not in the state dict")
    not_stored = sorted(set(state) - stored)
    _log("  state-dict keys not stored:", not_stored)
    for key, value in goldens.items():
        _log(f"  goldens[{key}] {value.shape} {value.dtype}")
    return model


def _checkpoint_with_vocabulary(case, tmp_root):
    """A temporary copy of the case directory with `spiece.model` added."""
    directory = os.path.join(tmp_root, case)
    shutil.copytree(os.path.join(OUTPUT_DIR, case), directory)
    os.remove(os.path.join(directory, "goldens.npz"))
    shutil.copy(VOCABULARY_PATH, os.path.join(directory, "spiece.model"))
    return directory


def verify_case(case, tmp_root):
    """Reload the checkpoint with `from_pretrained`; compare with goldens."""
    spec = CASES[case]
    directory = _checkpoint_with_vocabulary(case, tmp_root)
    with np.load(os.path.join(OUTPUT_DIR, case, "goldens.npz")) as data:
        goldens = {key: data[key] for key in data.files}
    inputs = {key: goldens[key] for key in golden_inputs()}

    model, info = spec["model_class"].from_pretrained(
        directory, output_loading_info=True
    )
    if any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys")):
        raise RuntimeError(f"{case}: loading info {info}")
    model.eval()
    check_tied(model)
    reloaded = compute_outputs(model, inputs)
    if set(reloaded) != set(goldens) - set(inputs):
        raise RuntimeError(f"{case}: outputs {sorted(reloaded)}")
    for key, value in reloaded.items():
        diff = float(np.max(np.abs(value - goldens[key])))
        if diff > 1e-6:
            raise RuntimeError(f"{case}: {key} differs by {diff}")
    _log(f"  {case}: {spec['model_class'].__name__}.from_pretrained reproduces")

    eager = spec["model_class"].from_pretrained(directory, attn_implementation="eager")
    eager.eval()
    for key, value in compute_outputs(eager, inputs).items():
        diff = float(np.max(np.abs(value - goldens[key])))
        _log(f"  {case}: eager attention, max |diff| of {key} = {diff:.2e}")
        if diff > 1e-5:
            raise RuntimeError(f"{case}: eager {key} differs by {diff}")

    if "mask_logits" in goldens:
        mlm, info = AlbertForMaskedLM.from_pretrained(
            directory, output_loading_info=True
        )
        # From an AlbertForPreTraining checkpoint, the pooler and the SOP head
        # are dropped; nothing may be missing.
        expected_unexpected = set()
        if spec["model_class"] is AlbertForPreTraining:
            expected_unexpected = {
                "albert.pooler.weight",
                "albert.pooler.bias",
                "sop_classifier.classifier.weight",
                "sop_classifier.classifier.bias",
            }
        if info["missing_keys"] or set(info["unexpected_keys"]) != (
            expected_unexpected
        ):
            raise RuntimeError(f"{case}: AlbertForMaskedLM loading info {info}")
        mlm.eval()
        check_tied(mlm)
        logits = compute_outputs(mlm, inputs)["mask_logits"]
        diff = float(np.max(np.abs(logits - goldens["mask_logits"])))
        if diff > 1e-6:
            raise RuntimeError(f"{case}: AlbertForMaskedLM differs by {diff}")
        _log(f"  {case}: AlbertForMaskedLM.from_pretrained, max |diff| {diff:.2e}")

    # The tokenizer of the checkpoint directory (config.json + spiece.model).
    tokenizer = AutoTokenizer.from_pretrained(directory)
    if type(tokenizer) is not AlbertTokenizer:
        raise RuntimeError(f"{case}: AutoTokenizer gave {type(tokenizer)}")
    return directory


# --- Tokenization ----------------------------------------------------------------


def load_tokenizer(tmp_root):
    directory = os.path.join(tmp_root, "tokenizer")
    os.makedirs(directory)
    shutil.copy(VOCABULARY_PATH, os.path.join(directory, "spiece.model"))
    tokenizer = AlbertTokenizer.from_pretrained(directory)
    check_tokenizer(tokenizer)
    return tokenizer


def check_tokenizer(tokenizer):
    """Fail unless `tokenizer` really uses the vocabulary (not all `<unk>`)."""
    sp = spm.SentencePieceProcessor(model_file=VOCABULARY_PATH)
    size = sp.get_piece_size()
    if tokenizer.vocab_size != size or len(tokenizer) != VOCABULARY_SIZE:
        raise RuntimeError(f"vocabulary size {tokenizer.vocab_size}")
    for piece_id in range(size):
        piece = sp.id_to_piece(piece_id)
        if tokenizer.convert_tokens_to_ids(piece) != piece_id:
            raise RuntimeError(f"piece {piece!r} does not map to {piece_id}")
    special_attributes = {
        "pad_token": "<pad>",
        "unk_token": "<unk>",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    }
    for attr, token in special_attributes.items():
        if getattr(tokenizer, attr) != token:
            raise RuntimeError(f"{attr} is {getattr(tokenizer, attr)!r}")
        if getattr(tokenizer, attr + "_id") != SPECIAL_TOKEN_IDS[token]:
            raise RuntimeError(f"{attr}_id is {getattr(tokenizer, attr + '_id')}")
    text = "the quick brown fox jumped over the lazy dog"
    ids = tokenizer(text)["input_ids"]
    cls, sep, unk = (SPECIAL_TOKEN_IDS[t] for t in ("[CLS]", "[SEP]", "<unk>"))
    if ids[0] != cls or ids[-1] != sep or unk in ids or len(ids) < 8:
        raise RuntimeError(f"suspicious tokenization of {text!r}: {ids}")
    # Plain lower-case ASCII text is tokenized exactly like sentencepiece does.
    if ids[1:-1] != sp.encode(text):
        raise RuntimeError(f"{ids} disagrees with sentencepiece")


def _reference_preprocess(text):
    """The normalisation the original ALBERT tokenizer applied before spm.

    Whitespace runs collapse to one space (and ends are stripped), ``\\`\\``
    and ``''`` become ``"``, accents are removed after NFKD, and the text is
    lower-cased (ALBERT's defaults: ``do_lower_case=True``,
    ``keep_accents=False``).
    """
    text = " ".join(text.split())
    text = text.replace("``", '"').replace("''", '"')
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower()


def compare_with_sentencepiece(tokenizer):
    """Log texts where the tokenizer differs from spm on preprocessed text."""
    sp = spm.SentencePieceProcessor(model_file=VOCABULARY_PATH)
    disagreements = []
    for text in SINGLE_TEXTS:
        pieces = tokenizer.tokenize(text)
        reference = sp.encode(_reference_preprocess(text), out_type=str)
        if pieces != reference:
            disagreements.append((text, pieces, reference))
    _log(f"tokenizer vs sentencepiece(preprocessed text): {len(disagreements)}")
    for text, pieces, reference in disagreements:
        _log(f"  {text!r}: tokenizer {pieces} vs sentencepiece {reference}")
    return disagreements


def _normalizer_description(tokenizer):
    """The backend normalizer as JSON, without the precompiled charsmap."""
    state = json.loads(tokenizer.backend_tokenizer.to_str())

    def strip(node):
        if isinstance(node, dict):
            return {
                k: ("<omitted>" if k == "precompiled_charsmap" else strip(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return {
        "normalizer": strip(state["normalizer"]),
        "pre_tokenizer": strip(state["pre_tokenizer"]),
        "post_processor": strip(state["post_processor"]),
    }


def tokenization_goldens(tokenizer):
    single = []
    for text in SINGLE_TEXTS:
        encoded = tokenizer(text)
        single.append(
            {
                "text": text,
                "tokens": tokenizer.tokenize(text),
                "input_ids": encoded["input_ids"],
            }
        )
    pairs = []
    for text, text_pair in PAIR_TEXTS:
        encoded = tokenizer(text, text_pair, return_token_type_ids=True)
        pairs.append(
            {
                "text": text,
                "text_pair": text_pair,
                "tokens": tokenizer.tokenize(text),
                "tokens_pair": tokenizer.tokenize(text_pair),
                "input_ids": encoded["input_ids"],
                "token_type_ids": encoded["token_type_ids"],
                "attention_mask": encoded["attention_mask"],
            }
        )
    truncated = []
    for text, text_pair in TRUNCATED_PAIR_TEXTS:
        encoded = tokenizer(
            text,
            text_pair,
            truncation="longest_first",
            max_length=TRUNCATION_MAX_LENGTH,
            return_token_type_ids=True,
        )
        # `truncation=True` means "longest_first"; make sure it is the same.
        default = tokenizer(
            text,
            text_pair,
            truncation=True,
            max_length=TRUNCATION_MAX_LENGTH,
            return_token_type_ids=True,
        )
        if dict(default) != dict(encoded):
            raise RuntimeError("truncation=True is not 'longest_first'")
        tokens = tokenizer.tokenize(text)
        tokens_pair = tokenizer.tokenize(text_pair)
        kept_first = encoded["token_type_ids"].count(0) - 2
        kept_second = encoded["token_type_ids"].count(1) - 1
        truncated.append(
            {
                "text": text,
                "text_pair": text_pair,
                "tokens": tokens,
                "tokens_pair": tokens_pair,
                "num_tokens": len(tokens),
                "num_tokens_pair": len(tokens_pair),
                "num_kept": kept_first,
                "num_kept_pair": kept_second,
                "input_ids": encoded["input_ids"],
                "token_type_ids": encoded["token_type_ids"],
                "attention_mask": encoded["attention_mask"],
            }
        )

    versions = {
        name: importlib.metadata.version(name)
        for name in ("transformers", "tokenizers", "sentencepiece", "torch")
    }
    return {
        "description": (
            "Reference tokenization by Hugging Face transformers for "
            "tests/data/vocabulary.spm, written by "
            "tools/golden_files/make_transformers_goldens.py.  The tokenizer is "
            "AlbertTokenizer.from_pretrained(d) where d holds only a copy of "
            "the vocabulary named spiece.model (defaults: do_lower_case=True, "
            "keep_accents=False)."
        ),
        "versions": versions,
        "tokenizer": {
            "class": f"{type(tokenizer).__module__}.{type(tokenizer).__name__}",
            "vocab_size": tokenizer.vocab_size,
            "do_lower_case": tokenizer.do_lower_case,
            "keep_accents": tokenizer.keep_accents,
            "special_tokens": {
                "pad": [tokenizer.pad_token, tokenizer.pad_token_id],
                "unk": [tokenizer.unk_token, tokenizer.unk_token_id],
                "cls": [tokenizer.cls_token, tokenizer.cls_token_id],
                "sep": [tokenizer.sep_token, tokenizer.sep_token_id],
                "mask": [tokenizer.mask_token, tokenizer.mask_token_id],
            },
            "backend": _normalizer_description(tokenizer),
        },
        "fields": {
            "single": (
                "tokenizer(text): 'input_ids' with the special tokens "
                "([CLS] ... [SEP]); 'tokens' is tokenizer.tokenize(text)."
            ),
            "pairs": (
                "tokenizer(text, text_pair, return_token_type_ids=True): "
                "[CLS] A [SEP] B [SEP], token type 0 up to the first [SEP] and "
                "1 after it; 'tokens'/'tokens_pair' are tokenize() of each text."
            ),
            "truncated_pairs": (
                "as 'pairs', with truncation='longest_first' (what "
                "truncation=True means; checked equal) and max_length="
                f"{TRUNCATION_MAX_LENGTH}, so {TRUNCATION_MAX_LENGTH - 3} "
                "text tokens are kept; 'num_kept'/'num_kept_pair' count the "
                "tokens kept from the start of each text, 'num_tokens'/"
                "'num_tokens_pair' the untruncated counts."
            ),
        },
        "truncation": {
            "strategy": "longest_first",
            "max_length": TRUNCATION_MAX_LENGTH,
        },
        "single": single,
        "pairs": pairs,
        "truncated_pairs": truncated,
    }


def check_tokenizer_files(tokenizer, checkpoint_dir, tmp_root):
    """Files AlbertTokenizer.save_pretrained writes are not needed.

    Loading from a checkpoint directory with only config.json and spiece.model
    gives the same results as loading from the saved tokenizer files.
    """
    saved = os.path.join(tmp_root, "saved_tokenizer")
    tokenizer.save_pretrained(saved)
    files = sorted(os.listdir(saved))
    sizes = {f: os.path.getsize(os.path.join(saved, f)) for f in files}
    _log("AlbertTokenizer.save_pretrained writes:", sizes)
    from_saved = AlbertTokenizer.from_pretrained(saved)
    from_checkpoint = AutoTokenizer.from_pretrained(checkpoint_dir)
    for text in SINGLE_TEXTS:
        a = from_saved(text)["input_ids"]
        b = from_checkpoint(text)["input_ids"]
        c = tokenizer(text)["input_ids"]
        if not a == b == c:
            raise RuntimeError(f"tokenizers differ on {text!r}: {a} {b} {c}")
    for text, text_pair in PAIR_TEXTS + TRUNCATED_PAIR_TEXTS:
        kwargs = {
            "return_token_type_ids": True,
            "truncation": True,
            "max_length": TRUNCATION_MAX_LENGTH,
        }
        a = dict(from_saved(text, text_pair, **kwargs))
        b = dict(from_checkpoint(text, text_pair, **kwargs))
        if a != b:
            raise RuntimeError(f"tokenizers differ on {(text, text_pair)!r}")
    _log("tokenizer from config.json + spiece.model == tokenizer from saved files")


# --- Fill-mask and pseudo-log-likelihood ---------------------------------------

FILL_MASK_CASES = ("masked_lm_groups2_inner2", "masked_lm_gelu_fast_sharded")
FILL_MASK_TOP_K = 20
FILL_MASK_TEXTS = [
    "the quick brown [MASK] jumped over the lazy dog.",
    "[MASK] children remembered the strange story.",
    "our teacher walked to the old [MASK] near the station.",
]
# One-piece targets whose bare spelling is no piece of the vocabulary (the
# pipeline would look a bare piece up directly rather than tokenize it).
FILL_MASK_TARGETS = ["fox", "dog", "cat", "river", "museum", "garden"]
PLL_TEXTS = [
    "the quick brown fox jumped over the lazy dog.",
    "our neighbour explained the strange storm to the tired farmers.",
    "Café naïve Zoë",
]
PLL_PAIRS = [("The cat sat.", "It was on the mat.")]


def fill_mask_goldens(case, directory):
    """Pipeline top-k, pipeline targets and reference PLLs for one case."""
    model = AlbertForMaskedLM.from_pretrained(directory).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    fill_mask = pipeline("fill-mask", model=model, tokenizer=tokenizer, device="cpu")
    top_k = []
    for text in FILL_MASK_TEXTS:
        found = fill_mask(text, top_k=FILL_MASK_TOP_K)
        top_k.append(
            {
                "text": text,
                "ids": [entry["token"] for entry in found],
                "probabilities": [entry["score"] for entry in found],
            }
        )
    vocabulary = tokenizer.get_vocab()
    target_ids = []
    for target in FILL_MASK_TARGETS:
        (piece_id,) = tokenizer(target, add_special_tokens=False)["input_ids"]
        if target in vocabulary:
            raise RuntimeError(f"target {target!r} is itself a piece")
        target_ids.append(piece_id)
    targets = []
    for text in FILL_MASK_TEXTS:
        found = fill_mask(text, targets=FILL_MASK_TARGETS, top_k=len(FILL_MASK_TARGETS))
        by_id = {entry["token"]: entry["score"] for entry in found}
        targets.append(
            {
                "text": text,
                "targets": FILL_MASK_TARGETS,
                "ids": target_ids,
                "probabilities": [by_id[piece_id] for piece_id in target_ids],
            }
        )
    plls = [
        reference_pll(model, tokenizer, text)
        for text in [*PLL_TEXTS, *(list(pair) for pair in PLL_PAIRS)]
    ]
    _log(f"  {case}: fill-mask, targets and {len(plls)} PLLs")
    return {"fill_mask": top_k, "targets": targets, "pll": plls}


def reference_pll(model, tokenizer, text):
    """PLL and PLL-word-l2r of `text` (a string or a [text, text_pair])."""
    pair = [text] if isinstance(text, str) else text
    encoded = tokenizer(*pair, return_token_type_ids=True)
    input_ids = encoded["input_ids"]
    token_type_ids = encoded["token_type_ids"]
    pieces = tokenizer.convert_ids_to_tokens(input_ids)
    not_scored = {tokenizer.cls_token_id, tokenizer.sep_token_id}
    result = {"text": text, "input_ids": input_ids}
    for variant in ("pll", "pll_word_l2r"):
        log_probabilities = []
        for position, piece_id in enumerate(input_ids):
            if piece_id in not_scored:
                continue
            masked = list(input_ids)
            masked[position] = tokenizer.mask_token_id
            later = position + 1
            while (
                variant == "pll_word_l2r"
                and later < len(input_ids)
                and input_ids[later] not in not_scored
                and not pieces[later].startswith("\u2581")
            ):
                masked[later] = tokenizer.mask_token_id
                later += 1
            with torch.no_grad():
                logits = model(
                    input_ids=torch.tensor([masked]),
                    token_type_ids=torch.tensor([token_type_ids]),
                ).logits[0, position]
            log_probability = torch.log_softmax(logits.double(), dim=-1)[piece_id]
            log_probabilities.append(float(log_probability))
        result[variant] = sum(log_probabilities)
        result[f"{variant}_per_token"] = log_probabilities
    return result


def write_fill_mask_goldens(checkpoint_dirs):
    versions = {
        name: importlib.metadata.version(name) for name in ("transformers", "torch")
    }
    write_json(
        os.path.join(OUTPUT_DIR, "fill_mask_and_score.json"),
        {
            "description": (
                "fill-mask pipeline outputs and reference pseudo-log-likelihoods "
                "of the AlbertForMaskedLM test checkpoints, written by "
                "tools/golden_files/make_transformers_goldens.py."
            ),
            "versions": versions,
            "fields": {
                "fill_mask": (
                    f"pipeline('fill-mask')(text, top_k={FILL_MASK_TOP_K}): "
                    "'ids' and 'probabilities' of its candidates, best first, "
                    "special tokens included."
                ),
                "targets": (
                    "pipeline('fill-mask')(text, targets=targets): 'ids' (each "
                    "target's one piece) and 'probabilities', in target order."
                ),
                "pll": (
                    "'input_ids' of tokenizer(text) or tokenizer(*pair); 'pll' "
                    "the sum over pieces ([CLS], [SEP] excluded) of log_softmax "
                    "(float64) of the logits at the piece with only it masked; "
                    "'pll_word_l2r' the same with the later pieces of its word "
                    "(not starting with U+2581) masked too; '*_per_token' the "
                    "terms."
                ),
            },
            "cases": {
                case: fill_mask_goldens(case, checkpoint_dirs[case])
                for case in FILL_MASK_CASES
            },
        },
    )


# --- Main ------------------------------------------------------------------------


def main():
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if os.path.exists(OUTPUT_DIR):
        shutil.rmtree(OUTPUT_DIR)
    os.makedirs(OUTPUT_DIR)

    inputs = golden_inputs()
    for case in CASES:
        write_case(case, inputs)

    with tempfile.TemporaryDirectory() as tmp_root:
        tokenizer = load_tokenizer(tmp_root)
        _log("tokenizer class:", type(tokenizer))
        compare_with_sentencepiece(tokenizer)
        write_json(
            os.path.join(OUTPUT_DIR, "tokenization.json"),
            tokenization_goldens(tokenizer),
        )

        _log("== verification")
        checkpoint_dirs = {case: verify_case(case, tmp_root) for case in CASES}
        check_tokenizer_files(
            tokenizer, checkpoint_dirs["masked_lm_groups2_inner2"], tmp_root
        )
        _log("== fill-mask and pseudo-log-likelihood")
        write_fill_mask_goldens(checkpoint_dirs)

    total = 0
    for root, _, files in os.walk(OUTPUT_DIR):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    _log(f"wrote {OUTPUT_DIR} ({total} bytes)")


if __name__ == "__main__":
    main()
