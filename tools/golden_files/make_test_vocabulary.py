"""Train the tiny SentencePiece vocabulary used by the test suite.

Produces ``tests/data/vocabulary.spm``: a unigram SentencePiece model with
400 pieces whose special ids follow the published ALBERT vocabulary::

    <pad> = 0, <unk> = 1, [CLS] = 2, [SEP] = 3, [MASK] = 4

The training text is synthesised in this script from small hand-written word
lists (seeded, so it is always the same), and training is single-threaded
with a fixed random seed, so re-running the script reproduces the file byte
for byte.

Run from the repository root::

    python tools/golden_files/make_test_vocabulary.py

Only the ``sentencepiece`` package is needed.
"""

import io
import os
import random

import sentencepiece as spm

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT_PATH = os.path.join(REPO_ROOT, "tests", "data", "vocabulary.spm")

VOCABULARY_SIZE = 400
TEXT_SEED = 20240611
TRAINER_SEED = 1234
NUM_SENTENCES = 600

SPECIAL_PIECES = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]

# --- Hand-written word lists ------------------------------------------------

DETERMINERS = ["the", "a", "one", "every", "that", "this", "my", "our"]

ADJECTIVES = [
    "quick",
    "lazy",
    "brown",
    "small",
    "large",
    "quiet",
    "noisy",
    "happy",
    "sleepy",
    "clever",
    "old",
    "young",
    "bright",
    "dark",
    "gentle",
    "curious",
    "tired",
    "friendly",
    "strange",
    "green",
    "purple",
    "careful",
    "naïve",
    "busy",
    "tiny",
    "ancient",
    "honest",
    "wooden",
    "silver",
    "frozen",
]

NOUNS = [
    "fox",
    "dog",
    "cat",
    "bird",
    "teacher",
    "student",
    "farmer",
    "doctor",
    "river",
    "mountain",
    "city",
    "garden",
    "window",
    "book",
    "letter",
    "train",
    "computer",
    "kitchen",
    "village",
    "captain",
    "painter",
    "robot",
    "island",
    "forest",
    "bakery",
    "café",
    "piano",
    "bicycle",
    "lantern",
    "market",
    "engineer",
    "musician",
    "neighbour",
    "child",
    "storm",
    "ocean",
]

PLURAL_NOUNS = [
    "foxes",
    "dogs",
    "cats",
    "birds",
    "teachers",
    "students",
    "farmers",
    "children",
    "apples",
    "stars",
    "trees",
    "boats",
    "songs",
    "stories",
    "engineers",
    "clouds",
    "coins",
    "flowers",
]

VERBS_PAST = [
    "jumped over",
    "looked at",
    "walked past",
    "painted",
    "visited",
    "found",
    "carried",
    "watched",
    "opened",
    "closed",
    "followed",
    "remembered",
    "cleaned",
    "repaired",
    "described",
    "noticed",
    "admired",
    "ignored",
    "borrowed",
    "delivered",
]

VERBS_PRESENT = [
    "likes",
    "wants",
    "sees",
    "builds",
    "reads",
    "sells",
    "needs",
    "loves",
    "brings",
    "writes",
    "finds",
    "keeps",
    "hates",
    "chooses",
    "explains",
]

ADVERBS = [
    "quickly",
    "slowly",
    "happily",
    "quietly",
    "carefully",
    "suddenly",
    "rarely",
    "often",
    "never",
    "always",
    "almost",
    "gently",
]

PLACES = [
    "in the park",
    "near the river",
    "at the café",
    "under the bridge",
    "behind the station",
    "inside the museum",
    "on the hill",
    "by the sea",
    "at the market",
    "in the old town",
]

TIMES = [
    "yesterday",
    "today",
    "tomorrow",
    "last week",
    "every morning",
    "at night",
    "in the summer",
    "on monday",
    "before lunch",
    "after dinner",
]

NAMES = [
    "anna",
    "bruno",
    "chloé",
    "david",
    "elena",
    "françois",
    "greta",
    "hugo",
    "ines",
    "jürgen",
    "kofi",
    "lena",
    "mateo",
    "noémie",
    "omar",
    "zoë",
]

EXTRA_WORDS = [
    "résumé",
    "façade",
    "déjà",
    "vu",
    "über",
    "señor",
    "jalapeño",
    "crème",
    "brûlée",
    "fiancée",
    "coöperate",
    "piñata",
    "naïveté",
    "entrée",
]


def _noun_phrase(rng):
    parts = [rng.choice(DETERMINERS)]
    if rng.random() < 0.6:
        parts.append(rng.choice(ADJECTIVES))
    parts.append(rng.choice(NOUNS))
    return " ".join(parts)


