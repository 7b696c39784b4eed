"""Bad inputs to the library's entry points, in one table.

Scope: the tokenizer, preprocessor, backbone, `AlbertMaskedLM`'s Keras
methods (`fit`, `evaluate`, `predict`, calling it), corpus packing and
pretraining, and the command-line checks that cross into them (`pretrain`
and `evaluate` options, the subcommand itself). `fill_mask` and `score` have
their own table (`tests/inference/test_inference_bad_input.py`), and so has
the `fill-mask` command (`tests/cli/test_fill_mask_inputs.py`).

Each row names an entry point and an input. A bad input must raise exactly
the expected exception type with a message a user can act on, identically on
every backend; an unusual but valid input (an empty batch, a 1 MB string,
`[MASK]` written in the text) must give its defined result. After every row,
the shared tokenizer, preprocessor and models must behave as before it.
"""

import dataclasses
import functools
import io
import math
import pathlib
import random
import re
from collections.abc import Callable

import keras
import numpy as np
import pytest
import sentencepiece
import tensorflow as tf
from helpers import DATA_DIR, KERAS_HUB_DIR, TINY_BACKBONE, VOCABULARY_PATH

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)
from albert_mlm.cli import main
from albert_mlm.datasets.corpus import CorpusError
from albert_mlm.datasets.corpus_documents import (
    DocumentCount,
    check_document_format,
)
from albert_mlm.datasets.document_packing import packed_examples
from albert_mlm.models.albert_pretrainer import AlbertPreTrainer
from albert_mlm.training.pretrain_options import PretrainOptions
from albert_mlm.training.recipes import resolved

PAD, CLS, SEP, MASK = 0, 2, 3, 4
SEQUENCE_LENGTH = 16
MASK_SLOTS = 4
ONE_MEGABYTE = ("the quick brown fox jumped over the lazy dog. " * 23000)[: 2**20]
PRESET = str(KERAS_HUB_DIR / "groups2_inner2")


@dataclasses.dataclass(frozen=True)
class Raises:
    """The call raises exactly `type`, with `fragment` in its message."""

    type: type
    fragment: str


@dataclasses.dataclass(frozen=True)
class Exits:
    """The command line exits with `status`, `fragment` on stderr."""

    status: int
    fragment: str


@dataclasses.dataclass(frozen=True)
class Gives:
    """The input is valid: `check(result, subjects)` asserts what it gives."""

    check: Callable


@dataclasses.dataclass(frozen=True)
class Warns:
    """The input works but is likely a mistake: the call warns `type` with
    `fragment` in its message, and `check(result, subjects)` holds."""

    type: type
    fragment: str
    check: Callable


@dataclasses.dataclass
class Subjects:
    tokenizer: AlbertTokenizer
    preprocessor: AlbertMaskedLMPreprocessor
    backbone: AlbertBackbone
    masked_lm: AlbertMaskedLM
    bare_masked_lm: AlbertMaskedLM  # No preprocessor: takes integer dicts.
    directory: pathlib.Path  # For the rows' corpus files.


@pytest.fixture(scope="module")
def subjects(tmp_path_factory):
    """Objects shared by all rows, so a row that leaves state behind shows."""
    tokenizer = AlbertTokenizer(str(VOCABULARY_PATH))
    preprocessor = AlbertMaskedLMPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH, mask_selection_length=MASK_SLOTS
    )
    backbone = AlbertBackbone(**TINY_BACKBONE)
    subjects = Subjects(
        tokenizer,
        preprocessor,
        backbone,
        AlbertMaskedLM(backbone, preprocessor),
        AlbertMaskedLM(backbone),
        tmp_path_factory.mktemp("bad_inputs"),
    )
    return subjects, _state(subjects)


def _state(s):
    """What each shared object computes on a fixed valid input."""
    return {
        "tokens": s.tokenizer("the quick brown fox.").tolist(),
        "preprocessor": s.preprocessor.get_config(),
        "logits": [
            keras.ops.convert_to_numpy(model(_features())).tolist()
            for model in (s.masked_lm, s.bare_masked_lm)
        ],
    }


def _features(batch_size=2, length=8, **replacements):
    """A valid integer batch for the masked LM, with some arrays replaced."""
    features = {
        "token_ids": np.arange(5, 5 + batch_size * length).reshape(batch_size, -1),
        "segment_ids": np.zeros((batch_size, length), "int32"),
        "padding_mask": np.ones((batch_size, length), "int32"),
        "mask_positions": np.tile([1, 3], (batch_size, 1)),
    }
    return {**features, **replacements}


def _backbone_features(**replacements):
    features = _features(**replacements)
    del features["mask_positions"]
    return features


