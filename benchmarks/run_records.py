"""What every benchmark script records and prints the same way: the run's
setup (machine, date, package versions, command), table cells, the JSON.

>>> shown(None, ".1f"), shown(2.345, ".1f")
('-', '2.3')
"""

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from orchestration import package_version


def run_setup(packages, **fields):
    """`fields`, then the CPU count, the date, `packages`' versions and the
    command that ran."""
    return {
        **fields,
        "cpu_count": os.cpu_count(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "packages": {name: package_version(name) for name in packages},
        "command": [Path(sys.executable).name, *sys.argv],
    }


def shown(value, spec):
    """A table cell: `value` formatted, or "-" when there is none."""
    return "-" if value is None else format(value, spec)


def write_report(report, out):
    """Writes `report` as JSON to `out`, when given."""
    if out:
        Path(out).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {out}")


def run_script(args, run_worker, run_benchmark, print_table):
    """A benchmark script's `main`: a worker's part, or the whole benchmark
    printed as a table and written to `args.out`."""
    if args.worker:
        run_worker(args)
        return
    report = run_benchmark(args)
    print_table(report)
    write_report(report, args.out)