def _number(rng):
    kind = rng.random()
    if kind < 0.4:
        return str(rng.randint(0, 20))
    if kind < 0.7:
        return str(rng.randint(21, 9999))
    if kind < 0.85:
        return f"{rng.randint(0, 99)}.{rng.randint(0, 99):02d}"
    return f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d}"


def _sentence(rng):
    template = rng.randrange(8)
    if template == 0:
        s = f"{_noun_phrase(rng)} {rng.choice(VERBS_PAST)} {_noun_phrase(rng)}"
        if rng.random() < 0.5:
            s += f" {rng.choice(PLACES)}"
        return s + "."
    if template == 1:
        return (
            f"{rng.choice(NAMES)} {rng.choice(VERBS_PRESENT)} "
            f"{_noun_phrase(rng)} {rng.choice(TIMES)}."
        )
    if template == 2:
        return (
            f"did {_noun_phrase(rng)} {rng.choice(ADVERBS)} "
            f"{rng.choice(VERBS_PAST).split()[0]} {rng.choice(PLACES)}?"
        )
    if template == 3:
        return (
            f"{rng.choice(NAMES)} bought {_number(rng)} "
            f"{rng.choice(PLURAL_NOUNS)} for {_number(rng)} euros!"
        )
    if template == 4:
        return (
            f"{rng.choice(TIMES)}, {_noun_phrase(rng)} was "
            f"{rng.choice(ADVERBS)} {rng.choice(ADJECTIVES)}; "
            f"{rng.choice(NAMES)} said so."
        )
    if template == 5:
        return (
            f'"{rng.choice(ADJECTIVES)} {rng.choice(PLURAL_NOUNS)}," '
            f"whispered {rng.choice(NAMES)}, "
            f'"are {rng.choice(ADVERBS)} {rng.choice(ADJECTIVES)}."'
        )
    if template == 6:
        words = rng.sample(EXTRA_WORDS, 2)
        return (
            f"the {words[0]} and the {words[1]} ({_number(rng)}) "
            f"{rng.choice(VERBS_PRESENT)} {_noun_phrase(rng)} - "
            f"{rng.choice(ADVERBS)}."
        )
    return (
        f"train {rng.randint(1, 99)} leaves {rng.choice(PLACES)} at "
        f"{_number(rng)} with {_number(rng)} {rng.choice(PLURAL_NOUNS)} "
        f"& {_number(rng)}% of {rng.choice(PLURAL_NOUNS)}..."
    )


def training_sentences():
    """The deterministic list of training sentences."""
    rng = random.Random(TEXT_SEED)
    sentences = [_sentence(rng) for _ in range(NUM_SENTENCES)]
    # Make sure every hand-written word (and every digit) appears at least
    # once, whatever the sampling above picked.
    every_word = (
        DETERMINERS
        + ADJECTIVES
        + NOUNS
        + PLURAL_NOUNS
        + VERBS_PAST
        + VERBS_PRESENT
        + ADVERBS
        + PLACES
        + TIMES
        + NAMES
        + EXTRA_WORDS
    )
    for start in range(0, len(every_word), 8):
        sentences.append(" ".join(every_word[start : start + 8]) + ".")
    sentences.append("0 1 2 3 4 5 6 7 8 9 10 42 100 2024 3.14 12:30")
    return sentences


def train():
    spm.set_random_generator_seed(TRAINER_SEED)
    model = io.BytesIO()
    # Feeding sentences from an iterator and writing to a BytesIO keeps
    # file paths out of the stored trainer spec, so the output does not
    # depend on where the script runs.
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(training_sentences()),
        model_writer=model,
        vocab_size=VOCABULARY_SIZE,
        model_type="unigram",
        character_coverage=1.0,
        normalization_rule_name="nmt_nfkc",
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        pad_piece="<pad>",
        unk_piece="<unk>",
        control_symbols=["[CLS]", "[SEP]"],
        user_defined_symbols=["[MASK]"],
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    return model.getvalue()


def main():
    proto = train()
    os.makedirs(os.path.dirname(OUTPUT_PATH), exist_ok=True)
    with open(OUTPUT_PATH, "wb") as f:
        f.write(proto)

    sp = spm.SentencePieceProcessor(model_proto=proto)
    print(f"wrote {OUTPUT_PATH}")
    print(f"vocabulary size: {sp.get_piece_size()}")
    for piece in SPECIAL_PIECES:
        print(f"  {piece!r}: id {sp.piece_to_id(piece)}")
    print(f"file size: {len(proto)} bytes")
    expected = list(range(len(SPECIAL_PIECES)))
    actual = [sp.piece_to_id(p) for p in SPECIAL_PIECES]
    if actual != expected:
        raise SystemExit(f"unexpected special ids {actual}")


if __name__ == "__main__":
    main()