def _without(features, *keys):
    return {key: value for key, value in features.items() if key not in keys}


def _np(structure):
    return tf.nest.map_structure(keras.ops.convert_to_numpy, structure)


def _with_long_preprocessor(s):
    """A masked LM whose preprocessor was swapped for a too-long one."""
    masked_lm = AlbertMaskedLM(s.backbone, s.preprocessor)
    masked_lm.preprocessor = AlbertMaskedLMPreprocessor(
        s.tokenizer, sequence_length=TINY_BACKBONE["max_sequence_length"] + 1
    )
    return masked_lm


def _string_dataset(values):
    return tf.data.Dataset.from_tensor_slices(values)


# === Checks of valid inputs ===


def _is_empty_ids(ids, s):
    assert ids.dtype == np.int32 and ids.shape == (0,)


def _is_empty_text(text, s):
    assert text == ""


def _packs_nothing(outputs, s):
    """A lone `[CLS] [SEP]` sequence, with no token selected for masking."""
    x, y, weights = _np(outputs)
    assert x["token_ids"].tolist() == [CLS, SEP] + [PAD] * (SEQUENCE_LENGTH - 2)
    assert x["padding_mask"].tolist() == [1, 1] + [0] * (SEQUENCE_LENGTH - 2)
    assert weights.tolist() == [0.0] * MASK_SLOTS


def _keeps_written_mask(outputs, s):
    """`[MASK]` in the text is the mask id, and never chosen for prediction."""
    x, _, weights = _np(outputs)
    ids = s.tokenizer("the [MASK] sat on the mat.").tolist()
    position = 1 + ids.index(MASK)
    assert x["token_ids"][position] == MASK
    assert position not in x["mask_positions"][weights > 0]
    assert weights.sum() == _selection_count(s.preprocessor, len(ids) - 1)


def _only_special_tokens(outputs, s):
    x, _, weights = _np(outputs)
    assert x["token_ids"][:5].tolist() == [CLS, MASK, SEP, CLS, SEP]
    assert x["padding_mask"].sum() == 5
    assert weights.tolist() == [0.0] * MASK_SLOTS


def _empty_batch(outputs, s):
    x, y, weights = _np(outputs)
    for key in ("token_ids", "padding_mask", "segment_ids"):
        assert x[key].shape == (0, SEQUENCE_LENGTH)
    assert x["mask_positions"].shape == y.shape == weights.shape == (0, MASK_SLOTS)


def _selection_count(preprocessor, selectable):
    """How many tokens `preprocessor` masks among `selectable` ones."""
    rate, slots = preprocessor.mask_selection_rate, preprocessor.mask_selection_length
    return min(slots, math.ceil(rate * selectable))


def _truncated(outputs, s):
    """Cut to `[CLS]`, the first tokens and `[SEP]`, as any long text is."""
    x, labels, weights = _np(outputs)
    unmasked = x["token_ids"].copy()
    unmasked[x["mask_positions"][weights > 0]] = labels[weights > 0]
    expected = _np(s.tokenizer(ONE_MEGABYTE[:1000]))[: SEQUENCE_LENGTH - 2]
    assert unmasked.tolist() == [CLS, *expected.tolist(), SEP]
    assert x["padding_mask"].tolist() == [1] * SEQUENCE_LENGTH
    assert weights.sum() == _selection_count(s.preprocessor, SEQUENCE_LENGTH - 2)


def _nothing_selected(outputs, s):
    x, y, weights = _np(outputs)
    unmasked = _np(s.tokenizer("the quick brown fox jumped."))
    assert x["token_ids"][1 : 1 + len(unmasked)].tolist() == unmasked.tolist()
    assert weights.tolist() == [0.0] * MASK_SLOTS


def _pair_dataset(first, second):
    return tf.data.Dataset.zip(
        tf.data.Dataset.from_tensor_slices(first).batch(len(first)),
        tf.data.Dataset.from_tensor_slices(second).batch(len(second)),
    )


def _cli(*argv):
    return lambda s: main(list(argv))


# === Pretraining inputs ===

NO_CORPUS = str(DATA_DIR / "none.txt")  # Refused options fail before reading it.
LONG_SENTENCE = "the quick brown fox jumped over the lazy dog near the river bank."


def _corpus(s, text):
    """A corpus file holding `text`."""
    path = s.directory / f"corpus_{abs(hash(text))}.txt"
    path.write_text(text)
    return str(path)


