"""The printed report: setup, ceilings, one row per implementation, ratios."""

from workers import IMPLEMENTATIONS

NOTES = (
    "transformers' AlbertForMaskedLM returns logits for every position "
    "(batch x sequence_length x vocabulary); predict gathers the masked "
    "positions afterwards, and its train step computes the loss from "
    "full-sequence logits (labels -100 elsewhere). The Keras models compute "
    "head logits only at the masked positions.",
    "transformers' DataCollatorForLanguageModeling masks each token with "
    "probability 0.15 (no fixed number of slots) and returns full-length labels.",
    "Model FLOPs count useful work only (the masked-LM head at the masked "
    "positions), the same numerator for every implementation; training = 3 x "
    "forward. The ceiling is the Keras backend's matmul, also for transformers.",
    "Peak RSS (ru_maxrss) covers the whole subprocess: imports, the model, the "
    "optimizer state and all three measurements.",
)


def print_report(report):
    print_header(report["setup"], report["ceiling"], report["flops"])
    print()
    print_implementations(report["implementations"])
    print()
    print_ratios(report)
    print()
    print("notes:")
    for note in NOTES:
        print(f"- {note}")


def print_header(setup, ceiling, flops):
    print(
        f"ALBERT masked-LM benchmark: architecture {setup['architecture']} "
        f"(vocabulary {setup['model_config']['vocabulary_size']}), "
        f"precision {setup['precision']}, batch {setup['batch_size']} x "
        f"sequence {setup['sequence_length']}, "
        f"{setup['mask_selection_length']} masked positions, "
        f"Keras backend {setup['keras_backend']}, "
        f"{setup['rounds']} round(s) per implementation"
    )
    if ceiling.get("status") == "ok":
        gflops = ceiling["gflops"]
        print(
            f"matmul ceiling ({ceiling['matmul_size']}^2, keras.ops.matmul on "
            f"{ceiling['device']}): float32 {gflops['float32']:,.1f} GFLOP/s, "
            f"bfloat16 {gflops['bfloat16']:,.1f} GFLOP/s"
        )
        bound = ceiling["model_matmul_bound"]
        print(
            f"the model's matmuls alone ({bound['dtype']}, same shapes, nothing "
            f"else): {format_count(bound['predict_tokens']['per_second'])} tok/s "
            "forward, so at most about "
            f"{format_count(bound['predict_tokens']['per_second'] / 3)} tok/s "
            "training (3 x the matmul work)"
        )
    else:
        print(f"matmul ceiling: failed ({ceiling.get('reason')})")
    print(
        f"model FLOPs per token: forward {flops['forward'] / 1e6:,.2f} M, "
        f"train {flops['train'] / 1e6:,.2f} M"
    )


def print_implementations(results):
    header = (
        f"{'implementation':<22}{'train tok/s':>13}{'% ceil':>9}"
        f"{'predict tok/s':>15}{'% ceil':>9}{'preproc str/s':>15}"
        f"{'peak RSS MiB':>14}{'device MiB':>12}  device"
    )
    print(header)
    print("-" * len(header))
    for name, result in results.items():
        if result["status"] == "skipped":
            print(f"{name:<22}{result['reason']}, skipped")
            continue
        if result["status"] == "failed":
            print(f"{name:<22}failed: {result['reason']}")
            continue
        label = f"{name} {result['version']}"
        train, predict = result["train_tokens"], result["predict_tokens"]
        print(
            f"{label:<22}{format_count(train['per_second']):>13}"
            f"{format_fraction(train['fraction_of_ceiling']):>9}"
            f"{format_count(predict['per_second']):>15}"
            f"{format_fraction(predict['fraction_of_ceiling']):>9}"
            f"{format_count(result['preprocess_strings']['per_second']):>15}"
            f"{format_count(result['peak_rss_mib']):>14}"
            f"{format_count(result['device_peak_memory_mib']):>12}"
            f"  {result['framework']}, {result['device']}"
        )


def print_ratios(report):
    """ours / theirs, then the matmul-only bound / theirs."""
    print(f"{'ours / theirs':<27}{'train':>10}{'predict':>10}{'preprocess':>12}")
    for name in IMPLEMENTATIONS[1:]:
        values = [report["ratios"][key][name] for key in report["ratios"]]
        cells = ["-" if v is None else f"{v:.2f}x" for v in values]
        print(f"{'vs ' + name:<27}{cells[0]:>10}{cells[1]:>10}{cells[2]:>12}")
    ceiling = report["ceiling"]
    if ceiling.get("status") != "ok":
        return
    bound = ceiling["model_matmul_bound"]["predict_tokens"]["per_second"]
    for name in IMPLEMENTATIONS[1:]:
        result = report["implementations"][name]
        if result["status"] != "ok":
            continue
        train = bound / 3 / result["train_tokens"]["per_second"]
        predict = bound / result["predict_tokens"]["per_second"]
        print(
            f"{'bound vs ' + name:<27}{train:>9.2f}x{predict:>9.2f}x"
            "  (matmuls alone / theirs: the most any implementation reaches)"
        )


def format_count(value):
    """A rate or a size in MiB, rounded to a whole number."""
    return "-" if value is None else f"{value:,.0f}"


def format_fraction(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def print_suite_summary(lines):
    """The device suite's ceilings and one row per result line."""
    ceilings = [line for line in lines if line.get("kind") == "ceiling"]
    for ceiling in ceilings:
        rates = ", ".join(
            f"{dtype} {value:,.0f} GFLOP/s"
            for dtype, value in (ceiling.get("gflops") or {}).items()
        )
        failure = f"{ceiling['status']}: {ceiling.get('reason')}"
        print(
            f"matmul ceiling {ceiling['backend']} on {ceiling.get('device_name')}: "
            f"{rates or failure}"
        )
    header = (
        f"{'configuration':<28}{'backend':<8}{'implementation':<23}"
        f"{'train tok/s':>13}{'MFU':>7}{'predict tok/s':>15}{'MFU':>7}{'peak MiB':>10}"
    )
    print(header + "\n" + "-" * len(header))
    for line in lines:
        if line.get("kind") != "result":
            continue
        shape = f"{line['architecture']} {line['batch_size']}x{line['sequence_length']}"
        row = f"{shape:<28}{line['backend']:<8}{line['implementation']:<23}"
        if line["status"] != "ok":
            print(f"{row}{line['status']}: {line.get('reason')}")
            continue
        print(
            f"{row}{line['train_tokens_per_second']:>13,.0f}"
            f"{format_fraction(line['train_mfu']):>7}"
            f"{line['predict_tokens_per_second']:>15,.0f}"
            f"{format_fraction(line['predict_mfu']):>7}"
            f"{format_count(line['device_peak_memory_mib']):>10}"
        )
