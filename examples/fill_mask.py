"""Fill masked words with the shipped English model, from Python.

Run: python examples/fill_mask.py
"""

from albert_mlm import AlbertMaskedLM

masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
texts = ["a young [MASK] that barks.", "the [MASK] of a tree grow from its roots."]
for text, masks in zip(texts, masked_lm.fill_mask(texts, top_k=5)):
    print(text)
    for candidates in masks:
        print(
            "   ", ", ".join(f"{c['token']} {c['probability']:.2f}" for c in candidates)
        )
