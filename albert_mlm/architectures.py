"""The published ALBERT architectures, in one table.

These are the `AlbertBackbone` arguments of the four English uncased models
released with the ALBERT paper (v2 checkpoints), as KerasHub publishes them.
Building any of them needs no download:

>>> from albert_mlm import AlbertBackbone
>>> AlbertBackbone(**ARCHITECTURES["albert_base_en_uncased"]).count_params()
11683584
"""

_SHARED = {
    "vocabulary_size": 30000,
    "embedding_dim": 128,
    "num_groups": 1,
    "num_inner_repetitions": 1,
    "dropout": 0.0,
    "max_sequence_length": 512,
    "num_segments": 2,
}

ARCHITECTURES = {
    "albert_base_en_uncased": {
        **_SHARED,
        "num_layers": 12,
        "num_heads": 12,
        "hidden_dim": 768,
        "intermediate_dim": 3072,
    },
    "albert_large_en_uncased": {
        **_SHARED,
        "num_layers": 24,
        "num_heads": 16,
        "hidden_dim": 1024,
        "intermediate_dim": 4096,
    },
    "albert_extra_large_en_uncased": {
        **_SHARED,
        "num_layers": 24,
        "num_heads": 16,
        "hidden_dim": 2048,
        "intermediate_dim": 8192,
    },
    "albert_extra_extra_large_en_uncased": {
        **_SHARED,
        "num_layers": 12,
        "num_heads": 64,
        "hidden_dim": 4096,
        "intermediate_dim": 16384,
    },
}

# `albert-mlm pretrain --architecture NAME`: the published sizes, and a tiny one
# that trains on a laptop CPU (the shipped `albert_tiny_en_uncased`). The
# vocabulary size always comes from the tokenizer.
PRETRAINING_ARCHITECTURES = {
    "tiny": {
        **_SHARED,
        "num_layers": 4,
        "num_heads": 4,
        "hidden_dim": 256,
        "intermediate_dim": 1024,
        "max_sequence_length": 128,
    },
    "base": ARCHITECTURES["albert_base_en_uncased"],
    "large": ARCHITECTURES["albert_large_en_uncased"],
    "extra_large": ARCHITECTURES["albert_extra_large_en_uncased"],
    "extra_extra_large": ARCHITECTURES["albert_extra_extra_large_en_uncased"],
}
