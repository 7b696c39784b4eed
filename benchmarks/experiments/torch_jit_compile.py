"""Training time on torch with Keras' `jit_compile=True` against eager.

Keras compiles its torch train step with `torch.compile`. This script builds
the API page's small example (the shipped vocabulary, a 4-layer model), then
trains the same epochs twice in fresh processes: once compiled through
`keras.Model.compile(jit_compile=True)` directly (bypassing `AlbertMaskedLM`'s
fallback to eager) and once eagerly, and prints each epoch's seconds. The
first epoch includes tracing and compiling.

    KERAS_BACKEND=torch python benchmarks/experiments/torch_jit_compile.py --epochs 3
"""

import argparse
import json
import os
import subprocess
import sys

WORKER = """
import json, sys, time, warnings
import keras
from albert_mlm import (AlbertBackbone, AlbertMaskedLM, AlbertMaskedLMPreprocessor,
    AlbertTokenizer)
jit, epochs = sys.argv[1] == "compiled", int(sys.argv[2])
tokenizer = AlbertTokenizer.from_preset("albert_tiny_en_uncased")
backbone = AlbertBackbone(vocabulary_size=tokenizer.vocabulary_size(), num_layers=4,
    num_heads=2, embedding_dim=16, hidden_dim=32, intermediate_dim=64, num_groups=2)
masked_lm = AlbertMaskedLM(backbone, AlbertMaskedLMPreprocessor(tokenizer,
    sequence_length=32))
keras.Model.compile(masked_lm, optimizer=keras.optimizers.Adam(5e-5),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True,
        reduction="mean_with_sample_weight"), jit_compile=jit)
texts = ["The quick brown fox jumped.", "I forgot my homework."] * 16
seconds = []
warnings.simplefilter("ignore")
for _ in range(epochs):
    start = time.perf_counter()
    masked_lm.fit(texts, batch_size=2, verbose=0)
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds))
"""


def run(mode, epochs):
    environment = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, mode, str(epochs)],
        capture_output=True,
        text=True,
        env=environment,
    )
    if result.returncode:
        raise RuntimeError(result.stderr[-1000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of 16 steps")
    args = parser.parse_args()
    for mode in ("compiled", "eager"):
        seconds = run(mode, args.epochs)
        shown = ", ".join(f"{value:.1f}" for value in seconds)
        print(f"{mode:9s} epoch seconds: {shown}")


if __name__ == "__main__":
    main()
