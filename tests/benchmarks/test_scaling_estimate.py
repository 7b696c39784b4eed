"""benchmarks/scaling_estimate.py's arithmetic, on inputs small enough to
compute by hand, and the parameter count its gradient bytes come from."""

import pytest
from helpers import tool_module

# A 1-layer model small enough to count by hand: h=2, e=1, i=4, vocabulary 10.
HAND_CONFIG = {
    "hidden_dim": 2,
    "embedding_dim": 1,
    "intermediate_dim": 4,
    "vocabulary_size": 10,
    "num_layers": 1,
    "num_inner_repetitions": 1,
}
INTERCONNECT = {
    "devices_per_host": 8,
    "within_host_gb_per_second": 4.0,
    "between_hosts_gb_per_second": 1.0,
}
# 1e12 FLOP/s sustained: a sequence of 1e12 FLOPs takes 1 s.
DEVICE = {"name": "hand", "peak_tflops": 2.0, "mfu": 0.5}
MODEL = {"flops_per_sequence": 1e12, "gradient_bytes": 4e9}
SCHEDULE = {"steps": 86_400, "global_batch": 64, "sequence_length": 4}


@pytest.fixture(scope="module")
def scaling():
    with tool_module("../benchmarks/scaling_estimate") as module:
        yield module


def test_train_flops_per_sequence_by_hand(scaling):
    # Length 4 masks ceil(0.15 x 4) = 1 slot. Forward per token: matmuls
    # 2 x (4h^2 + 2hi + eh) = 2 x 34, attention 4 x L x h = 32, head
    # 1/4 x 2 x (he + ev) = 6; 106 in all. Training: 3 x 106 x 4 tokens.
    assert scaling.mask_selection_length(4) == 1
    # Rounded up, as `albert-mlm pretrain` does: ceil(19.2), not 19.
    assert scaling.mask_selection_length(128) == 20
    assert scaling.train_flops_per_sequence(HAND_CONFIG, 4) == 3 * 106 * 4


def test_ring_all_reduce_uses_the_link_of_the_ring(scaling):
    bytes_ = 8e9
    assert scaling.ring_all_reduce_seconds(bytes_, 1, INTERCONNECT) == 0
    # 2 x 3/4 x 8 GB over 4 GB/s within one host.
    assert scaling.ring_all_reduce_seconds(bytes_, 4, INTERCONNECT) == pytest.approx(3)
    # A full host of 8 still rings over NVLink: 2 x 7/8 x 8 GB over 4 GB/s.
    assert scaling.ring_all_reduce_seconds(bytes_, 8, INTERCONNECT) == pytest.approx(
        3.5
    )
    # 2 x 15/16 x 8 GB over 1 GB/s once the ring spans two hosts.
    assert scaling.ring_all_reduce_seconds(bytes_, 16, INTERCONNECT) == pytest.approx(
        15
    )


def test_schedule_row_overlapped_and_serial(scaling):
    row = scaling.schedule_row(16, MODEL, DEVICE, INTERCONNECT, SCHEDULE)
    # 64 / 16 = 4 sequences of 1 s each; 2 x 15/16 x 4 GB over 1 GB/s = 7.5 s.
    assert row["per_device_batch"] == 4
    assert row["compute_seconds"] == pytest.approx(4)
    assert row["all_reduce_seconds"] == pytest.approx(7.5)
    assert row["step_seconds"]["overlapped"] == pytest.approx(7.5)
    assert row["step_seconds"]["serial"] == pytest.approx(11.5)
    # 86,400 steps of 1 s are a day.
    assert row["days"]["overlapped"] == pytest.approx(7.5)
    assert row["days"]["serial"] == pytest.approx(11.5)
    assert row["break_even_per_device_batch"] == pytest.approx(7.5)


def test_communication_crossover_by_hand(scaling):
    # Compute 64 / N s; all-reduce 8 (N - 1) / N s across hosts (N > 8),
    # at most 2 (N - 1) / N s within one. 8 (N - 1) > 64 first at N = 10.
    crossover = scaling.communication_crossover(MODEL, DEVICE, INTERCONNECT, SCHEDULE)
    assert crossover == {"devices": 10, "per_device_batch": 6.4}
    tiny_gradients = {**MODEL, "gradient_bytes": 1.0}
    assert (
        scaling.communication_crossover(tiny_gradients, DEVICE, INTERCONNECT, SCHEDULE)
        is None
    )


def test_albert_base_trainable_parameters(scaling):
    # The backbone (architectures.py's docstring) plus the masked-LM head
    # (768 x 128 dense and its bias, a 128-wide layer norm, a 30000 output
    # bias; the output matrix is the tied embedding) and the sentence-order
    # head (768 x 2 and its bias).
    heads = (768 * 128 + 128) + 2 * 128 + 30000 + (768 * 2 + 2)
    config = scaling.base_configs()["albert_base"]
    assert scaling.trainable_parameters(config) == 11_683_584 + heads
