"""`fill_mask(masked_lm, texts, ...)`, kept here for existing imports; it
lives in `albert_mlm.inference.fill_mask` (and `AlbertMaskedLM.fill_mask`).

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> best = fill_mask(masked_lm, ["a young [MASK] that barks."], top_k=3)[0][0][0]
>>> sorted(best)
['id', 'piece', 'probability', 'token']
"""

from albert_mlm.inference.fill_mask import fill_mask

__all__ = ["fill_mask"]