def _cli_pretrain(*extra, corpus=None):
    """`albert-mlm pretrain` with `extra` flags, on `corpus` text if given."""

    def call(s):
        path = _corpus(s, corpus) if corpus is not None else NO_CORPUS
        out = s.directory / f"out_{abs(hash(extra))}"
        return main(["pretrain", "--corpus", path, "--out", str(out), *extra])

    return call


def _options(**settings):
    return resolved(PretrainOptions(corpus=[NO_CORPUS], out="unused", **settings))


def _packed(s, text, **settings):
    """The packed examples of a corpus holding `text`, masked as one batch."""
    examples = packed_examples(
        _corpus(s, text), s.tokenizer, SEQUENCE_LENGTH, seed=0, **settings
    )
    batch = next(iter(examples.batch(64)))
    inputs = {key: batch[key] for key in ("token_ids", "segment_ids", "padding_mask")}
    return _np(batch), _np(s.preprocessor.mask(inputs, seed=[0, 0]))


def _one_masked_lm_example(packed, s):
    """One segment, `[CLS] A [SEP]`: no sentence order, tokens to predict."""
    (examples, (_, _, weights)) = packed
    assert examples["token_ids"].shape[0] == 1
    assert examples["segment_ids"].max() == 0
    assert examples["sentence_order_weight"].tolist() == [0.0]
    assert weights.sum() >= 1


def _cut_to_sequence_length(packed, s):
    """Not split over several examples: one, cut to `SEQUENCE_LENGTH` tokens,
    a contiguous run of the sentence's."""
    _one_masked_lm_example(packed, s)
    token_ids = packed[0]["token_ids"][0]
    assert packed[0]["padding_mask"].sum() == SEQUENCE_LENGTH
    assert token_ids[[0, -1]].tolist() == [CLS, SEP]
    sentence = s.tokenizer(LONG_SENTENCE).tolist()
    kept = token_ids[1:-1].tolist()
    assert len(sentence) > len(kept) == SEQUENCE_LENGTH - 2
    starts = [i for i in range(len(sentence)) if sentence[i : i + len(kept)] == kept]
    assert starts, (kept, sentence)


def _one_document_of_three(count, s):
    assert count == DocumentCount(documents=1, sentences=3)


@functools.cache
def _vocabulary_without_word_starts():
    """A SentencePiece model with no "▁" piece: trained on text without
    spaces, with no dummy prefix."""
    rng = random.Random(0)
    words = "the quick brown fox jumped over lazy dog cat sat near river".split()
    lines = ["".join(rng.choice(words) for _ in range(8)) for _ in range(200)]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=60,
        add_dummy_prefix=False,
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[CLS]", "[SEP]"],
        user_defined_symbols=["[MASK]"],
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def _vocabulary_file(s):
    path = s.directory / "no_word_starts.spm"
    path.write_bytes(_vocabulary_without_word_starts())
    return str(path)


