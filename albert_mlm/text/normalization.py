"""ALBERT's uncased text normalisation, in Python and as TensorFlow ops.

The steps, in order, are those of Hugging Face's `AlbertTokenizer` with
`do_lower_case=True, keep_accents=False`: strip and collapse runs of
whitespace to one space, turn ``` `` ``` and `''` into `"`, decompose (NFKD)
and drop combining marks, lowercase. The TensorFlow version uses the same
character sets (read from Python's `unicodedata`), so both agree.

>>> normalize_text("  Café  ``Naïve''  ")
'cafe "naive"'
"""

import functools
import re
import sys
import unicodedata


def normalize_text(text):
    """Normalise one Python string."""
    text = " ".join(text.split())
    text = text.replace("``", '"').replace("''", '"')
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return text.lower()


def _character_class(predicate):
    """An RE2 character class of every code point where `predicate` holds."""
    ranges, start, previous = [], None, None
    for code_point in range(sys.maxunicode + 1):
        if 0xD800 <= code_point <= 0xDFFF:  # Surrogates never occur in UTF-8.
            continue
        if predicate(chr(code_point)):
            if start is None:
                start = code_point
            previous = code_point
        elif start is not None:
            ranges.append((start, previous))
            start = None
    if start is not None:
        ranges.append((start, previous))
    parts = [
        f"\\x{{{low:X}}}" if low == high else f"\\x{{{low:X}}}-\\x{{{high:X}}}"
        for low, high in ranges
    ]
    return "[" + "".join(parts) + "]"


@functools.cache
def _patterns():
    whitespace = _character_class(str.isspace)
    return {
        "whitespace_runs": whitespace + "+",
        "combining_marks": _character_class(unicodedata.combining),
    }


def normalize_text_tf(texts):
    """Normalise a `tf.string` tensor of any shape, inside or outside tf.data."""
    import tensorflow as tf
    import tensorflow_text as tf_text

    patterns = _patterns()
    texts = tf.strings.regex_replace(texts, patterns["whitespace_runs"], " ")
    texts = tf.strings.regex_replace(texts, "^ | $", "")
    texts = tf.strings.regex_replace(texts, "``|''", '"')
    texts = tf_text.normalize_utf8(texts, "NFKD")
    texts = tf.strings.regex_replace(texts, patterns["combining_marks"], "")
    return tf.strings.lower(texts, encoding="utf-8")


def special_token_pattern(special_tokens):
    """A regex matching any of `special_tokens` literally (longest first)."""
    ordered = sorted(special_tokens, key=len, reverse=True)
    return "(" + "|".join(re.escape(token) for token in ordered) + ")"
