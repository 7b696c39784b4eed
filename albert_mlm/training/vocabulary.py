r"""Train a SentencePiece vocabulary with ALBERT's special tokens.

Lines are streamed to the trainer through the uncased normalisation, so the
vocabulary sees text as `AlbertTokenizer` will give it: `<pad>`=0, `<unk>`=1,
`[CLS]`=2, `[SEP]`=3, `[MASK]`=4, as in the published ALBERT vocabulary.

>>> import pathlib, tempfile
>>> corpus = pathlib.Path(tempfile.mkdtemp()) / "corpus.txt"
>>> _ = corpus.write_text("the cat sat on the mat.\nthe dog sat on a log.\n" * 50)
>>> proto = train_vocabulary([str(corpus)], vocabulary_size=20)
>>> from albert_mlm import AlbertTokenizer
>>> AlbertTokenizer(proto).id_to_token(4)
'[MASK]'
"""

import io
import re

import sentencepiece

from albert_mlm.datasets.corpus import CorpusError, iterate_lines
from albert_mlm.text.normalization import normalize_text

# SentencePiece's `max_sentence_length` default: longer lines are skipped.
_MAX_SENTENCE_BYTES = 4192


def train_vocabulary(files, vocabulary_size, lowercase=True, max_sentences=1_000_000):
    """Serialized SentencePiece model (bytes) trained on `files`."""
    model = io.BytesIO()
    sentences = (
        piece
        for line in iterate_lines(files)
        for piece in _trainer_sized(normalize_text(line) if lowercase else line)
    )
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=sentences,
            model_writer=model,
            vocab_size=vocabulary_size,
            model_type="unigram",
            character_coverage=0.9995,
            input_sentence_size=max_sentences,
            shuffle_input_sentence=True,
            pad_id=0,
            unk_id=1,
            bos_id=-1,
            eos_id=-1,
            control_symbols=["[CLS]", "[SEP]"],
            user_defined_symbols=["[MASK]"],
            minloglevel=2,
            num_threads=2,
        )
    except RuntimeError as error:
        limit = re.search(r"<= (\d+)", str(error))
        if "Vocabulary size" in str(error) and limit:
            raise CorpusError(
                f"The corpus is too small for --vocab-size {vocabulary_size}: it "
                f"supports at most {limit.group(1)} pieces."
            ) from None
        if "sentences_.empty()" in str(error):
            raise CorpusError(
                "The corpus holds no text to train a vocabulary on."
            ) from None
        raise
    return model.getvalue()


def _trainer_sized(text):
    """`text` cut at spaces into pieces the trainer reads whole: it skips, in
    silence, any sentence over `_MAX_SENTENCE_BYTES`."""
    while len(text.encode("utf-8")) > _MAX_SENTENCE_BYTES:
        cut = text.rfind(" ", 0, _MAX_SENTENCE_BYTES // 4)
        cut = cut if cut > 0 else _MAX_SENTENCE_BYTES // 4
        yield text[:cut]
        text = text[cut:].lstrip()
    if text:
        yield text
