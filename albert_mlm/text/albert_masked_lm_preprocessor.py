"""Raw strings to masked-LM training examples: tokenize, pack, mask."""

import keras
import numpy as np

from albert_mlm.argument_checks import (
    require_choice,
    require_fits_in_memory,
    require_positive_int,
)
from albert_mlm.presets.loading import load_preprocessor
from albert_mlm.presets.preset_methods import PresetMethods
from albert_mlm.presets.saving import save_preprocessor
from albert_mlm.text.albert_tokenizer import AlbertTokenizer
from albert_mlm.text.mask_generator import (
    MASK_STRATEGIES,
    MaskGenerator,
    validate_masking_arguments,
)
from albert_mlm.text.preprocessing_layer import PreprocessingLayer
from albert_mlm.text.segment_packer import TRUNCATION_STRATEGIES, SegmentPacker
from albert_mlm.text.tokenizer_inputs import in_tf_graph
from albert_mlm.text.word_spans import word_start_table

# [CLS], one token and [SEP]: the shortest sequence worth packing.
_MIN_SEQUENCE_LENGTH = 3
# `fit`'s default batch size: the memory check's yardstick.
_NOMINAL_BATCH_SIZE = 32


@keras.saving.register_keras_serializable(package="albert_mlm")
class AlbertMaskedLMPreprocessor(PresetMethods, PreprocessingLayer):
    """Tokenizes, packs and dynamically masks text for `AlbertMaskedLM`.

    Takes a string, a batch of strings, or a tuple of one or two such batches
    (sentence pairs), and returns `(x, y, sample_weight)`: `x` holds
    `token_ids`, `padding_mask`, `segment_ids` and `mask_positions`; `y` the
    original ids at those positions; `sample_weight` 1.0 for each real
    selection and 0.0 for unused slots. A fresh random masking is drawn on
    every call. Works called directly (returns backend tensors) and in
    `tf.data.Dataset.map` (returns TensorFlow tensors). `pack` does the same
    without masking.

    Args:
        tokenizer: an `AlbertTokenizer`.
        sequence_length: packed length, `[CLS]`/`[SEP]` included.
        truncate: `"round_robin"` or `"waterfall"` (see `SegmentPacker`).
        mask_selection_rate: fraction of non-special tokens to predict.
        mask_selection_length: number of prediction slots per sequence.
        mask_token_rate: probability a selected token becomes `[MASK]`.
        random_token_rate: probability it becomes a random token instead.
        mask_strategy: what is selected, a name in `MASK_STRATEGIES`:
            `"token"` (single tokens, KerasHub's masking), `"whole_word"`
            (whole words) or `"ngram"` (spans of 1 to `max_ngram` whole
            words, shorter ones likelier), ALBERT's options; see
            `MaskGenerator`. The word strategies need a SentencePiece model
            that marks word starts ("▁").
        max_ngram: the longest span of `"ngram"`, in words.

    Example:
    >>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
    >>> preprocessor = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=12,
    ...     mask_selection_length=4)
    >>> x, y, sample_weight = preprocessor(["the quick brown fox.", "a dog."])
    >>> tuple(x["token_ids"].shape), tuple(y.shape)
    ((2, 12), (2, 4))
    >>> spans = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=12,
    ...     mask_selection_length=4, mask_strategy="ngram", max_ngram=2)
    >>> x, y, sample_weight = spans("the quick brown fox jumped over the dog.")
    >>> float(keras.ops.sum(sample_weight)) <= 2  # ceil(0.15 * 10) tokens.
    True
    """

    tokenizer_cls = AlbertTokenizer
    _load_preset = staticmethod(load_preprocessor)
    _save_preset = staticmethod(save_preprocessor)
    config_file = "preprocessor.json"  # KerasHub's name for where it is saved.
    backbone_cls = None  # `AlbertBackbone`, set by models/albert_backbone.py.

    def __init__(
        self,
        tokenizer,
        sequence_length=512,
        truncate="round_robin",
        mask_selection_rate=0.15,
        mask_selection_length=96,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        mask_strategy="token",
        max_ngram=3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(tokenizer, self.tokenizer_cls):
            raise TypeError(
                "`tokenizer` must be an `AlbertTokenizer`. Received: "
                f"{type(tokenizer).__name__}"
            )
        require_positive_int("sequence_length", sequence_length)
        if sequence_length < _MIN_SEQUENCE_LENGTH:
            raise ValueError(
                f"`sequence_length` must be at least {_MIN_SEQUENCE_LENGTH} "
                "([CLS], a token and [SEP]). Received: "
                f"sequence_length={sequence_length}"
            )
        require_choice("truncate", truncate, TRUNCATION_STRATEGIES)
        validate_masking_arguments(
            mask_selection_rate,
            mask_selection_length,
            mask_token_rate,
            random_token_rate,
            mask_strategy,
            max_ngram,
        )
        # int32 ids, segment ids and padding mask per token; position, label
        # and weight per prediction slot.
        row_bytes = 12 * sequence_length + 12 * mask_selection_length
        require_fits_in_memory(
            f"A batch of {_NOMINAL_BATCH_SIZE} preprocessed sequences",
            _NOMINAL_BATCH_SIZE * row_bytes,
            {
                "sequence_length": sequence_length,
                "mask_selection_length": mask_selection_length,
            },
        )
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.truncate = truncate
        self.mask_selection_rate = mask_selection_rate
        self.mask_selection_length = mask_selection_length
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.mask_strategy = mask_strategy
        self.max_ngram = max_ngram
        self._text_ops = (None, None)
        needs_words = MASK_STRATEGIES[mask_strategy].needs_word_starts
        if needs_words and tokenizer.proto is not None:
            self._packer_and_masker()  # Refuses a vocabulary without words now.

    @property
    def packer(self):
        """The layer adding [CLS], [SEP] and padding (KerasHub's `packer`)."""
        return self._packer_and_masker()[0]

    @property
    def masker(self):
        """The layer choosing and replacing masked tokens (KerasHub's `masker`)."""
        return self._packer_and_masker()[1]

    def load_preset_assets(self, preset):
        """Load the vocabulary of `preset` into the tokenizer."""
        self.tokenizer.load_preset_assets(preset)

    def _settings(self):
        """The packing and masking settings: `get_config`'s, the tokenizer aside."""
        return {
            "sequence_length": self.sequence_length,
            "truncate": self.truncate,
            "mask_selection_rate": self.mask_selection_rate,
            "mask_selection_length": self.mask_selection_length,
            "mask_token_rate": self.mask_token_rate,
            "random_token_rate": self.random_token_rate,
            "mask_strategy": self.mask_strategy,
            "max_ngram": self.max_ngram,
        }

    def _packer_and_masker(self):
        """The packer and masker for the current settings, built once.

        Rebuilt only when a setting or the tokenizer's vocabulary (which may
        be loaded after construction) has changed since the last call.
        """
        tokenizer = self.tokenizer
        settings = (tokenizer.proto, self._settings())
        built_for, text_ops = self._text_ops
        if built_for != settings:
            masking = dict(settings[1])
            packer = SegmentPacker(
                start_value=tokenizer.cls_token_id,
                end_value=tokenizer.sep_token_id,
                pad_value=tokenizer.pad_token_id,
                sequence_length=masking.pop("sequence_length"),
                truncate=masking.pop("truncate"),
            )
            word_starts = None
            if MASK_STRATEGIES[self.mask_strategy].needs_word_starts:
                word_starts = word_start_table(tokenizer.get_vocabulary())
            masker = MaskGenerator(
                vocabulary_size=tokenizer.vocabulary_size(),
                mask_token_id=tokenizer.mask_token_id,
                unselectable_token_ids=tokenizer.special_token_ids,
                word_starts=word_starts,
                **masking,
            )
            text_ops = packer, masker
            self._text_ops = (settings, text_ops)
        return text_ops

    def call(self, x, y=None, sample_weight=None, seed=None):
        """Tokenize, pack and mask: `(x, y, sample_weight)` for the masked LM.

        `seed` (two integers) makes the masking a function of the seed: the
        same seed masks the same text the same way, eagerly or in `tf.data`
        (see `MaskGenerator`). Without it, every call draws anew.
        """
        return self._preprocess(x, mask=True, seed=seed)

    def pack(self, x):
        """Tokenize and pack without masking: the backbone's input dict.

        Takes what `call` takes; `token_ids` hold the text as written (a
        `[MASK]` in the text stays one).

        Example:
        >>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
        >>> preprocessor = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=8)
        >>> sorted(preprocessor.pack("the [MASK] sat."))
        ['padding_mask', 'segment_ids', 'token_ids']
        """
        return self._preprocess(x, mask=False)

    def mask(self, inputs, seed=None):
        """Mask packed inputs (a batch): `(x, y, sample_weight)` as `call`
        gives, for sequences packed elsewhere (ALBERT's document packing).

        Args:
            inputs: a dict of `(batch, sequence_length)` int tensors with
                `token_ids`, `segment_ids` and `padding_mask`.
            seed: as for `call`.
        """
        import tensorflow as tf

        _, masker = self._packer_and_masker()
        inputs = {key: tf.convert_to_tensor(value) for key, value in inputs.items()}
        return self._masked(inputs, masker, seed)

    @staticmethod
    def _masked(inputs, masker, seed):
        masked = masker(inputs["token_ids"], seed=seed)
        x = {
            **inputs,
            "token_ids": masked["token_ids"],
            "mask_positions": masked["mask_positions"],
        }
        return x, masked["mask_ids"], masked["mask_weights"]

    def _preprocess(self, x, mask, seed=None):
        import tensorflow as tf

        segments = x if isinstance(x, tuple) else (x,)
        if not 1 <= len(segments) <= 2:
            raise ValueError(
                "Expected one segment or a pair of segments. Received a tuple "
                f"of {len(segments)}."
            )
        in_graph = in_tf_graph(segments[0])
        rows, is_batch = zip(
            *(_ragged_batch(self.tokenizer.token_rows(s)) for s in segments)
        )
        if len(set(is_batch)) > 1:
            raise ValueError(
                "The two segments must both be single strings or both be batches "
                "of strings. Received one of each."
            )
        packer, masker = self._packer_and_masker()
        token_ids, segment_ids = packer(rows)
        outputs = {
            "token_ids": token_ids,
            "padding_mask": tf.cast(token_ids != self.tokenizer.pad_token_id, "int32"),
            "segment_ids": segment_ids,
        }
        if mask:
            outputs = self._masked(outputs, masker, seed)
        if not is_batch[0]:
            outputs = tf.nest.map_structure(lambda t: t[0], outputs)
        if not in_graph:
            outputs = tf.nest.map_structure(
                lambda t: keras.ops.convert_to_tensor(t.numpy()), outputs
            )
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            {"tokenizer": keras.layers.serialize(self.tokenizer), **self._settings()}
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("tokenizer"), dict):
            config["tokenizer"] = keras.layers.deserialize(config["tokenizer"])
        return cls(**config)


def _ragged_batch(ids):
    """`(ragged (batch, None) tensor, is_batch)` from tokenizer output."""
    import tensorflow as tf

    if isinstance(ids, tf.RaggedTensor):
        return ids, True
    if isinstance(ids, tf.Tensor):  # One string inside a graph.
        return tf.RaggedTensor.from_tensor(ids[None]), False
    if isinstance(ids, np.ndarray):  # One string, eagerly.
        return tf.RaggedTensor.from_tensor(ids[None]), False
    lengths = [len(row) for row in ids]
    values = np.concatenate(ids) if ids else np.zeros((0,), "int32")
    return tf.RaggedTensor.from_row_lengths(values.astype("int32"), lengths), True
