"""What the inference tests share: masked LMs from the transformers test
checkpoints, and what the tests compute by hand to check them: packed ids,
log-probabilities from one plain `predict_on_batch`, top-k ids."""

import warnings

import numpy as np
from helpers import copy_transformers_checkpoint

from albert_mlm import AlbertMaskedLM


def load_transformers_masked_lm(tmp_path_factory, case):
    """Our masked LM from a transformers test checkpoint (no pooler: its
    warning is expected and silenced)."""
    directory = copy_transformers_checkpoint(tmp_path_factory.mktemp(case), case)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pooler.*")
        return AlbertMaskedLM.from_preset(str(directory))


def log_probabilities_by_hand(masked_lm, token_ids, segment_ids, positions):
    """Log-probabilities `(positions, vocabulary)` of one unpadded sequence,
    from one plain `predict_on_batch` call."""
    token_ids = np.asarray(token_ids, "int32")[None]
    logits = masked_lm.predict_on_batch(
        {
            "token_ids": token_ids,
            "segment_ids": np.asarray(segment_ids, "int32")[None],
            "padding_mask": np.ones_like(token_ids),
            "mask_positions": np.asarray(positions, "int32")[None],
        }
    )
    logits = np.asarray(logits, "float64")[0]
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def packed_by_hand(tokenizer, *segments):
    """`(token_ids, segment_ids)` of `[CLS] a [SEP] (b [SEP])`, from the
    tokenizer's ids alone."""
    token_ids, segment_ids = [tokenizer.cls_token_id], [0]
    for segment, text in enumerate(segments):
        pieces = [int(i) for i in tokenizer(text)] + [tokenizer.sep_token_id]
        token_ids += pieces
        segment_ids += [segment] * len(pieces)
    return np.array(token_ids, "int32"), np.array(segment_ids, "int32")


def never_proposed(tokenizer):
    """The ids `fill_mask` never proposes: special tokens and `<unk>`."""
    return sorted({*tokenizer.special_token_ids, tokenizer.unk_token_id})


def top_ids_by_hand(log_probabilities, top_k, never):
    """The `top_k` likeliest ids outside `never`, most likely first."""
    ranked = np.array(log_probabilities, "float64")
    ranked[never] = -np.inf
    return [int(i) for i in np.argsort(-ranked, kind="stable")[:top_k]]