TABLE = [
    # --- AlbertTokenizer(...) ---
    pytest.param(
        lambda s: AlbertTokenizer(str(DATA_DIR)),
        Raises(
            IsADirectoryError, "must be a SentencePiece model file, not a directory"
        ),
        id="tokenizer-init-directory",
    ),
    pytest.param(
        lambda s: AlbertTokenizer(VOCABULARY_PATH.read_bytes()[:1000]),
        Raises(ValueError, "`proto` is not a valid SentencePiece model"),
        id="tokenizer-init-truncated-model",
    ),
    pytest.param(
        lambda s: AlbertTokenizer(str(VOCABULARY_PATH), lowercase="false"),
        Raises(
            TypeError, "`lowercase` must be True or False. Received: lowercase='false'"
        ),
        id="tokenizer-init-lowercase-string",
    ),
    # --- AlbertTokenizer.__call__ / tokenize ---
    pytest.param(
        lambda s: s.tokenizer(7),
        Raises(
            TypeError,
            "a batch of strings (a list, tuple, 1-D array or tensor). "
            "Received a value of type int: 7",
        ),
        id="tokenizer-call-int",
    ),
    pytest.param(
        lambda s: s.tokenizer.tokenize(None),
        Raises(TypeError, "Received a value of type NoneType: None"),
        id="tokenizer-tokenize-none",
    ),
    pytest.param(
        lambda s: s.tokenizer({"text": "a dog."}),
        Raises(TypeError, "Received a value of type dict: {'text': 'a dog.'}"),
        id="tokenizer-call-dict",
    ),
    pytest.param(
        lambda s: s.tokenizer([{"text": {"en": "a dog."}}]),
        Raises(TypeError, "Received at index 0 a value of type dict"),
        id="tokenizer-call-nested-dicts",
    ),
    pytest.param(
        lambda s: s.tokenizer(["a dog.", 1]),
        Raises(TypeError, "Received at index 1 a value of type int: 1"),
        id="tokenizer-call-mixed-list",
    ),
    pytest.param(
        lambda s: s.tokenizer([None]),
        Raises(TypeError, "Received at index 0 a value of type NoneType"),
        id="tokenizer-call-list-of-none",
    ),
    pytest.param(
        lambda s: s.tokenizer(["a dog.", ["nested"]]),
        Raises(TypeError, "Received at index 1 a value of type list: ['nested']"),
        id="tokenizer-call-nested-list",
    ),
    pytest.param(
        lambda s: s.tokenizer(np.array([["a dog.", "a cat."]])),
        Raises(ValueError, "Received an array of shape (1, 2)"),
        id="tokenizer-call-2d-array",
    ),
    pytest.param(
        lambda s: s.tokenizer(np.array([1, 2])),
        Raises(TypeError, "Received an array of dtype int64"),
        id="tokenizer-call-int-array",
    ),
    pytest.param(
        lambda s: tf.data.Dataset.from_tensor_slices([1, 2]).map(s.tokenizer),
        Raises(TypeError, "Received a tensor of dtype int32"),
        id="tokenizer-in-tf-data-int-tensor",
    ),
    pytest.param(
        lambda s: s.tokenizer(""),
        Gives(_is_empty_ids),
        id="valid-tokenizer-empty-string",
    ),
    pytest.param(
        lambda s: s.tokenizer(" \t\n\u3000\u00a0 "),
        Gives(_is_empty_ids),
        id="valid-tokenizer-whitespace-only",
    ),
    # --- AlbertTokenizer.detokenize ---
    pytest.param(
        lambda s: s.tokenizer.detokenize(None),
        Raises(
            TypeError,
            "`ids` must be a sequence of token ids or a batch of them. "
            "Received: NoneType None",
        ),
        id="detokenize-none",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize(5),
        Raises(TypeError, "`ids` must be a sequence of token ids or a batch of them"),
        id="detokenize-int",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize("the dog"),
        Raises(TypeError, "Received: str 'the dog'"),
        id="detokenize-string",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize({"token_ids": [5, 6]}),
        Raises(TypeError, "Received: dict"),
        id="detokenize-dict",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize([5, 400]),
        Raises(
            ValueError,
            "`ids` must be in [0, 400), the vocabulary size. "
            "Received ids from 5 to 400.",
        ),
        id="detokenize-id-equal-to-vocabulary-size",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize(np.array([-1, 5], "int32")),
        Raises(ValueError, "Received ids from -1 to 5"),
        id="detokenize-negative-id",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize([[5, 6], [7, 999]]),
        Raises(ValueError, "Received ids from 7 to 999"),
        id="detokenize-batch-row-outside-vocabulary",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize([5.5, 6]),
        Raises(TypeError, "`ids` must hold integer token ids. Received dtype float64"),
        id="detokenize-float-ids",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize([5, "a"]),
        Raises(TypeError, "`ids` must hold integer token ids"),
        id="detokenize-mixed-types",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize(np.ones((1, 2, 3), "int32")),
        Raises(ValueError, "must be 1-D (one sequence) or 2-D (a batch of sequences)"),
        id="detokenize-3d-array",
    ),
    pytest.param(
        lambda s: s.tokenizer.detokenize([]),
        Gives(_is_empty_text),
        id="valid-detokenize-empty-sequence",
    ),
    # --- AlbertMaskedLMPreprocessor(...) ---
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, sequence_length=16.0),
        Raises(
            ValueError,
            "`sequence_length` must be a positive integer. "
            "Received: sequence_length=16.0",
        ),
        id="preprocessor-init-float-sequence-length",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, sequence_length="16"),
        Raises(ValueError, "Received: sequence_length='16'"),
        id="preprocessor-init-string-sequence-length",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, mask_selection_rate="0.15"),
        Raises(
            ValueError,
            "`mask_selection_rate` must be a number in [0, 1]. "
            "Received: mask_selection_rate='0.15'",
        ),
        id="preprocessor-init-string-rate",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, random_token_rate=np.nan),
        Raises(ValueError, "Received: random_token_rate=nan"),
        id="preprocessor-init-nan-rate",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, truncate=None),
        Raises(
            ValueError,
            "`truncate` must be one of ['round_robin', 'waterfall']. "
            "Received: truncate=None",
        ),
        id="preprocessor-init-truncate-none",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(
            s.tokenizer,
            sequence_length=SEQUENCE_LENGTH,
            mask_selection_length=MASK_SLOTS,
            mask_selection_rate=0.0,
        )("the quick brown fox jumped."),
        Gives(_nothing_selected),
        id="valid-preprocessor-zero-selection-rate-masks-nothing",
    ),
    # --- AlbertMaskedLMPreprocessor.__call__ ---
    pytest.param(
        lambda s: s.preprocessor(5),
        Raises(TypeError, "Received a value of type int: 5"),
        id="preprocessor-call-int",
    ),
    pytest.param(
        lambda s: s.preprocessor(None),
        Raises(TypeError, "Received a value of type NoneType"),
        id="preprocessor-call-none",
    ),
    pytest.param(
        lambda s: s.preprocessor({"text": ["a dog."]}),
        Raises(TypeError, "Received a value of type dict"),
        id="preprocessor-call-dict",
    ),
    pytest.param(
        lambda s: s.preprocessor((["a dog.", "a cat."], ["a bird."])),
        Raises(
            ValueError,
            "The two segments must have the same batch size. Received 2 and 1 texts.",
        ),
        id="preprocessor-call-pair-batch-sizes-differ",
    ),
    pytest.param(
        lambda s: s.preprocessor(("a dog.", ["a cat.", "a bird."])),
        Raises(ValueError, "must both be single strings or both be batches"),
        id="preprocessor-call-pair-string-and-batch",
    ),
    pytest.param(
        lambda s: list(
            _pair_dataset(["a dog.", "a cat."], ["a bird."]).map(
                lambda a, b: s.preprocessor((a, b))
            )
        ),
        Raises(tf.errors.InvalidArgumentError, "same batch size"),
        id="preprocessor-in-tf-data-pair-batch-sizes-differ",
    ),
    pytest.param(
        lambda s: s.preprocessor([]),
        Gives(_empty_batch),
        id="valid-preprocessor-empty-batch",
    ),
    pytest.param(
        lambda s: s.preprocessor(" \t\n "),
        Gives(_packs_nothing),
        id="valid-preprocessor-whitespace-only",
    ),
    pytest.param(
        lambda s: s.preprocessor("the [MASK] sat on the mat."),
        Gives(_keeps_written_mask),
        id="valid-preprocessor-mask-written-in-text",
    ),
    pytest.param(
        lambda s: s.preprocessor("[MASK][SEP][CLS]"),
        Gives(_only_special_tokens),
        id="valid-preprocessor-only-special-tokens",
    ),
    pytest.param(
        lambda s: s.preprocessor(ONE_MEGABYTE),
        Gives(_truncated),
        id="valid-preprocessor-one-megabyte-string",
    ),
    pytest.param(
        lambda s: next(iter(_string_dataset([ONE_MEGABYTE]).map(s.preprocessor))),
        Gives(_truncated),
        id="valid-preprocessor-in-tf-data-one-megabyte-string",
    ),
    # --- AlbertBackbone(...) ---
    pytest.param(
        lambda s: AlbertBackbone(**{**TINY_BACKBONE, "num_heads": 0}),
        Raises(
            ValueError, "`num_heads` must be a positive integer. Received: num_heads=0"
        ),
        id="backbone-init-zero-heads",
    ),
    pytest.param(
        lambda s: AlbertBackbone(**{**TINY_BACKBONE, "hidden_dim": 0}),
        Raises(ValueError, "Received: hidden_dim=0"),
        id="backbone-init-zero-hidden-dim",
    ),
    pytest.param(
        lambda s: AlbertBackbone(**{**TINY_BACKBONE, "num_segments": 0}),
        Raises(ValueError, "Received: num_segments=0"),
        id="backbone-init-zero-segments",
    ),
    pytest.param(
        lambda s: AlbertBackbone(**{**TINY_BACKBONE, "dropout": "0.1"}),
        Raises(
            ValueError, "`dropout` must be a number in [0, 1). Received: dropout='0.1'"
        ),
        id="backbone-init-string-dropout",
    ),
    pytest.param(
        lambda s: AlbertBackbone(**{**TINY_BACKBONE, "activation": None}),
        Raises(ValueError, "`activation` must be one of ['gelu_approximate'"),
        id="backbone-init-no-activation",
    ),
    # --- AlbertBackbone.__call__ ---
    pytest.param(
        lambda s: s.backbone(_without(_backbone_features(), "padding_mask")),
        Raises(
            ValueError,
            "The inputs lack the key(s) ['padding_mask']. Expected "
            "keys ['token_ids', 'segment_ids', 'padding_mask']",
        ),
        id="backbone-call-missing-key",
    ),
    pytest.param(
        lambda s: s.backbone(list(_backbone_features().values())),
        Raises(
            TypeError,
            "Expected a dict with keys ['token_ids', 'segment_ids', "
            "'padding_mask']. Received: list",
        ),
        id="backbone-call-list",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(token_ids=np.full((2, 8), 400))),
        Raises(
            ValueError,
            "`token_ids` must be in [0, 400), 400 being "
            "`vocabulary_size`. Received values from 400 to 400.",
        ),
        id="backbone-call-token-id-equal-to-vocabulary-size",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(token_ids=np.full((2, 8), -3))),
        Raises(ValueError, "Received values from -3 to -3"),
        id="backbone-call-negative-token-id",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(segment_ids=np.full((2, 8), 2))),
        Raises(ValueError, "`segment_ids` must be in [0, 2), 2 being `num_segments`"),
        id="backbone-call-segment-id-out-of-range",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(length=33)),
        Raises(
            ValueError,
            "sequence length 33, more than the backbone's `max_sequence_length` (32)",
        ),
        id="backbone-call-longer-than-max-sequence-length",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(segment_ids=np.zeros((2, 7), "int32"))),
        Raises(ValueError, "`segment_ids` has sequence length 7 but `token_ids` has 8"),
        id="backbone-call-segment-ids-shorter",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(padding_mask=np.ones((3, 8), "int32"))),
        Raises(ValueError, "`padding_mask` has batch size 3 but `token_ids` has 2"),
        id="backbone-call-padding-mask-batch-differs",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(token_ids=np.full((2, 8), 5.5))),
        Raises(TypeError, "`token_ids` must hold integers. Received dtype float64."),
        id="backbone-call-float-token-ids",
    ),
    pytest.param(
        lambda s: s.backbone({k: v[0] for k, v in _backbone_features().items()}),
        Raises(
            ValueError,
            "`token_ids` must be 2-D, (batch_size, sequence_length). "
            "Received shape (8,).",
        ),
        id="backbone-call-1d-inputs",
    ),
    pytest.param(
        lambda s: s.backbone(_backbone_features(token_ids=[[5, 6, 7], [8]])),
        Raises(ValueError, "nested lists of unequal lengths: pad them to one length"),
        id="backbone-call-ragged-token-id-lists",
    ),
    # --- AlbertMaskedLM.fit / evaluate / predict / __call__ ---
    pytest.param(
        lambda s: s.masked_lm.predict([1, 2, 3], verbose=0),
        Raises(TypeError, "`x` must hold strings. Received at index 0: int 1"),
        id="masked-lm-predict-ints",
    ),
    pytest.param(
        lambda s: s.masked_lm.predict("the [MASK] sat.", verbose=0),
        Raises(TypeError, "wrap a single string in a list"),
        id="masked-lm-predict-single-string",
    ),
    pytest.param(
        lambda s: s.masked_lm.fit(None, verbose=0),
        Raises(TypeError, "`x` must be a list of strings or a tuple of two lists"),
        id="masked-lm-fit-none",
    ),
    pytest.param(
        lambda s: s.masked_lm.fit([], verbose=0),
        Raises(ValueError, "`x` has 0 rows (an empty batch of strings)"),
        id="masked-lm-fit-empty-list",
    ),
    pytest.param(
        lambda s: s.masked_lm.evaluate((["a dog.", "a cat."], ["a bird."]), verbose=0),
        Raises(
            ValueError,
            "The two segments of `x` must hold the same number of "
            "texts. Received 2 and 1.",
        ),
        id="masked-lm-evaluate-pair-batch-sizes-differ",
    ),
    pytest.param(
        lambda s: s.masked_lm.predict(_string_dataset([1, 2]), verbose=0),
        Raises(TypeError, "must yield batches of strings"),
        id="masked-lm-predict-dataset-of-ints",
    ),
    pytest.param(
        lambda s: s.masked_lm.predict(
            _without(_features(), "mask_positions"), verbose=0
        ),
        Raises(ValueError, "The inputs lack the key(s) ['mask_positions']"),
        id="masked-lm-predict-dict-missing-key",
    ),
    pytest.param(
        lambda s: s.bare_masked_lm.predict(
            _features(mask_positions=np.full((2, 2), 8)), verbose=0
        ),
        Raises(
            ValueError,
            "`mask_positions` must be in [0, 8), 8 being the sequence "
            "length. Received values from 8 to 8.",
        ),
        id="masked-lm-predict-mask-position-beyond-sequence",
    ),
    pytest.param(
        lambda s: s.bare_masked_lm(_features(mask_positions=np.full((2, 2), -1))),
        Raises(ValueError, "`mask_positions` must be in [0, 8)"),
        id="masked-lm-call-negative-mask-position",
    ),
    pytest.param(
        lambda s: s.bare_masked_lm.predict(
            _features(mask_positions=np.ones((3, 2), "int32")), verbose=0
        ),
        Raises(ValueError, "`mask_positions` has batch size 3 but `token_ids` has 2"),
        id="masked-lm-predict-mask-positions-batch-differs",
    ),
    pytest.param(
        lambda s: s.bare_masked_lm.fit(
            _features(), np.ones((3, 2), "int32"), verbose=0
        ),
        Raises(ValueError, "Data cardinality is ambiguous"),
        id="masked-lm-fit-labels-batch-differs",
    ),
    pytest.param(
        lambda s: s.bare_masked_lm.predict(["the [MASK] sat."], verbose=0),
        Raises(
            TypeError,
            "This AlbertMaskedLM has no preprocessor, so `x` must be "
            "a dict of integer arrays",
        ),
        id="masked-lm-no-preprocessor-predict-strings",
    ),
    pytest.param(
        lambda s: s.bare_masked_lm.fit(_string_dataset(["a dog."]).batch(1), verbose=0),
        Raises(TypeError, "Pass `preprocessor=` to the constructor to use raw strings"),
        id="masked-lm-no-preprocessor-fit-string-dataset",
    ),
    pytest.param(
        lambda s: _with_long_preprocessor(s).predict(["a dog."], verbose=0),
        Raises(
            ValueError,
            "The preprocessor's `sequence_length` (33) exceeds the "
            "backbone's `max_sequence_length` (32).",
        ),
        id="masked-lm-predict-preprocessor-longer-than-backbone",
    ),
    # --- albert_mlm.cli.main ---
    pytest.param(
        _cli("bogus"),
        Exits(2, "invalid choice: 'bogus'"),
        id="cli-unknown-subcommand",
    ),
    pytest.param(
        _cli("evaluate", "--preset", PRESET, "--corpus", str(DATA_DIR / "none.txt")),
        Exits(1, f"Corpus file {str(DATA_DIR / 'none.txt')!r} does not exist."),
        id="cli-evaluate-missing-corpus",
    ),
    # --- AlbertMaskedLMPreprocessor(mask_strategy=..., max_ngram=...) ---
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, mask_strategy="span"),
        Raises(
            ValueError,
            "`mask_strategy` must be one of ['ngram', 'token', 'whole_word']. "
            "Received: mask_strategy='span'",
        ),
        id="preprocessor-init-unknown-mask-strategy",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, max_ngram="2"),
        Raises(
            ValueError,
            "`max_ngram` must be a positive integer. Received: max_ngram='2'",
        ),
        id="preprocessor-init-string-max-ngram",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(s.tokenizer, max_ngram=0),
        Raises(
            ValueError, "`max_ngram` must be a positive integer. Received: max_ngram=0"
        ),
        id="preprocessor-init-zero-max-ngram",
    ),
    pytest.param(
        lambda s: AlbertMaskedLMPreprocessor(
            AlbertTokenizer(_vocabulary_without_word_starts()),
            mask_strategy="whole_word",
        ),
        Raises(
            ValueError,
            "`mask_strategy='whole_word'` masks whole words, but no piece of the "
            "vocabulary begins a word (none starts with '▁'",
        ),
        id="preprocessor-init-whole-word-vocabulary-without-word-starts",
    ),
    # --- ALBERT's pretraining: packing, options, the pretrainer ---
    pytest.param(
        lambda s: check_document_format(
            [_corpus(s, "The cat sat.\nIt purred.\nA dog ran.\n")]
        ),
        Warns(
            UserWarning,
            "No blank line separates documents",
            _one_document_of_three,
        ),
        id="packing-documents-format-corpus-without-blank-lines",
    ),
    pytest.param(
        lambda s: _packed(s, "The cat sat on the mat.\n"),
        Gives(_one_masked_lm_example),
        id="valid-packing-one-sentence-document-gives-masked-lm-examples",
    ),
    pytest.param(
        lambda s: _packed(s, LONG_SENTENCE + "\n", short_seq_prob=0.0),
        Gives(_cut_to_sequence_length),
        id="valid-packing-sentence-longer-than-sequence-length-is-cut",
    ),
    pytest.param(
        lambda s: packed_examples(
            _corpus(s, "a.\n"), s.tokenizer, SEQUENCE_LENGTH, 0, short_seq_prob=-0.1
        ),
        Raises(
            ValueError,
            "`short_seq_prob` must be a number in [0, 1]. Received: "
            "short_seq_prob=-0.1",
        ),
        id="packing-negative-short-seq-prob",
    ),
    pytest.param(
        lambda s: _options(short_seq_prob=1.5),
        Raises(ValueError, "Received: short_seq_prob=1.5"),
        id="pretrain-options-short-seq-prob-above-one",
    ),
    pytest.param(
        lambda s: _options(max_ngram=0),
        Raises(ValueError, "`max_ngram` must be a positive integer"),
        id="pretrain-options-zero-max-ngram",
    ),
    pytest.param(
        lambda s: _options(mask_strategy="span"),
        Raises(ValueError, "`mask_strategy` must be one of"),
        id="pretrain-options-unknown-mask-strategy",
    ),
    pytest.param(
        lambda s: _options(sentence_order="on", packing="none"),
        Raises(
            ValueError,
            "`sentence_order='on'` needs segment pairs: choose a packing, "
            "`documents` or `lines`. Received: packing='none'",
        ),
        id="pretrain-options-sentence-order-without-packing",
    ),
    pytest.param(
        lambda s: _options(sentence_order="on", packing="lines"),
        Raises(ValueError, "needs documents of several sentences"),
        id="pretrain-options-sentence-order-with-one-line-documents",
    ),
    pytest.param(
        lambda s: AlbertPreTrainer(s.backbone, s.preprocessor).fit(
            ["", "\n \n"], verbose=0
        ),
        Raises(CorpusError, "The documents hold no text, only blank lines."),
        id="pretrainer-fit-blank-documents",
    ),
    pytest.param(
        lambda s: AlbertPreTrainer(s.backbone, s.preprocessor).fit(
            (["the cat sat."], ["it purred."]), verbose=0
        ),
        Raises(TypeError, "AlbertPreTrainer reads documents, not sentence pairs"),
        id="pretrainer-fit-sentence-pairs",
    ),
    pytest.param(
        _cli_pretrain("--short-seq-prob", "1.5"),
        Exits(1, "error: `short_seq_prob` must be a number in [0, 1]"),
        id="cli-pretrain-short-seq-prob-above-one",
    ),
    pytest.param(
        _cli_pretrain("--max-ngram", "0"),
        Exits(2, "argument --max-ngram: must be at least 1, got 0"),
        id="cli-pretrain-zero-max-ngram",
    ),
    pytest.param(
        _cli_pretrain("--mask-strategy", "span"),
        Exits(2, "argument --mask-strategy: invalid choice: 'span'"),
        id="cli-pretrain-unknown-mask-strategy",
    ),
    pytest.param(
        _cli_pretrain("--sentence-order", "on", "--packing", "none"),
        Exits(1, "`sentence_order='on'` needs segment pairs"),
        id="cli-pretrain-sentence-order-without-packing",
    ),
    pytest.param(
        lambda s: _cli_pretrain(
            "--mask-strategy",
            "whole_word",
            "--vocab",
            _vocabulary_file(s),
            corpus="the cat sat.\n",
        )(s),
        Exits(1, "`mask_strategy='whole_word'` masks whole words"),
        id="cli-pretrain-whole-word-vocabulary-without-word-starts",
    ),
]


