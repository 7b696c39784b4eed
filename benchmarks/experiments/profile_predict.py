"""Where one `predict_on_batch` of the base model spends its time (torch backend).

    KERAS_BACKEND=torch python benchmarks/experiments/profile_predict.py \\
        --precision float32

Prints `torch.profiler`'s table of the ops with the most self CPU time for
one batch of 8 x 128 tokens with 19 masked positions, after warm-up.
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", default="mixed_bfloat16")
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    if os.environ.get("KERAS_BACKEND") != "torch":
        parser.error("run with KERAS_BACKEND=torch")
    from torch.profiler import ProfilerActivity, profile

    from albert_mlm import ARCHITECTURES, AlbertBackbone, AlbertMaskedLM

    backbone = AlbertBackbone(
        **ARCHITECTURES["albert_base_en_uncased"], dtype=args.precision
    )
    masked_lm = AlbertMaskedLM(backbone, preprocessor=None)
    rng = np.random.default_rng(0)
    batch_size, length, masked = 8, 128, 19
    candidates = np.arange(1, length - 1)
    positions = np.sort(
        [rng.choice(candidates, masked, replace=False) for _ in range(batch_size)]
    )
    inputs = {
        "token_ids": rng.integers(5, 30000, (batch_size, length)).astype("int32"),
        "segment_ids": np.zeros((batch_size, length), "int32"),
        "padding_mask": np.ones((batch_size, length), "int32"),
        "mask_positions": positions.astype("int32"),
    }
    for _ in range(3):
        masked_lm.predict_on_batch(inputs)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        masked_lm.predict_on_batch(inputs)
    table = profiler.key_averages().table(
        sort_by="self_cpu_time_total", row_limit=args.rows
    )
    print(table)


if __name__ == "__main__":
    main()
