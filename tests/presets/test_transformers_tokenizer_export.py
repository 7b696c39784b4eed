"""A tokenizer exported to transformers
(`albert_mlm.presets.transformers_tokenizer_export`) tokenizes 2,000
generated strings as ours does, cased and uncased, except where two
segmentations have the same score and Hugging Face's `tokenizers` picks the
other one (checked to be such ties, and counted)."""

import random

import keras
import pytest
import sentencepiece
from helpers import VOCABULARY_PATH

from albert_mlm import AlbertTokenizer

transformers = pytest.importorskip("transformers")

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="Tokenization runs in TensorFlow on every backend.",
)

ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " .,;:!?'\"`-()[]{}éÉàçñüÖßøæ€£¥—–…“”‘’\t\n\u3000中文日本語한국어αβγ🙂ﬁ"
)


def _generated_texts(count=2000, seed=0):
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = [
            "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8)))
            for _ in range(rng.randint(1, 8))
        ]
        texts.append(" ".join(words))
    return texts + ["``quoted'' text", "a [MASK] b", "Crème Brûlée"]


@pytest.mark.parametrize("lowercase", [True, False])
def test_exported_tokenizer_gives_our_ids(tmp_path, lowercase):
    ours = AlbertTokenizer(str(VOCABULARY_PATH), lowercase=lowercase)
    ours.export_to_transformers(str(tmp_path / "export"))
    theirs = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "export"))

    texts = _generated_texts()
    our_ids = [row.tolist() for row in ours(texts)]
    their_ids = theirs(texts, add_special_tokens=False)["input_ids"]
    processor = sentencepiece.SentencePieceProcessor(model_file=str(VOCABULARY_PATH))

    def pieces(ids):
        return "".join(processor.id_to_piece(i) for i in ids)

    def score(ids):
        return sum(processor.get_score(i) for i in ids)

    differing = [(a, b) for a, b in zip(our_ids, their_ids) if a != b]
    for a, b in differing:  # Equally likely cuts of the same text only.
        assert pieces(a) == pieces(b) and score(a) == pytest.approx(score(b)), (a, b)
    assert len(differing) <= 0.06 * len(texts), len(differing)

    vocabulary = list(range(ours.vocabulary_size()))
    assert theirs.convert_ids_to_tokens(vocabulary) == ours.get_vocabulary()
    for name in ("pad", "unk", "cls", "sep", "mask"):
        assert getattr(theirs, f"{name}_token_id") == getattr(ours, f"{name}_token_id")
    pair = theirs("a b", "c", return_token_type_ids=True)
    assert pair["input_ids"][0] == ours.cls_token_id
    first, second = len(ours("a b")), len(ours("c"))
    assert pair["token_type_ids"] == [0] * (first + 2) + [1] * (second + 1)
