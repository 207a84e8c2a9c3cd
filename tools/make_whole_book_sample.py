#!/usr/bin/python3
"""Writes resources/samples/moby-dick-whole-book-planted-facts.txt: the whole of
Moby-Dick (Herman Melville, 1851; public domain) with the six facts of the README's
demo planted at spread-out depths, for the whole-book demo (README, "Set up") and
folio-bench resume --document. Deterministic: the same corpus gives the same bytes.

    /usr/bin/python3 tools/make_whole_book_sample.py [--corpus ../shared/corpus/moby-dick.txt] [--out FILE]

Plain Python 3 (Debian's), no other packages. The planting rule is the long sample's
(tools/demo_model_text.py write_sample): each fact is the first sentence of its own
paragraph, the first paragraph at or after depth * length that follows a full stop
and is not a chapter heading."""
import argparse
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_model_text import load_corpus, write_sample  # noqa: E402  (json and re only)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "resources", "samples", "moby-dick-whole-book-planted-facts.txt")
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus", "moby-dick.txt")
# The corpus this was made from (sha256 of ../shared/corpus/moby-dick.txt): another
# edition of the text plants the facts elsewhere, and the script says so.
CORPUS_SHA256 = "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240"

# (fact, depth, question, answer): the README's six, in its order, from near the start to
# near the end of the book.
FACTS = [
    ("The key to the blue cabinet is 7431.", 0.04, "What is the key to the blue cabinet?", "7431"),
    ("Captain Ortega was born in Valparaiso.", 0.22, "Where was Captain Ortega born?", "Valparaiso"),
    ("The Halcyon sailed on March 14, 1847.", 0.41, "When did the Halcyon sail?", "March 14, 1847"),
    ("The pass key is 58203. Remember it. 58203 is the pass key.", 0.59, "What is the pass key?", "58203"),
    ("Martha hid the ledger in the bell tower.", 0.77, "Where did Martha hide the ledger?", "the bell tower"),
    ("The secret word is juniper.", 0.95, "What is the secret word?", "juniper"),
]

HEADER = ("Title: Moby-Dick; or, The Whale (the whole book), with planted facts\n"
          "Author: Herman Melville\n\n"
          "A public-domain text, first published in 1851, with %d invented facts planted in it\n"
          "for trying Folio's bundled demo model on a whole novel; see resources/samples/README.md.\n\n"
          % len(FACTS))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=CORPUS, help="the plain text of Moby-Dick (default: ../shared/corpus/moby-dick.txt)")
    p.add_argument("--out", default=OUT)
    args = p.parse_args()
    with open(args.corpus, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != CORPUS_SHA256:
        print("note: %s is not the text the shipped sample was made from (sha256 %s); the facts land elsewhere"
              % (args.corpus, digest), file=sys.stderr)
    body = load_corpus(args.corpus).strip() + "\n"
    write_sample(args.out, body, [(fact, depth) for fact, depth, _, _ in FACTS], HEADER)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
