"""How much a fusing compiler could give the base encoder in bfloat16 (PyTorch).

    python benchmarks/compiled_encoder_bound.py

Runs the 12 calls of albert_base's shared encoder block (hidden 768, 12
heads, intermediate 3072; no embeddings, no head) written directly in PyTorch
with bfloat16 weights, on one batch of 8 x 128 tokens, three ways: eager,
`torch.compile`, and `torch.compile` with inductor's weight freezing (which
prepacks the weights for oneDNN and fuses bias and GELU into the products).
Prints forward tokens/s for each: an estimate of what compiling the
element-wise work away would give a predict step.
"""

import argparse
import time

HIDDEN, HEADS, INTERMEDIATE, LAYER_CALLS = 768, 12, 3072, 12


def encoder(weights):
    import torch.nn.functional as F

    def block(x):
        batch, length, _ = x.shape
        qkv = F.linear(x, weights["qkv"], weights["qkv_bias"])
        qkv = qkv.view(batch, length, 3, HEADS, HIDDEN // HEADS).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        attended = attended.transpose(1, 2).reshape(batch, length, HIDDEN)
        x = x + F.linear(attended, weights["output"], weights["output_bias"])
        x = F.layer_norm(x, (HIDDEN,), weights["norm1"], weights["norm1_bias"])
        inner = F.gelu(
            F.linear(x, weights["inner"], weights["inner_bias"]), approximate="tanh"
        )
        x = x + F.linear(inner, weights["outer"], weights["outer_bias"])
        return F.layer_norm(x, (HIDDEN,), weights["norm2"], weights["norm2_bias"])

    def forward(x):
        for _ in range(LAYER_CALLS):
            x = block(x)
        return x

    return forward


def random_weights(dtype):
    import torch

    shapes = {
        "qkv": (3 * HIDDEN, HIDDEN),
        "output": (HIDDEN, HIDDEN),
        "inner": (INTERMEDIATE, HIDDEN),
        "outer": (HIDDEN, INTERMEDIATE),
    }
    weights = {}
    for name, shape in shapes.items():
        weights[name] = (torch.randn(*shape) * 0.02).to(dtype)
        weights[name + "_bias"] = torch.zeros(shape[0], dtype=dtype)
    for name in ("norm1", "norm2"):
        weights[name] = torch.ones(HIDDEN, dtype=dtype)
        weights[name + "_bias"] = torch.zeros(HIDDEN, dtype=dtype)
    return weights


def tokens_per_second(function, x, warmup, steps):
    import torch

    with torch.no_grad():
        for _ in range(warmup):
            function(x)
        seconds = []
        for _ in range(steps):
            start = time.perf_counter()
            function(x)
            seconds.append(time.perf_counter() - start)
    return x.shape[0] * x.shape[1] / sorted(seconds)[len(seconds) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=7)
    args = parser.parse_args()
    import torch
    import torch._inductor.config as inductor_config

    torch.manual_seed(0)
    dtype = torch.bfloat16
    forward = encoder(random_weights(dtype))
    x = torch.randn(args.batch_size, args.sequence_length, HIDDEN).to(dtype)
    rates = {"eager": tokens_per_second(forward, x, 3, args.steps)}
    rates["torch.compile"] = tokens_per_second(torch.compile(forward), x, 3, args.steps)
    torch._dynamo.reset()
    inductor_config.freezing = True
    rates["torch.compile, freezing"] = tokens_per_second(
        torch.compile(forward), x, 3, args.steps
    )
    for name, rate in rates.items():
        print(f"{name:24s} {rate:8.0f} tok/s  ({rate / rates['eager']:.2f}x eager)")


if __name__ == "__main__":
    main()
