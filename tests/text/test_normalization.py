"""ALBERT's uncased text normalisation (`albert_mlm.text.normalization`), in Python
and as TensorFlow ops, against an independent definition."""

import unicodedata

import pytest
import tensorflow as tf

from albert_mlm.text.normalization import normalize_text, normalize_text_tf

# Strings that stress normalisation: whitespace of every kind, quotes,
# compatibility characters, accents, case.
TRICKY_STRINGS = [
    "",
    " ",
    "   \t\n  ",
    "\u00a0\u3000\u2003",
    "hello",
    "  leading and trailing  ",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeed",
    "no\u00a0break\u00a0space",
    "ideographic\u3000space",
    "line\u2028separator\u2029paragraph",
    "next\x85line and \x1cfile\x1dseparators\x1e\x1f",
    "Café Naïve Zoë Brûlée Crème",
    "e\u0301 decomposed accent",
    "\u0301 lone combining mark",
    "ﬁne ﬂour ﬀ ligatures",
    "ＦＵＬＬ－ｗｉｄｔｈ ｌｅｔｔｅｒｓ １２３",
    "``quoted'' and 'single' and ''' and ````",
    "“curly” ‘quotes’",
    "ÅNGSTRÖM Ω K ẞ İstanbul",
    "ΟΔΟΣ ΣΟΦΙΑ",
    "Ⅻ ① ² ½ ™",
    "ﾊﾟﾝ カタカナ ひらがな 漢字",
    "emoji 😀 and flags 🇫🇷",
    "MiXeD CaSe WoRdS",
    "a ¨ b ´ c",
    "[MASK] [CLS] <unk> <pad>",
]


def reference_normalize(text):
    """Independent definition of ALBERT's uncased normalisation."""
    text = " ".join(text.split())
    text = text.replace("``", '"').replace("''", '"')
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower()


def test_reference_normalisation_examples():
    # Sanity check of the reference itself, written out by hand.
    assert reference_normalize("  Café  ``Naïve''  ") == 'cafe "naive"'
    assert reference_normalize("ﬁne\u00a0ＡＢ") == "fine ab"
    assert reference_normalize(" \t\n ") == ""


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_normalize_text_matches_reference(text):
    assert normalize_text(text) == reference_normalize(text)


def test_normalize_text_tf_matches_python():
    expected = [normalize_text(t) for t in TRICKY_STRINGS]
    eager = normalize_text_tf(tf.constant(TRICKY_STRINGS)).numpy()
    assert [t.decode("utf-8") for t in eager] == expected
    # Scalars, and inside a tf.data graph.
    assert normalize_text_tf(tf.constant("  Café  ")).numpy() == b"cafe"
    dataset = tf.data.Dataset.from_tensor_slices(TRICKY_STRINGS).map(normalize_text_tf)
    assert [t.numpy().decode("utf-8") for t in dataset] == expected
