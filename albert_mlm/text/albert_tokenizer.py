"""SentencePiece tokenization with ALBERT's special tokens and normalisation."""

import os
import weakref

import keras
import numpy as np
import sentencepiece

from albert_mlm.argument_checks import require_bool, require_positive_int
from albert_mlm.presets.loading import load_tokenizer, preset_vocabulary
from albert_mlm.presets.preset_methods import PresetMethods
from albert_mlm.presets.saving import save_tokenizer
from albert_mlm.presets.transformers_tokenizer_export import export_tokenizer
from albert_mlm.text.graph_tokenization import tokenize_in_graph
from albert_mlm.text.normalization import (
    special_token_pattern,
)
from albert_mlm.text.preprocessing_layer import PreprocessingLayer
from albert_mlm.text.tokenizer_inputs import (
    in_tf_graph,
    to_id_rows,
    to_python_strings,
)

SPECIAL_TOKENS = {
    "pad_token": "<pad>",
    "unk_token": "<unk>",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}
# Written in the text, these become their ids (as in Hugging Face's
# tokenizer) rather than being cut into pieces; "<pad>" is left out so text
# can never look like padding to the model.
_IN_TEXT_SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[MASK]", "<unk>")
_IN_TEXT_SPECIAL_PATTERN = special_token_pattern(_IN_TEXT_SPECIAL_TOKENS)
VOCABULARY_FILE = "vocabulary.spm"


