"""The two examples of KerasHub's `AlbertMaskedLM` API page, on a local model.

`albert_base_en_uncased` needs a download; here a small ALBERT is built by
hand around the vocabulary of the shipped `albert_tiny_en_uncased` preset, so
the examples run offline, from any directory. Swap in
`AlbertMaskedLM.from_preset(...)` for real use.

Run: python examples/api_page_examples.py
"""

import keras
import numpy as np

from albert_mlm import (
    AlbertBackbone,
    AlbertMaskedLM,
    AlbertMaskedLMPreprocessor,
    AlbertTokenizer,
)


def small_masked_lm(with_preprocessor=True):
    tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
    backbone = AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=4,
        num_heads=2,
        embedding_dim=16,
        hidden_dim=32,
        intermediate_dim=64,
        num_groups=2,
        num_inner_repetitions=1,
        max_sequence_length=64,
    )
    preprocessor = AlbertMaskedLMPreprocessor(tokenizer, sequence_length=32)
    return AlbertMaskedLM(backbone, preprocessor if with_preprocessor else None)


def raw_string_example():
    features = ["The quick brown fox jumped.", "I forgot my homework."]
    masked_lm = small_masked_lm()
    masked_lm.fit(x=features, batch_size=2)
    # Re-compile (e.g., with a new learning rate).
    masked_lm.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(5e-5),
        jit_compile=True,
    )
    # Access backbone programmatically (e.g., to change `trainable`).
    masked_lm.backbone.trainable = False
    masked_lm.fit(x=features, batch_size=2)


def preprocessed_integer_example():
    # Create preprocessed batch where 0 is the mask token.
    features = {
        "token_ids": np.array([[1, 2, 0, 4, 0, 6, 7, 8]] * 2),
        "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 1]] * 2),
        "mask_positions": np.array([[2, 4]] * 2),
        "segment_ids": np.array([[0, 0, 0, 0, 0, 0, 0, 0]] * 2),
    }
    # Labels are the original masked values.
    labels = [[3, 5]] * 2
    masked_lm = small_masked_lm(with_preprocessor=False)
    masked_lm.fit(x=features, y=labels, batch_size=2)


if __name__ == "__main__":
    raw_string_example()
    preprocessed_integer_example()
    print("Both API page examples ran.")
