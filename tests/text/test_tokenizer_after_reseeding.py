"""Eager tokenization keeps working after the random seed is set
(`text/albert_tokenizer.py`): `keras.utils.set_random_seed` (and
`tf.random.set_seed`) clear TensorFlow's eager kernel cache, which must not
leave an `AlbertTokenizer` that has already run unable to run again."""

import keras
import pytest
import tensorflow as tf

from albert_mlm import AlbertMaskedLM


@pytest.mark.parametrize(
    "reseed", [keras.utils.set_random_seed, tf.random.set_seed], ids=["keras", "tf"]
)
def test_tokenizer_runs_after_the_seed_is_set(tokenizer, reseed):
    before = tokenizer(["a dog.", "the [MASK] sat."])
    reseed(0)
    after = tokenizer(["a dog.", "the [MASK] sat."])
    assert [row.tolist() for row in after] == [row.tolist() for row in before]


def test_fill_mask_runs_after_the_seed_is_set():
    masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
    first = masked_lm.fill_mask(["the [MASK] of the united states."], top_k=3)
    keras.utils.set_random_seed(0)
    second = masked_lm.fill_mask(["the [MASK] of the united states."], top_k=3)
    assert [c["id"] for c in second[0][0]] == [c["id"] for c in first[0][0]]
