"""Extract an English sentence corpus from the WordNet 3.0 gloss texts.

Every synset line in WordNet's ``data.adj``, ``data.adv``, ``data.noun`` and
``data.verb`` files ends with a gloss after a ``|`` separator: one or more
definitions and quoted example sentences separated by ``;``.  This script
splits each gloss into those parts (semicolons inside quotes do not split),
strips quotes and whitespace, drops parts of fewer than three words and writes
the rest one per line (UTF-8), de-duplicated, in file order (files sorted by
name, lines in file order).  The result is a small corpus for pretraining a
tiny masked language model.

Source: the Debian package ``wordnet-base`` (``apt-get install wordnet-base``),
which installs the data files to ``/usr/share/wordnet``.

License: the WordNet 3.0 license (see ``/usr/share/doc/wordnet-base/copyright``),
a permissive BSD-style license from Princeton University.  It allows use,
copying, modification and distribution for any purpose without fee, provided
the copyright notice ("WordNet 3.0 Copyright 2006 by Princeton University.
All rights reserved."), the license statements and the disclaimer accompany
all copies, including derived data such as the corpus written here.

Run:
    python tools/corpus/extract_wordnet_glosses.py --output /tmp/wordnet_corpus.txt
"""

import argparse
import re
from pathlib import Path

DATA_FILES = ("data.adj", "data.adv", "data.noun", "data.verb")
# A gloss part: quoted text (closing quote optional) or anything but ; and ".
PART = re.compile(r'(?:"[^"]*"?|[^;"])+')
MIN_WORDS = 3


def gloss_parts(line):
    """Yield the cleaned definition and example parts of one synset line."""
    _, sep, gloss = line.partition("|")
    if not sep:
        return
    for match in PART.finditer(gloss):
        part = " ".join(match.group().replace('"', " ").split())
        if len(part.split()) >= MIN_WORDS:
            yield part


def extract(wordnet_dir):
    """Return the de-duplicated gloss sentences of all data files, in order."""
    sentences = {}
    for name in DATA_FILES:
        path = Path(wordnet_dir) / name
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):  # license header
                    continue
                for part in gloss_parts(line):
                    sentences.setdefault(part, None)
    return list(sentences)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wordnet-dir",
        default="/usr/share/wordnet",
        help="directory holding the WordNet data.* files",
    )
    parser.add_argument("--output", required=True, help="text file to write")
    args = parser.parse_args()

    sentences = extract(args.wordnet_dir)
    text = "".join(s + "\n" for s in sentences)
    data = text.encode("utf-8")
    Path(args.output).write_bytes(data)
    words = sum(len(s.split()) for s in sentences)
    print(f"lines: {len(sentences)}  words: {words}  bytes: {len(data)}")


if __name__ == "__main__":
    main()
