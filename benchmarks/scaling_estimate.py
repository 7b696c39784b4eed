"""Days to ALBERT-base's published schedule on 8, 64 and 512 devices, on paper.

The schedule is the paper's: 125,000 steps of 4,096 sequences of 512 tokens,
data parallel (each device computes `4,096 / N` sequences, then the gradients
are all-reduced). Per step:

- **Compute.** Training FLOPs of the base architecture (vocabulary 30000),
  counted as `model_flops.py` counts them (3 x forward; the masked-LM head at
  `ceil(0.15 x 512) = 77` positions, as `albert-mlm pretrain` masks; the
  sentence-order head, 2 x 768 x 2 FLOPs a sequence, is left out), divided by
  the assumed device rate: peak dense bfloat16 FLOP/s x model-FLOPs
  utilisation (MFU).
- **Communication.** The trainable parameters of `AlbertPreTrainer`
  (backbone, masked-LM and sentence-order heads), counted on the built
  model, x 4 bytes (float32 gradients), all-reduced by a ring in
  `2 (N - 1) / N x bytes / bandwidth` seconds. The bandwidth is NVLink's
  within one host, and the network's per device once the ring spans hosts (a
  ring runs at its slowest link). Per-message latency is left out.
- **A step** lasts `max(compute, all-reduce)` when communication overlaps
  compute and `compute + all-reduce` when it does not.

Communication dominates once the all-reduce outlasts the compute: the table
gives the smallest device count where it does at the global batch of 4,096,
and, per device count, the per-device batch below which it would. ALBERT
shares one block across its 12 layers, so its gradients are small; the same
shapes with 12 unshared blocks (BERT-base-like, `num_groups=12`) are
estimated beside it.

    python benchmarks/scaling_estimate.py \\
        --json benchmarks/results/scaling_estimate.json
"""

import argparse
import math
import sys
from pathlib import Path
from types import SimpleNamespace

from model_configuration import PUBLISHED_VOCABULARY_SIZE, model_config
from model_flops import forward_flops_per_token
from run_records import write_report
from shared_inputs import MASK_SELECTION_RATE

# ALBERT-base's pretraining (Lan et al., 2019): steps, global batch, length.
PUBLISHED_SCHEDULE = {"steps": 125_000, "global_batch": 4096, "sequence_length": 512}
DEVICE_COUNTS = (8, 64, 512)
# NVIDIA's H100 SXM datasheet: 989 TFLOP/s dense bfloat16.
ASSUMED_DEVICE = {"name": "NVIDIA H100 SXM", "peak_tflops": 989.0, "mfu": 0.40}
# A DGX H100-like host: 8 devices on NVLink (about 400 GB/s of all-reduce bus
# bandwidth), one 400 Gb/s network port (50 GB/s) per device between hosts.
ASSUMED_INTERCONNECT = {
    "devices_per_host": 8,
    "within_host_gb_per_second": 400.0,
    "between_hosts_gb_per_second": 50.0,
}
GRADIENT_BYTES_PER_PARAMETER = 4  # float32
SECONDS_PER_DAY = 86_400


def mask_selection_length(sequence_length):
    """Prediction slots per sequence, as `albert-mlm pretrain` sets them."""
    return max(1, math.ceil(MASK_SELECTION_RATE * sequence_length))


def train_flops_per_sequence(config, sequence_length):
    """Training FLOPs (3 x forward) of one sequence of `sequence_length`."""
    forward = forward_flops_per_token(
        config, sequence_length, mask_selection_length(sequence_length)
    )
    return 3 * forward * sequence_length


def ring_all_reduce_seconds(gradient_bytes, devices, interconnect):
    """Seconds a ring all-reduce of `gradient_bytes` over `devices` takes:
    `2 (N - 1) / N x bytes / bandwidth`, NVLink's bandwidth within one host,
    the network's once the ring spans hosts."""
    if devices == 1:
        return 0.0
    within_host = devices <= interconnect["devices_per_host"]
    key = "within_host" if within_host else "between_hosts"
    bandwidth = interconnect[f"{key}_gb_per_second"] * 1e9
    return 2 * (devices - 1) / devices * gradient_bytes / bandwidth


def device_flops_per_second(device):
    """The rate a device sustains on the model: peak x MFU."""
    return device["peak_tflops"] * 1e12 * device["mfu"]


def schedule_row(devices, model, device, interconnect, schedule):
    """Time per step and days to the schedule on `devices` devices.

    `model` holds `flops_per_sequence` and `gradient_bytes`.
    """
    per_device_batch = schedule["global_batch"] / devices
    seconds_per_sequence = model["flops_per_sequence"] / device_flops_per_second(device)
    compute = per_device_batch * seconds_per_sequence
    all_reduce = ring_all_reduce_seconds(model["gradient_bytes"], devices, interconnect)
    step = {"overlapped": max(compute, all_reduce), "serial": compute + all_reduce}
    return {
        "devices": devices,
        "per_device_batch": per_device_batch,
        "compute_seconds": compute,
        "all_reduce_seconds": all_reduce,
        "step_seconds": step,
        "days": {
            how: schedule["steps"] * seconds / SECONDS_PER_DAY
            for how, seconds in step.items()
        },
        # Below this many sequences per device the all-reduce outlasts compute.
        "break_even_per_device_batch": all_reduce / seconds_per_sequence,
    }


def communication_crossover(model, device, interconnect, schedule):
    """The smallest device count (at most one sequence per device) whose
    all-reduce outlasts its compute at the schedule's global batch, with its
    per-device batch; None where no count does."""
    for devices in range(2, schedule["global_batch"] + 1):
        row = schedule_row(devices, model, device, interconnect, schedule)
        if row["all_reduce_seconds"] > row["compute_seconds"]:
            return {"devices": devices, "per_device_batch": row["per_device_batch"]}
    return None


