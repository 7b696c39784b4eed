"""Pretrain a small ALBERT from scratch with the library's pipeline.

The same as `albert-mlm pretrain ...`: trains a SentencePiece vocabulary with
ALBERT's special tokens, streams the corpus through dynamic masking, holds out
every 20th line, checkpoints, and saves a preset whose metadata holds the
held-out accuracy next to a unigram baseline.

Run: python examples/pretrain_from_scratch.py corpus.txt --out my_tiny_albert
"""

import argparse

from albert_mlm.training.pretrain import pretrain
from albert_mlm.training.pretrain_options import PretrainOptions

parser = argparse.ArgumentParser()
parser.add_argument("corpus", nargs="+")
parser.add_argument("--out", required=True)
parser.add_argument("--steps", type=int, default=500)
args = parser.parse_args()

results = pretrain(
    PretrainOptions(
        corpus=args.corpus,
        out=args.out,
        vocab_size=4000,
        architecture="tiny",
        sequence_length=32,
        batch_size=64,
        steps=args.steps,
        learning_rate=1e-3,
    )
)
print(f"held-out top-1 {results['top1']:.3f} vs unigram {results['unigram_top1']:.3f}")
