"""Reading text with a trained masked LM: fill `[MASK]`s, score sentences.

`AlbertMaskedLM.fill_mask` and `AlbertMaskedLM.score` call these modules:

- `text_batch`: texts (or sentence pairs) checked, tokenized and packed,
  never truncated;
- `masked_queries`: many small "logits here, please" questions batched in
  few compiled shapes;
- `candidates`: the candidate dicts, and which ids are never proposed;
- `fill_mask`: top-k candidates per `[MASK]`, independently;
- `target_scoring`: given words (one piece or several) scored in a mask's
  place;
- `joint_decoding`: several masks filled left to right, a beam of fillings;
- `pseudo_log_likelihood`: PLL and pseudo-perplexity of whole texts.
"""