def trainable_parameters(config):
    """Trainable parameters of an `AlbertPreTrainer` on a backbone of `config`."""
    import numpy as np

    from albert_mlm import AlbertBackbone
    from albert_mlm.models.albert_pretrainer import AlbertPreTrainer

    pretrainer = AlbertPreTrainer(AlbertBackbone(**config))
    return sum(int(np.prod(weight.shape)) for weight in pretrainer.trainable_weights)


def base_configs():
    """ALBERT-base's backbone arguments, and the same with unshared blocks."""
    base = model_config(
        SimpleNamespace(architecture="base", vocabulary_size=PUBLISHED_VOCABULARY_SIZE)
    )
    return {
        "albert_base": base,
        "albert_base_unshared": {**base, "num_groups": base["num_layers"]},
    }


def estimate(device, interconnect, device_counts, schedule=PUBLISHED_SCHEDULE):
    """The whole report: per model, its step's FLOPs and gradient bytes, a row
    per device count and the crossover."""
    models = {}
    for name, config in base_configs().items():
        parameters = trainable_parameters(config)
        model = {
            "trainable_parameters": parameters,
            "gradient_bytes": parameters * GRADIENT_BYTES_PER_PARAMETER,
            "flops_per_sequence": train_flops_per_sequence(
                config, schedule["sequence_length"]
            ),
        }
        model["flops_per_step"] = model["flops_per_sequence"] * schedule["global_batch"]
        model["rows"] = [
            schedule_row(devices, model, device, interconnect, schedule)
            for devices in device_counts
        ]
        model["crossover"] = communication_crossover(
            model, device, interconnect, schedule
        )
        models[name] = model
    return {
        "schedule": schedule,
        "mask_selection_length": mask_selection_length(schedule["sequence_length"]),
        "device": {
            **device,
            "sustained_tflops": device_flops_per_second(device) / 1e12,
        },
        "interconnect": interconnect,
        "models": models,
        "command": [Path(sys.executable).name, *sys.argv],
    }


def print_report(report):
    device, schedule = report["device"], report["schedule"]
    interconnect = report["interconnect"]
    print(
        f"{schedule['steps']:,} steps x batch {schedule['global_batch']:,} x length "
        f"{schedule['sequence_length']}; {device['name']} at "
        f"{device['peak_tflops']:g} TFLOP/s x MFU {device['mfu']:.0%} = "
        f"{device['sustained_tflops']:.0f} TFLOP/s; ring all-reduce at "
        f"{interconnect['within_host_gb_per_second']:g} GB/s within a host of "
        f"{interconnect['devices_per_host']}, "
        f"{interconnect['between_hosts_gb_per_second']:g} GB/s between hosts"
    )
    for name, model in report["models"].items():
        print(
            f"\n{name}: {model['trainable_parameters']:,} trainable parameters, "
            f"{model['gradient_bytes'] / 1e6:.1f} MB of float32 gradients, "
            f"{model['flops_per_step'] / 1e15:.3f} PFLOP a step\n"
        )
        print(
            "| devices | batch per device | compute ms | all-reduce ms "
            "| step ms, overlapped | not overlapped | days, overlapped "
            "| not overlapped | all-reduce > compute below batch |\n"
            "|---|---|---|---|---|---|---|---|---|"
        )
        for row in model["rows"]:
            step, days = row["step_seconds"], row["days"]
            cells = (
                f"{row['devices']:,}",
                f"{row['per_device_batch']:g}",
                f"{1e3 * row['compute_seconds']:,.1f}",
                f"{1e3 * row['all_reduce_seconds']:,.2f}",
                f"{1e3 * step['overlapped']:,.1f}",
                f"{1e3 * step['serial']:,.1f}",
                f"{days['overlapped']:.3g}",
                f"{days['serial']:.3g}",
                f"{row['break_even_per_device_batch']:.2f}",
            )
            print("| " + " | ".join(cells) + " |")
        crossover = model["crossover"]
        if crossover:
            print(
                f"All-reduce outlasts compute from {crossover['devices']:,} devices "
                f"({crossover['per_device_batch']:.2f} sequences each)."
            )
        else:
            print("All-reduce never outlasts compute, down to one sequence a device.")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--peak-tflops", type=float, default=ASSUMED_DEVICE["peak_tflops"]
    )
    parser.add_argument("--mfu", type=float, default=ASSUMED_DEVICE["mfu"])
    parser.add_argument(
        "--within-host-gb-per-second",
        type=float,
        default=ASSUMED_INTERCONNECT["within_host_gb_per_second"],
    )
    parser.add_argument(
        "--between-hosts-gb-per-second",
        type=float,
        default=ASSUMED_INTERCONNECT["between_hosts_gb_per_second"],
    )
    parser.add_argument("--devices", type=int, nargs="+", default=list(DEVICE_COUNTS))
    parser.add_argument("--json", help="write the report to this JSON file")
    args = parser.parse_args()
    if not 0 < args.mfu <= 1:
        parser.error(f"--mfu must be in (0, 1]. Received: {args.mfu}")
    if min(args.devices) < 1:
        parser.error(f"--devices must be positive. Received: {args.devices}")
    return args


def main():
    args = parse_args()
    device = {**ASSUMED_DEVICE, "peak_tflops": args.peak_tflops, "mfu": args.mfu}
    interconnect = {
        **ASSUMED_INTERCONNECT,
        "within_host_gb_per_second": args.within_host_gb_per_second,
        "between_hosts_gb_per_second": args.between_hosts_gb_per_second,
    }
    report = estimate(device, interconnect, args.devices)
    print_report(report)
    write_report(report, args.json)


if __name__ == "__main__":
    main()