@pytest.mark.parametrize("call, expected", TABLE)
def test_bad_input(subjects, capsys, call, expected):
    s, state_before = subjects
    if isinstance(expected, Raises):
        with pytest.raises(expected.type, match=re.escape(expected.fragment)) as info:
            call(s)
        assert type(info.value) is expected.type
    elif isinstance(expected, Warns):
        with pytest.warns(expected.type, match=re.escape(expected.fragment)):
            result = call(s)
        expected.check(result, s)
    elif isinstance(expected, Exits):
        try:
            status = call(s)
        except SystemExit as exit_info:
            status = exit_info.code
        stderr = capsys.readouterr().err
        assert status == expected.status
        assert expected.fragment in stderr
        assert "Traceback" not in stderr
    else:
        expected.check(call(s), s)
    # Nothing was left behind: the shared objects compute what they did.
    assert _state(s) == state_before


def test_table_covers_every_entry_point():
    ids = [param.id for param in TABLE]
    assert len(ids) == len(set(ids)) >= 30
    for prefix in (
        "tokenizer",
        "detokenize",
        "preprocessor",
        "backbone",
        "masked-lm",
        "cli",
        "valid",
        "packing",
        "pretrain-options",
        "pretrainer",
    ):
        assert any(i.startswith(prefix) for i in ids), prefix
    # Inference and the commands that read texts have their own tables.
    for elsewhere in ("fill-mask", "score", "cli-fill-mask", "cli-score"):
        assert not any(i.startswith(elsewhere) for i in ids), elsewhere
