"""`AlbertMaskedLM.summary()` adds up (`layers/masked_lm_head.py`): the head
ties its projection to the backbone's token embedding without owning it, so
its parameter count leaves the embedding out and the rows of `summary()`
sum to the model's total."""

import re

import numpy as np
from helpers import TINY_BACKBONE

from albert_mlm import AlbertBackbone, AlbertMaskedLM


def _head_parameters(vocabulary_size, embedding_dim, hidden_dim):
    dense = hidden_dim * embedding_dim + embedding_dim
    layer_norm = 2 * embedding_dim
    return dense + layer_norm + vocabulary_size  # + the output bias


def test_head_counts_exclude_the_tied_embedding(masked_lm):
    head = masked_lm.masked_lm_head
    embedding = masked_lm.backbone.token_embedding.embeddings
    assert head.count_params() == _head_parameters(
        TINY_BACKBONE["vocabulary_size"],
        TINY_BACKBONE["embedding_dim"],
        TINY_BACKBONE["hidden_dim"],
    )
    assert all(weight.path != embedding.path for weight in head.weights)
    assert all(weight is not embedding for weight in head.weights)
    assert masked_lm.count_params() == (
        masked_lm.backbone.count_params() + head.count_params()
    )
    # The model holds the embedding once.
    paths = [weight.path for weight in masked_lm.weights]
    assert len(paths) == len(set(paths))
    assert sum(int(np.prod(w.shape)) for w in masked_lm.weights) == (
        masked_lm.count_params()
    )


def test_head_still_uses_the_embedding(masked_lm):
    # Tied, not copied: the head's logits follow a change of the embedding.
    inputs = {
        "token_ids": np.array([[2, 10, 4, 3]], "int32"),
        "segment_ids": np.zeros((1, 4), "int32"),
        "padding_mask": np.ones((1, 4), "int32"),
        "mask_positions": np.array([[2]], "int32"),
    }
    before = np.asarray(masked_lm.predict_on_batch(inputs))
    embedding = masked_lm.backbone.token_embedding.embeddings
    values = np.asarray(embedding.numpy())
    values[7] *= 3.0
    embedding.assign(values)
    after = np.asarray(masked_lm.predict_on_batch(inputs))
    assert np.abs(after - before)[..., 7].max() > 1e-4


def _summary_rows(model):
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    text = "\n".join(lines)
    rows = [int(n.replace(",", "")) for n in re.findall(r"│\s+([\d,]+)\s+│", text)]
    total = re.search(r"Total params: ([\d,]+)", text)
    return rows, int(total.group(1).replace(",", ""))


def test_summary_rows_add_up_to_the_total():
    backbone = AlbertBackbone(**TINY_BACKBONE)
    masked_lm = AlbertMaskedLM(backbone)
    rows, total = _summary_rows(masked_lm)
    assert total == masked_lm.count_params()
    assert rows, "no parameter column found in the summary"
    assert sum(rows) == total
