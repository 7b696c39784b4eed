"""A reader that closes the pipe early, as in `albert-mlm fill-mask --file
big.txt --json | head -n 1`, ends the command quietly (`cli/__init__.py`):
nothing on stderr, and status 141, what a shell reports for a Unix tool
stopped by a closed pipe."""

import json
import subprocess
import sys

from helpers import CLI_ENVIRONMENT

# Far more output than a pipe's buffer (64 KiB) holds: several hundred
# bytes of JSON a text.
TEXTS = [f"the [MASK] sat near river number {i}." for i in range(2000)]
# Buffered stdout, as a user has it: unbuffered, nothing would be left to
# flush at exit after the pipe closes.
ENVIRONMENT = {k: v for k, v in CLI_ENVIRONMENT.items() if k != "PYTHONUNBUFFERED"}


def test_fill_mask_stops_quietly_when_the_reader_closes_the_pipe(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("\n".join(TEXTS) + "\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "albert_mlm", "fill-mask", "--file", str(path)]
        + ["--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENVIRONMENT,
    )
    try:
        first_line = process.stdout.readline()
        process.stdout.close()  # What `head -n 1` does after one line.
        stderr = process.stderr.read().decode()
        status = process.wait(timeout=300)
    finally:
        process.kill()
    assert json.loads(first_line)["text"] == TEXTS[0]
    assert stderr == ""
    assert status == 141
