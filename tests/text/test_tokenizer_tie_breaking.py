"""One text, one sequence of ids (`text/albert_tokenizer.py`,
`text/graph_tokenization.py`): on texts where SentencePiece has equally
likely segmentations ("lll", "...", "--"), `AlbertTokenizer` gives the same
ids eagerly and inside `tf.data`, and they are the ids KerasHub's tokenizer gives."""

import random

import sentencepiece
import tensorflow as tf
import tensorflow_text
from helpers import VOCABULARY_PATH

# Letters and punctuation whose repetitions the test vocabulary can cut in
# several equally likely ways ("l", "ll", "▁l"; ".", ".."; "-").
ALPHABET = "llll..--!?,e "


def _tie_prone_texts(count=1500, seed=0):
    rng = random.Random(seed)
    texts = set()
    while len(texts) < count:
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 14)))
        text = " ".join(text.split())  # Already normalised: no runs of spaces.
        if text:
            texts.add(text)
    return sorted(texts) + ["lll", "...", "--", "llll lll", "l..l--l"]


TEXTS = _tie_prone_texts()


def _sentencepiece_ids(texts):
    processor = sentencepiece.SentencePieceProcessor(model_file=str(VOCABULARY_PATH))
    return processor.encode(texts)


def _in_tf_data(tokenizer, texts):
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(64).map(tokenizer)
    return [row for batch in dataset for row in batch.to_list()]


def test_the_sample_holds_real_ties():
    # The two SentencePiece implementations decide some of these otherwise,
    # so the texts do have equally likely segmentations.
    tf_text = tensorflow_text.SentencepieceTokenizer(model=VOCABULARY_PATH.read_bytes())
    tf_text_rows = tf_text.tokenize(TEXTS).to_list()
    reference = _sentencepiece_ids(TEXTS)
    assert any(a != b for a, b in zip(tf_text_rows, reference))


def test_eager_and_tf_data_agree_on_ties(tokenizer):
    eager = [row.tolist() for row in tokenizer(TEXTS)]
    in_graph = _in_tf_data(tokenizer, TEXTS)
    mismatched = [t for t, a, b in zip(TEXTS, in_graph, eager) if a != b]
    assert not mismatched, f"tf.data differs from eager on {mismatched[:5]}"
    # One text at a time, too.
    single = ["lll", "...", "--", "ll.ll", "l l l", "...-..."]
    dataset = tf.data.Dataset.from_tensor_slices(single).map(tokenizer)
    assert [ids.numpy().tolist() for ids in dataset] == [
        tokenizer(text).tolist() for text in single
    ]


def test_ids_on_ties_are_keras_hub_s(tokenizer):
    # KerasHub's AlbertTokenizer runs tensorflow-text's SentencePiece op (the
    # `sentencepiece` package and Hugging Face's tokenizers break these ties
    # the other way: "lll" -> "l ll" instead of "ll l").
    reference = tensorflow_text.SentencepieceTokenizer(
        model=VOCABULARY_PATH.read_bytes()
    ).tokenize(TEXTS)
    eager = [row.tolist() for row in tokenizer(TEXTS)]
    mismatched = [t for t, a, b in zip(TEXTS, eager, reference.to_list()) if a != b]
    assert not mismatched, f"differs from KerasHub's tokenization on {mismatched[:5]}"