@keras.saving.register_keras_serializable(package="albert_mlm")
class AlbertTokenizer(PresetMethods, PreprocessingLayer):
    """ALBERT tokenizer: uncased normalisation, then a SentencePiece model.

    Eagerly and inside `tf.data` (or any TensorFlow graph) it runs the same
    `tensorflow-text` SentencePiece op, KerasHub's, so a text gets the same
    ids everywhere; the `sentencepiece` package only answers vocabulary
    lookups and eager `detokenize`. The special tokens `[CLS]`, `[SEP]`,
    `[MASK]` and `<unk>` written in the text map to their ids.

    Args:
        proto: the SentencePiece model: a file path or its serialized bytes.
            `None` leaves it to be loaded from saved assets (`load_assets`).
        sequence_length: if set, every output is cut or padded (with the
            padding id) to this many ids, a batch becoming one dense
            `(batch, sequence_length)` array, as KerasHub's tokenizers do.
        lowercase: apply the uncased normalisation of every ALBERT preset
            (collapse whitespace, strip accents, lowercase) before
            SentencePiece. Turn off only for a cased vocabulary.

    Example:
    >>> tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
    >>> ids = tokenizer("The quick brown fox.")          # int32 vector
    >>> rows = tokenizer(["a dog.", "the [MASK] sat."])  # ragged rows
    >>> tokenizer.detokenize(ids)
    'the quick brown fox.'
    """

    _load_preset = staticmethod(load_tokenizer)
    _save_preset = staticmethod(save_tokenizer)
    # KerasHub's names: the special tokens' texts, where the config and the
    # vocabulary are saved, and no [CLS]/[SEP] added here (the packer adds them).
    pad_token, unk_token = SPECIAL_TOKENS["pad_token"], SPECIAL_TOKENS["unk_token"]
    cls_token, sep_token = SPECIAL_TOKENS["cls_token"], SPECIAL_TOKENS["sep_token"]
    mask_token = SPECIAL_TOKENS["mask_token"]
    start_token, end_token = cls_token, sep_token
    config_file, file_assets = "tokenizer.json", [VOCABULARY_FILE]
    add_bos = add_eos = False
    backbone_cls = None  # `AlbertBackbone`, set by models/albert_backbone.py.
    _export_transformers = staticmethod(export_tokenizer)

    def __init__(self, proto=None, sequence_length=None, lowercase=True, **kwargs):
        kwargs.pop("dtype", None)  # Token ids are always int32.
        super().__init__(dtype="int32", **kwargs)
        if sequence_length is not None:
            require_positive_int("sequence_length", sequence_length)
        self.sequence_length = sequence_length
        self.lowercase = require_bool("lowercase", lowercase)
        self._processor = None
        self.proto = None
        if proto is not None:
            self.set_proto(proto)

    # === Vocabulary ===

    def set_proto(self, proto):
        """Load a SentencePiece model from a path or serialized bytes."""
        if isinstance(proto, str | os.PathLike):
            path = os.fspath(proto)
            if os.path.isdir(path):
                raise IsADirectoryError(
                    f"`proto` must be a SentencePiece model file, not a directory: "
                    f"{path!r}. Load a saved tokenizer directory with "
                    "`AlbertTokenizer.from_preset`."
                )
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"SentencePiece model file not found: {path!r} (argument `proto`)."
                )
            with open(path, "rb") as file:
                proto = file.read()
        if not isinstance(proto, bytes | bytearray):
            raise TypeError(
                "`proto` must be a path to a SentencePiece model or its "
                f"serialized bytes. Received: proto of type {type(proto).__name__}"
            )
        processor = sentencepiece.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(bytes(proto))
        except Exception as error:
            raise ValueError(
                f"`proto` is not a valid SentencePiece model ({error})."
            ) from None
        missing = [
            token
            for token in SPECIAL_TOKENS.values()
            if processor.id_to_piece(processor.piece_to_id(token)) != token
        ]
        if missing:
            raise ValueError(
                "The SentencePiece model lacks ALBERT's special tokens "
                f"{missing}; it must contain {list(SPECIAL_TOKENS.values())}."
            )
        self.proto = bytes(proto)
        self._processor = processor
        _EAGER_OPS.pop(self, None)  # Rebuilt for this vocabulary on first use.

    def _require_vocabulary(self):
        if self._processor is None:
            raise ValueError(
                "No SentencePiece model is loaded. Pass `proto=` (a file path or "
                "bytes), or load a saved tokenizer with `load_assets`."
            )
        return self._processor

    def vocabulary_size(self):
        """Number of pieces in the SentencePiece model."""
        return self._require_vocabulary().get_piece_size()

    def get_vocabulary(self):
        """All pieces, in id order."""
        processor = self._require_vocabulary()
        return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]

    def id_to_token(self, token_id):
        """The piece of an id; `ValueError` outside `[0, vocabulary_size())`."""
        size = self.vocabulary_size()
        if not 0 <= int(token_id) < size:
            raise ValueError(
                f"`token_id` must be in [0, {size}). Received: token_id={token_id}"
            )
        return self._processor.id_to_piece(int(token_id))

    def token_to_id(self, token):
        """The id of a piece; `KeyError` for a piece not in the vocabulary."""
        processor = self._require_vocabulary()
        token_id = processor.piece_to_id(token)
        if processor.id_to_piece(token_id) != token:
            raise KeyError(f"Token {token!r} is not in the vocabulary.")
        return token_id

    def _in_text_special_ids(self):
        """`{token text: id}` of the special tokens written in the text."""
        processor = self._require_vocabulary()
        return {
            token: processor.piece_to_id(token) for token in _IN_TEXT_SPECIAL_TOKENS
        }

    def _special_id(self, key):
        return self._require_vocabulary().piece_to_id(SPECIAL_TOKENS[key])

    @property
    def pad_token_id(self):
        return self._special_id("pad_token")

    @property
    def unk_token_id(self):
        return self._special_id("unk_token")

    @property
    def cls_token_id(self):
        return self._special_id("cls_token")

    @property
    def sep_token_id(self):
        return self._special_id("sep_token")

    @property
    def mask_token_id(self):
        return self._special_id("mask_token")

    start_token_id = cls_token_id
    end_token_id = sep_token_id

    @property
    def special_tokens(self):
        """The texts of `special_token_ids`, KerasHub's `special_tokens`."""
        return [self.cls_token, self.sep_token, self.pad_token, self.mask_token]

    @property
    def special_token_ids(self):
        """Ids the masker must never select: padding, [CLS], [SEP], [MASK]."""
        return sorted(
            {
                self.pad_token_id,
                self.cls_token_id,
                self.sep_token_id,
                self.mask_token_id,
            }
        )

    # === Tokenization ===

    def call(self, inputs):
        """Tokenize a string (a vector of ids) or a batch of strings (ragged
        rows; a dense array with `sequence_length`)."""
        ids = self.token_rows(inputs)
        if self.sequence_length is None:
            return ids
        if in_tf_graph(inputs):
            import tensorflow as tf

            shape = [self.sequence_length] if ids.shape.rank == 1 else None
            if shape is not None:
                ids = tf.RaggedTensor.from_tensor(ids[None])
            dense = ids.to_tensor(
                default_value=self.pad_token_id, shape=[None, self.sequence_length]
            )
            return dense[0] if shape is not None else dense
        rows = ids if isinstance(ids, list) else [ids]
        dense = np.full((len(rows), self.sequence_length), self.pad_token_id, "int32")
        for index, row in enumerate(rows):
            kept = row[: self.sequence_length]
            dense[index, : len(kept)] = kept
        return dense if isinstance(ids, list) else dense[0]

    tokenize = call

    def token_rows(self, inputs):
        """Ids without `sequence_length`: a vector per text, rows for a batch.

        Eagerly, the same TensorFlow ops as in `tf.data` run on the texts
        (see `graph_tokenization.py`), and the ids come back as numpy.
        """
        import tensorflow as tf

        self._require_vocabulary()
        if in_tf_graph(inputs):
            return self._tokenize_tf(inputs, self._get_tf_tokenizer())
        texts, is_batch = to_python_strings(inputs)
        if not texts:
            return []
        texts = tf.constant(texts, dtype=tf.string, shape=[len(texts)])
        try:
            ids = self._tokenize_tf(texts, self._eager_sentencepiece())
        except tf.errors.NotFoundError:
            # Setting a seed (`keras.utils.set_random_seed`) clears
            # TensorFlow's eager kernel cache, which frees the op's resource.
            _EAGER_OPS.pop(self, None)
            ids = self._tokenize_tf(texts, self._eager_sentencepiece())
        values = ids.flat_values.numpy().astype("int32")
        rows = np.split(values, ids.row_splits.numpy()[1:-1])
        return rows if is_batch else rows[0]

    def _eager_sentencepiece(self):
        """The SentencePiece op for eager calls, built once per vocabulary."""
        if self not in _EAGER_OPS:
            _EAGER_OPS[self] = self._get_tf_tokenizer()
        return _EAGER_OPS[self]

    def _get_tf_tokenizer(self):
        # A new op resource inside each traced graph: one cached across
        # graphs can be freed with the first dataset that used it, after
        # which later datasets fail with "Resource ... does not exist".
        import tensorflow as tf
        import tensorflow_text as tf_text

        return tf_text.SentencepieceTokenizer(model=self.proto, out_type=tf.int32)

    def _tokenize_tf(self, texts, sentencepiece_op):
        return tokenize_in_graph(
            texts,
            sentencepiece_op,
            self._in_text_special_ids(),
            _IN_TEXT_SPECIAL_PATTERN,
            self.lowercase,
        )

    def detokenize(self, ids):
        """Text of one id sequence, or a list of texts for a batch of them."""
        processor = self._require_vocabulary()
        if in_tf_graph(ids):
            return self._get_tf_tokenizer().detokenize(ids)
        rows, is_batch = to_id_rows(ids, processor.get_piece_size())
        texts = [processor.decode(row) for row in rows]
        return texts if is_batch else texts[0]

    # === Saving ===

    def save_assets(self, dir_path):
        self._require_vocabulary()
        with open(os.path.join(dir_path, VOCABULARY_FILE), "wb") as file:
            file.write(self.proto)

    def load_assets(self, dir_path):
        self.set_proto(os.path.join(dir_path, VOCABULARY_FILE))

    def load_preset_assets(self, preset):
        """Load the vocabulary of `preset`, any handle `from_preset` takes."""
        self.set_proto(preset_vocabulary(preset))

    def get_config(self):
        config = super().get_config()
        # The model travels as an asset (`save_assets`), not inside the config.
        config.update(
            {
                "proto": None,
                "sequence_length": self.sequence_length,
                "lowercase": self.lowercase,
            }
        )
        return config


# Each tokenizer's op for eager calls. It is kept here, not on the tokenizer:
# a TensorFlow op set as a layer attribute becomes a checkpoint dependency,
# which gives the layer new attributes on its first call, so that its `dir()`
# would no longer match the same tokenizer rebuilt from its config.
_EAGER_OPS = weakref.WeakKeyDictionary()
