"""How every measurement is taken: timed calls, rates, peak memory, and the
CPU other processes used meanwhile."""

import os
import resource
import statistics
import sys
import time
from pathlib import Path

# Adam's learning rate in every implementation's train step.
LEARNING_RATE = 5e-5


def time_calls(function, warmup, repeats):
    """Seconds of each of `repeats` calls of `function`, after `warmup` calls."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def throughput(items, seconds):
    """Items per second at the median of the timed calls, with the raw times."""
    median = statistics.median(seconds)
    return {"per_second": items / median, "median_seconds": median, "seconds": seconds}


def peak_rss_mib():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def cpu_seconds():
    """CPU seconds used so far by `(every process, processes at a positive
    nice, this process)`, or None where there is no /proc/stat."""
    if not Path("/proc/stat").exists():
        return None
    user, nice, system, _, _, irq, softirq = map(
        int, Path("/proc/stat").read_text().split()[1:8]
    )
    ours = resource.getrusage(resource.RUSAGE_SELF)
    ticks = os.sysconf("SC_CLK_TCK")
    busy = user + nice + system + irq + softirq
    return busy / ticks, nice / ticks, ours.ru_utime + ours.ru_stime
