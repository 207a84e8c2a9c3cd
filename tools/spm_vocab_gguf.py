#!/usr/bin/env python3
"""Write a vocabulary-only GGUF for a SentencePiece model (Gemma 3) from the
Hugging Face tokenizer.json / tokenizer_config.json pair, laid out as llama.cpp's
converter lays out a gemma3 vocabulary from tokenizer.model: tokenizer.ggml.model
"llama", pre "default", tokens, scores, token types, special ids, add_bos /
add_eos, add_space_prefix false, and the chat template.

Standard library only. Usage:
    spm_vocab_gguf.py tokenizer.json tokenizer_config.json out.gguf [--arch gemma3] [--name NAME]

tokenizer.json carries no SentencePiece scores, only the BPE merges that
transformers derived from them: for every piece, each split into two pieces,
ordered by the merged piece's score. So the rank of the first merge that makes
a piece orders pieces exactly as their scores do, and -rank is a score the
SentencePiece merge loop (highest score first) follows the same way.
"""

import argparse
import json
import re
import struct
import sys

# gguf value types
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9
# tokenizer.ggml.token_type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
ALIGNMENT = 32

BYTE_TOKEN = re.compile(r"<0x[0-9A-Fa-f]{2}>")


def looks_special(text):
    # llama.cpp's does_token_look_special: added tokens that Gemma does not mark
    # special but that are control tokens all the same.
    return (text in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
            or (text.startswith("<|") and text.endswith("|>"))
            or (text.startswith("<unused") and text.endswith(">")))


def build_vocab(tokenizer, config):
    model = tokenizer["model"]
    if model.get("type") != "BPE" or not model.get("byte_fallback"):
        sys.exit("tokenizer.json: expected a SentencePiece-style BPE model with byte_fallback")
    vocab = model["vocab"]
    n = len(vocab)
    tokens = [None] * n
    for text, i in vocab.items():
        if not 0 <= i < n or tokens[i] is not None:
            sys.exit(f"tokenizer.json: vocabulary ids are not 0..{n - 1}")
        tokens[i] = text

    first_rank = {}
    for rank, merge in enumerate(model["merges"]):
        left, right = merge if isinstance(merge, list) else merge.split(" ", 1)
        first_rank.setdefault(left + right, rank)
    # Pieces no merge makes (single characters, specials) never score a merge;
    # they rank after all merged pieces, in id order.
    order = sorted(range(n), key=lambda i: (tokens[i] not in first_rank, first_rank.get(tokens[i], 0), i))
    scores = [0.0] * n
    for position, i in enumerate(order):
        scores[i] = -float(position)

    types = [NORMAL] * n
    unk = model.get("unk_token")
    for i, text in enumerate(tokens):
        if BYTE_TOKEN.fullmatch(text):
            types[i] = BYTE
            scores[i] = 0.0
        elif text == unk:
            types[i] = UNKNOWN
            scores[i] = 0.0

    # As llama.cpp: every added token is a control token (special, or looks it)
    # or user-defined, with score -1000; user-defined ones are matched in raw
    # text, so their U+2581 stands for a space.
    for key, added in config.get("added_tokens_decoder", {}).items():
        i = int(key)
        if i >= n:
            continue  # beyond the SentencePiece vocabulary (e.g. <image_soft_token>)
        text = added["content"]
        if added.get("special") or looks_special(text):
            types[i] = CONTROL
        else:
            text = text.replace("\u2581", " ")
            types[i] = USER_DEFINED
        tokens[i] = text
        scores[i] = -1000.0
    return tokens, scores, types


def special_id(config, tokens, name):
    entry = config.get(f"{name}_token")
    if isinstance(entry, dict):
        entry = entry.get("content")
    if not isinstance(entry, str):
        return None
    for key, added in config.get("added_tokens_decoder", {}).items():
        if added["content"] == entry and int(key) < len(tokens):
            return int(key)
    return None


class Writer:
    def __init__(self):
        self.kv = []

    def add(self, key, vtype, payload):
        self.kv.append(self.string(key) + struct.pack("<I", vtype) + payload)

    @staticmethod
    def string(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def add_string(self, key, value):
        self.add(key, T_STRING, self.string(value))

    def add_u32(self, key, value):
        self.add(key, T_UINT32, struct.pack("<I", value))

    def add_bool(self, key, value):
        self.add(key, T_BOOL, struct.pack("<B", 1 if value else 0))

    def add_array(self, key, etype, items):
        if etype == T_STRING:
            body = b"".join(self.string(s) for s in items)
        else:
            body = struct.pack("<%d%s" % (len(items), "f" if etype == T_FLOAT32 else "i"), *items)
        self.add(key, T_ARRAY, struct.pack("<IQ", etype, len(items)) + body)

    def write(self, path):
        out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(self.kv)) + b"".join(self.kv)
        out += b"\0" * (-len(out) % ALIGNMENT)
        with open(path, "wb") as f:
            f.write(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tokenizer_json")
    parser.add_argument("tokenizer_config_json")
    parser.add_argument("output")
    parser.add_argument("--arch", default="gemma3")
    parser.add_argument("--name", default="Gemma 3 vocabulary")
    args = parser.parse_args()
    with open(args.tokenizer_json, encoding="utf-8") as f:
        tokenizer = json.load(f)
    with open(args.tokenizer_config_json, encoding="utf-8") as f:
        config = json.load(f)

    tokens, scores, types = build_vocab(tokenizer, config)
    w = Writer()
    w.add_string("general.architecture", args.arch)
    w.add_string("general.name", args.name)
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_string("tokenizer.ggml.pre", "default")
    w.add_array("tokenizer.ggml.tokens", T_STRING, tokens)
    w.add_array("tokenizer.ggml.scores", T_FLOAT32, scores)
    w.add_array("tokenizer.ggml.token_type", T_INT32, types)
    for name, key in (("bos", "bos_token_id"), ("eos", "eos_token_id"),
                      ("unk", "unknown_token_id"), ("pad", "padding_token_id")):
        if (i := special_id(config, tokens, name)) is not None:
            w.add_u32("tokenizer.ggml." + key, i)
    for name in ("bos", "eos"):
        if isinstance(config.get(f"add_{name}_token"), bool):
            w.add_bool(f"tokenizer.ggml.add_{name}_token", config[f"add_{name}_token"])
    w.add_bool("tokenizer.ggml.add_space_prefix", False)  # Gemma: no dummy prefix
    if isinstance(config.get("chat_template"), str):
        w.add_string("tokenizer.chat_template", config["chat_template"])
    w.write(args.output)
    print(f"{args.output}: {len(tokens)} tokens, "
          f"{sum(t == CONTROL for t in types)} control, {sum(t == USER_DEFINED for t in types)} user-defined, "
          f"{sum(t == BYTE for t in types)} byte")


if __name__ == "__main__":
    main()
