"""Combining an implementation's rounds, and the ours / theirs ratios."""

import statistics

from workers import IMPLEMENTATIONS

RATE_KEYS = ("train_tokens", "predict_tokens", "preprocess_strings")


def combine_rounds(round_results):
    """One result from an implementation's rounds: median rates, peak memory.

    Each rate's `rounds` lists every round's rate; `per_second` is their
    median and `median_seconds` and `seconds` come from the median round.
    """
    failed = [result for result in round_results if result.get("status") != "ok"]
    if failed:
        return failed[0]
    combined = dict(round_results[0])
    for key in RATE_KEYS:
        by_rate = sorted(round_results, key=lambda result: result[key]["per_second"])
        combined[key] = dict(by_rate[(len(by_rate) - 1) // 2][key])
        combined[key]["per_second"] = statistics.median(
            result[key]["per_second"] for result in round_results
        )
        combined[key]["rounds"] = [
            result[key]["per_second"] for result in round_results
        ]
    for key in ("peak_rss_mib", "device_peak_memory_mib"):
        values = [result[key] for result in round_results if result[key] is not None]
        combined[key] = max(values) if values else None
    return combined


def ratios(results):
    """ours / theirs for each measurement and each other implementation.

    With several rounds, the median of the rounds' ratios: each compares two
    runs made one after the other, under the same machine conditions.
    """
    ours = results.get("albert_mlm", {})
    table = {}
    for key in RATE_KEYS:
        table[key] = {}
        for name in IMPLEMENTATIONS[1:]:
            theirs = results.get(name, {})
            if ours.get("status") == "ok" and theirs.get("status") == "ok":
                ours_rounds = ours[key].get("rounds", [ours[key]["per_second"]])
                theirs_rounds = theirs[key].get("rounds", [theirs[key]["per_second"]])
                table[key][name] = statistics.median(
                    a / b for a, b in zip(ours_rounds, theirs_rounds)
                )
            else:
                table[key][name] = None
    return table
