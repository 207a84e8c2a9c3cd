#!/usr/bin/env python3
"""Write tests/data/pretokenizer-gpt4o.tsv: texts and the pieces the gpt-4o (o200k)
pre-tokenizer regex splits them into, as Python's `regex` module (Debian:
python3-regex) runs the pattern from the model's tokenizer.json. No vectors for this
pattern come with ../shared/vocab, so the engine's hand-written matcher is checked
against the regex itself on hand-picked and random texts.

Each line: the text, then each piece, tab-separated, with \\ \\t \\n \\r escaped.
The characters used are ones whose Unicode category has not changed since
Unicode 6, so the vectors hold whatever Unicode version either side has.

Run from the repository root:  python3 tools/gen_gpt4o_pretokenizer_vectors.py
"""
import random
import sys
from pathlib import Path

import regex

PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
           r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
           r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")

HAND_PICKED = [
    "Hello world", "camelCaseWords and HTMLParser", "HELLO WORLD", "It's what they'RE doing, isn'T it?",
    "I'll say: 12345 and 3.14159", "path/to/file.txt\n", "  leading and trailing  ", "line one\r\nline two\n\n\nthree",
    "naïve café résumé", "Straße ÉCOLE École", "ǅungla ǅUNGLA", "Σίσυφος ΣΊΣΥΦΟΣ", "Москва МОСКВА москва",
    "中文字符和English混合", "ひらがなカタカナ漢字", "ʰaspirated ʰ", "e\u0301 combining a\u0301b", "\u0301leading mark",
    "emoji 😀 and ✓ marks", "tabs\tand\tspaces", "٣٤٥ Arabic-Indic digits", "ABC123def", "x's 'S 'd",
    "--flag=value /usr/bin", "!!!\n\n",
]

ALPHABET = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") * 3 + list("0123456789") * 2
            + list(" \t\n\r") * 4 + list(".,;:!?'\"()[]{}-_/\\@#$%^&*+=<>|~`") + list("éèÉßçÇñÑ")
            + list("ΣσςΑαΩω") + list("ДдЖжЯя") + list("中文字漢") + list("ひらカタ") + ["ʰ", "ǅ", "ǈ", "\u0301", "\u0308"]
            + list("٣٤") + ["😀", "✓", "\u00a0", "\u3000"] + ["'s", "'T", "'re", "'LL", "'d"])


def escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def main() -> int:
    rng = random.Random(4242)
    texts = list(HAND_PICKED)
    for _ in range(400):
        texts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40))))
    out = Path(__file__).resolve().parent.parent / "tests" / "data" / "pretokenizer-gpt4o.tsv"
    lines = []
    for t in texts:
        pieces = regex.findall(PATTERN, t)
        assert "".join(pieces) == t, t
        lines.append("\t".join([escape(t)] + [escape(p) for p in pieces]))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(texts)} texts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
