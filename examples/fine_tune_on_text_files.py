"""Continue masked-LM training of a preset on your own text files.

Streams the files line by line (never all in memory), masks them afresh every
epoch, and saves the result as a preset that KerasHub can load too.

Run: python examples/fine_tune_on_text_files.py my_texts/*.txt --out my_albert
"""

import argparse

import keras
import tensorflow as tf

from albert_mlm import AlbertMaskedLM

parser = argparse.ArgumentParser()
parser.add_argument("files", nargs="+")
parser.add_argument("--preset", default="albert_tiny_en_uncased")
parser.add_argument("--out", required=True)
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()

masked_lm = AlbertMaskedLM.from_preset(args.preset)
lines = (
    tf.data.TextLineDataset(args.files)
    .filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
    .shuffle(10_000)
    .batch(32)
)
masked_lm.compile(optimizer=keras.optimizers.Adam(1e-4))
masked_lm.fit(lines, epochs=args.epochs)
masked_lm.save_to_preset(args.out)
print(f"Saved {args.out}")
