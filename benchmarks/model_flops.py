"""The model's FLOPs per token, and the fraction of the ceiling they reach.

One count of useful work for every implementation: the masked-LM head counts
at the masked positions only, so work on other positions earns nothing.
"""

from matmul_ceiling import compute_dtype


def flops_per_token(config, args):
    """Forward and training FLOPs per input token (training = 3 x forward)."""
    forward = forward_flops_per_token(
        config, args.sequence_length, args.mask_selection_length
    )
    return {"forward": forward, "train": 3 * forward}


def forward_flops_per_token(config, sequence_length, mask_selection_length):
    """Forward FLOPs per input token of the masked-LM model (useful work only).

    2 x the matmul parameters each token meets (fused query/key/value 3h^2,
    attention output h^2 and feed-forward 2hi in every block call, plus the
    embedding projection eh), attention scores and mixing (4 * L * h per block
    call), and the head (h x e dense, e x vocabulary projection) at the masked
    positions only.
    """
    h, e = config["hidden_dim"], config["embedding_dim"]
    i, v = config["intermediate_dim"], config["vocabulary_size"]
    block_calls = config["num_layers"] * config["num_inner_repetitions"]
    matmul_params = block_calls * (4 * h * h + 2 * h * i) + e * h
    attention = block_calls * 4 * sequence_length * h
    head = mask_selection_length / sequence_length * 2 * (h * e + e * v)
    return 2 * matmul_params + attention + head


def add_fractions_of_ceiling(results, ceiling, flops, args):
    """GFLOP/s reached and the fraction of the matmul ceiling, per implementation."""
    peak = ceiling.get("gflops", {}).get(compute_dtype(args.precision))
    for result in results.values():
        if result["status"] != "ok":
            continue
        for key, flops_per_token in (
            ("train_tokens", flops["train"]),
            ("predict_tokens", flops["forward"]),
        ):
            achieved = result[key]["per_second"] * flops_per_token / 1e9
            result[key]["gflops"] = achieved
            result[key]["fraction_of_ceiling"] = achieved / peak if peak else None
