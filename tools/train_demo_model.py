#!/usr/bin/python3
"""Train Folio's bundled demo model: a tiny Llama that answers questions about facts
planted in a long text, written as a GGUF the engine loads as it is.

Development tool (Debian's python3-torch 1.13 + python3-numpy, CPU only); nothing in the
build or the app runs it. Subcommands:

  train   learn the BPE vocabulary, train the model, write the GGUF
  eval    accuracy of a GGUF at 1x..32x its training length with plain RoPE, PI, NTK,
          YaRN and Dual Chunk Attention (the Python reference of the C++ benchmark)
  vocab   write a vocabulary-only GGUF (to compare tokenizations with folio-cli)
  sample  write the long sample document with planted facts
  check-engine  the trainer's logits against the engine's (folio-cli logits, plain and
          --dca) for --arch llama|qwen3|gemma3; run it after changing either side

`train --arch qwen3|gemma3 --init resources/models/folio-demo.gguf` starts those families
from the llama weights (q/k rows reordered for NeoX pairs, new norms sized from the data)
and fine-tunes them with the rest of the recipe below (stage 4's options); the candidates
in resources/models/candidates/ were made so (15 and 8.5 minutes). gemma3 with 4 layers has
no global layer in the engine (every 6th is global), so DCA does not act on it.

The shipped model (2026-12-07) was made in four stages (one thread each; wall-clock
budgets, so a faster machine runs more steps; resources/models/folio-demo.md records the
steps of the shipped runs; the first stage was stopped after 8,000 steps, 47 minutes):

  /usr/bin/python3 tools/train_demo_model.py train \
      --corpus CORPUS_DIR --out stage1.gguf --seed 1234 --minutes 75
  /usr/bin/python3 tools/train_demo_model.py train --corpus CORPUS_DIR \
      --out stage2.gguf --seed 1235 --minutes 22 --init stage1.gguf \
      --app-format 0.5 --lr 8e-4 --start-len 256 --dca-temperature 0.1
  # stage 2 was the file shipped on 2026-12-01; stage 3 adds long conversations read with
  # DCA in 40% of the steps (resources/models/candidates/folio-demo-2026-12-07.gguf)
  /usr/bin/python3 tools/train_demo_model.py train --corpus CORPUS_DIR --out stage3.gguf \
      --seed 1236 --minutes 42 --init stage2.gguf --app-format 0.5 \
      --lr 6e-4 --start-len 256 --dca-temperature 0.1 --long-frac 0.4 --long-min 1000 \
      --long-len 4000 --long-batch 1 --threads 1
  # stage 4: the <|im_end|> closing each answer weighted 4x (stage 3 did not stop after
  # 'the bell tower' in the README's sample)
  /usr/bin/python3 tools/train_demo_model.py train --corpus CORPUS_DIR \
      --out resources/models/folio-demo.gguf --seed 1237 --minutes 16 --init stage3.gguf \
      --app-format 0.5 --lr 3e-4 --start-len 256 --dca-temperature 0.1 --long-frac 0.3 \
      --long-min 1000 --long-len 4000 --long-batch 1 --threads 1 --end-weight 4
  /usr/bin/python3 tools/train_demo_model.py sample --corpus CORPUS_DIR
  build/release/bench/folio-bench passkey --model resources/models/folio-demo.gguf --tasks all

One thread on purpose, and OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1 set before torch
loads (below): Debian's torch 1.13 does its matrix products in OpenBLAS, whose own
worker thread ignores torch.set_num_threads and spin-waits; on a busy 2-core machine
that thread starved the trainer to under 10% of a core.

CORPUS_DIR holds public-domain books as UTF-8 .txt files (we used Project Gutenberg's
Moby-Dick). Chapters 1-12 and 36-41 are held out: resources/samples/ takes the benchmark
filler and the long sample from them, so evaluation never sees training text.
The prompt format, needle/question templates and the evaluation protocol are described
in resources/models/folio-demo.md and resources/models/folio-demo-tasks.json.
"""
import argparse
import math
import os
import random
import struct
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy/torch load OpenBLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_model_text import (  # noqa: E402
    IM_END, IM_START, SPECIALS, BpeTokenizer, chat_prompt, held_out_split, load_corpus,
    learn_bpe, make_app_example, make_training_example, make_eval_prompt, load_tasks, paragraph_starts,
    write_sample)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASKS_JSON = os.path.join(REPO, "resources", "models", "folio-demo-tasks.json")

# ---------------------------------------------------------------- GGUF

GGUF_TYPES = {"u8": 0, "i32": 5, "u32": 4, "f32": 6, "bool": 7, "str": 8, "arr": 9}
GGML_F32, GGML_F16 = 0, 1


def _gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _gguf_value(kind, value):
    if kind == "str":
        return _gguf_str(value)
    if kind == "u32":
        return struct.pack("<I", value)
    if kind == "i32":
        return struct.pack("<i", value)
    if kind == "f32":
        return struct.pack("<f", value)
    if kind == "bool":
        return struct.pack("<B", 1 if value else 0)
    raise ValueError(kind)


def write_gguf(path, kvs, tensors, alignment=32):
    """kvs: list of (key, kind, value), kind 'str'/'u32'/'i32'/'f32'/'bool' or
    ('arr', elem_kind); tensors: list of (name, np.ndarray float32/float16) in
    numpy (row-major) shape, written with ggml dims reversed ({cols, rows})."""
    out = bytearray(b"GGUF")
    out += struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, kind, value in kvs:
        out += _gguf_str(key)
        if isinstance(kind, tuple):
            elem = kind[1]
            out += struct.pack("<IIQ", GGUF_TYPES["arr"], GGUF_TYPES[elem], len(value))
            for v in value:
                out += _gguf_value(elem, v)
        else:
            out += struct.pack("<I", GGUF_TYPES[kind]) + _gguf_value(kind, value)
    offset = 0
    blobs = []
    for name, array in tensors:
        ggml_type = GGML_F16 if array.dtype == np.float16 else GGML_F32
        out += _gguf_str(name) + struct.pack("<I", array.ndim)
        for d in reversed(array.shape):
            out += struct.pack("<Q", d)
        out += struct.pack("<IQ", ggml_type, offset)
        data = np.ascontiguousarray(array).tobytes()
        blobs.append(data)
        offset += (len(data) + alignment - 1) // alignment * alignment
    out += b"\0" * ((-len(out)) % alignment)
    for data in blobs:
        out += data + b"\0" * ((-len(data)) % alignment)
    with open(path, "wb") as f:
        f.write(out)


def read_gguf(path):
    """Reads back what write_gguf writes (our own files only): (kv dict, tensors)."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return vals if len(vals) > 1 else vals[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B", 10: "<Q", 11: "<q", 12: "<d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<IQ")
            return [value(et) for _ in range(n)]
        return take(scalar[t])

    assert buf[:4] == b"GGUF"
    pos = 4
    _, n_tensors, n_kv = take("<IQQ")
    kv = {}
    for _ in range(n_kv):
        key = string()
        kv[key] = value(take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        nd = take("<I")
        dims = [take("<Q") for _ in range(nd)]
        t, off = take("<IQ")
        infos.append((name, dims, t, off))
    align = kv.get("general.alignment", 32)
    base = (pos + align - 1) // align * align
    tensors = {}
    for name, dims, t, off in infos:
        dtype = np.float16 if t == GGML_F16 else np.float32
        count = int(np.prod(dims))
        arr = np.frombuffer(buf, dtype=dtype, count=count, offset=base + off)
        tensors[name] = torch.from_numpy(arr.astype(np.float32).reshape(list(reversed(dims))))
    return kv, tensors


def tokenizer_kvs(tok, chat_template=True):
    kvs = [
        ("tokenizer.ggml.model", "str", "gpt2"),
        ("tokenizer.ggml.pre", "str", "qwen2"),
        ("tokenizer.ggml.tokens", ("arr", "str"), tok.tokens),
        ("tokenizer.ggml.token_type", ("arr", "i32"), tok.token_types()),
        ("tokenizer.ggml.merges", ("arr", "str"), tok.merge_strings()),
        ("tokenizer.ggml.bos_token_id", "u32", tok.special[SPECIALS[0]]),
        ("tokenizer.ggml.eos_token_id", "u32", tok.special[IM_END]),
        ("tokenizer.ggml.padding_token_id", "u32", tok.special[SPECIALS[0]]),
        ("tokenizer.ggml.add_bos_token", "bool", False),
    ]
    if chat_template:
        kvs.append(("tokenizer.chat_template", "str", CHATML_JINJA))
    return kvs


# The usual ChatML Jinja text; Folio recognises it by "<|im_start|>".
CHATML_JINJA = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] "
                "+ '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                "{% endif %}")

# ---------------------------------------------------------------- model


ARCHS = ("llama", "qwen3", "gemma3")
# Gemma 3 files: five local (sliding-window) layers, then a global one; the engine fixes
# the period (engine/model/family.cpp), so the 4 layers of the demo shapes are all local.
GEMMA3_GLOBAL_PERIOD = 6
# Our gemma3 window: longer than every sequence the trainer reads (--long-len 4000), so
# training is exact; the engine applies it beyond that (32x = 8192 tokens).
GEMMA3_WINDOW = 4096


class Config:
    """Shapes and the arch's conventions, as the engine reads them from the GGUF:
    llama: RoPE pairs (2i, 2i+1), SiLU; qwen3: + RMSNorm of each q/k head before RoPE,
    RoPE pairs (i, i+D/2); gemma3: qwen3's + GELU-tanh gate, RMSNorm of the attention
    and FFN outputs before the residual adds, embeddings times sqrt(dim) on input (the
    tied output uses them unscaled), plain RMSNorm weights (no 1 + w: the engine reads
    converted files, whose weights already hold the 1), sliding-window local layers with
    their own RoPE base. All tie the output to the embedding; no logit soft-capping."""

    def __init__(self, vocab, dim=160, layers=5, heads=4, kv_heads=2, ffn=432, ctx=256, base=10000.0, eps=None,
                 arch="llama", window=GEMMA3_WINDOW, base_swa=10000.0):
        assert arch in ARCHS, arch
        self.vocab, self.dim, self.layers, self.heads, self.kv_heads = vocab, dim, layers, heads, kv_heads
        self.ffn, self.ctx, self.base = ffn, ctx, base
        self.eps = eps if eps is not None else (1e-5 if arch == "llama" else 1e-6)
        self.head_dim = dim // heads
        self.arch = arch
        self.qk_norm = arch in ("qwen3", "gemma3")
        self.neox = arch in ("qwen3", "gemma3")
        self.gemma = arch == "gemma3"
        self.window = window if self.gemma else 0
        self.base_swa = base_swa

    def rotate(self, x, cos, sin):
        return rotate_neox(x, cos, sin) if self.neox else rotate(x, cos, sin)

    def is_global(self, li):
        return not self.gemma or (li + 1) % GEMMA3_GLOBAL_PERIOD == 0

    def layer_base(self, li):
        return self.base if self.is_global(li) else self.base_swa


class Rope:
    """Rotation tables for one way of turning positions into angles (notes/dca.md §9):
    'normal' pairs (x[2i], x[2i+1]); freq_scale < 1 is PI, a larger base NTK,
    ext (YaRN ramp) mixes interpolated and original angles; mscale multiplies cos/sin."""

    def __init__(self, head_dim, base=10000.0, freq_scale=1.0, yarn_orig_ctx=0, mscale=1.0):
        i = torch.arange(head_dim // 2, dtype=torch.float64)
        inv = base ** (-2.0 * i / head_dim)
        if yarn_orig_ctx:
            def corr(nr):
                return head_dim * math.log(yarn_orig_ctx / (2 * math.pi * nr)) / (2 * math.log(base))
            low = max(0.0, math.floor(corr(32.0)))
            high = min(head_dim - 1.0, math.ceil(corr(1.0)))
            ramp = (1 - torch.clamp((i - low) / max(0.001, high - low), 0, 1))
            self.inv = inv * freq_scale * (1 - ramp) + inv * ramp
            mscale = mscale * (1 + 0.1 * math.log(1 / freq_scale))
        else:
            self.inv = inv * freq_scale
        self.mscale = mscale

    def tables(self, positions):
        theta = positions.to(torch.float64)[:, None] * self.inv[None, :]
        return ((torch.cos(theta) * self.mscale).float(), (torch.sin(theta) * self.mscale).float())


def rotate(x, cos, sin):
    """x (..., T, D) with cos/sin (T, D/2): rotates pairs (x[2i], x[2i+1])."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack((y0, y1), dim=-1).flatten(-2)


def rotate_neox(x, cos, sin):
    """x (..., T, D) with cos/sin (T, D/2): rotates pairs (x[i], x[i + D/2])."""
    h = x.shape[-1] // 2
    x0, x1 = x[..., :h], x[..., h:]
    return torch.cat((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)


def plain_attention(cfg, q, k, v, cos, sin, window=0):
    """Causal RoPE attention over q (B, H, T, D), k/v (B, KV, T, D); window > 0: a query
    at i sees the keys i - window + 1 .. i (the engine's sliding window)."""
    T = q.shape[2]
    q, k = cfg.rotate(q, cos, sin), cfg.rotate(k, cos, sin)
    g = cfg.heads // cfg.kv_heads
    k = k.repeat_interleave(g, dim=1)
    v = v.repeat_interleave(g, dim=1)
    mask = torch.full((T, T), float("-inf")).triu(1)
    if window and T > window:
        mask = mask + torch.full((T, T), float("-inf")).tril(-window)
    s = q @ k.transpose(-1, -2) / math.sqrt(cfg.head_dim) + mask
    return torch.softmax(s, dim=-1) @ v


class DcaTraining:
    """Dual Chunk Attention over a whole sequence, differentiable, as the engine reads with
    it (engine/attention/dual_chunk_attention.cpp): chunk C, local window W, S = C - W;
    keys rotated at j mod S; a query at i in chunk c = i div S is rotated at r = i mod S
    for the keys of chunk c (causal), at min(S + r, C) for those of chunk c - 1 and at
    min(2S - 1, C) for all earlier ones; its logits times m^2, m = 1 + k ln((i + 1) / L)
    for i + 1 > L (the trained length), else 1. Computed one query chunk at a time, so
    no score is made that causality throws away."""

    def __init__(self, cfg, T, chunk, window, temp_k):
        self.cfg, self.C, self.W = cfg, chunk, window
        self.S = S = chunk - window
        rope = Rope(cfg.head_dim, cfg.base)
        pos = torch.arange(T)
        r = pos % S
        self.key_rot = rope.tables(r)
        self.intra_rot = self.key_rot
        self.succ_rot = rope.tables(torch.clamp(S + r, max=chunk))
        self.inter_rot = rope.tables(torch.full_like(r, min(2 * S - 1, chunk)))
        seen = (pos + 1).double()
        m = torch.where(seen > cfg.ctx, 1 + temp_k * torch.log(seen / cfg.ctx), torch.ones_like(seen))
        self.scale = ((m * m) / math.sqrt(cfg.head_dim)).float()[:, None]  # (T, 1)
        self.mask = torch.full((S, S), float("-inf")).triu(1)

    def __call__(self, li, q, k, v, cache, start):
        cfg, S = self.cfg, self.S
        T = q.shape[2]
        g = cfg.heads // cfg.kv_heads
        rot = cfg.rotate
        K = rot(k, *self.key_rot).repeat_interleave(g, dim=1)
        V = v.repeat_interleave(g, dim=1)
        qi, qs, qx = (rot(q, *self.intra_rot), rot(q, *self.succ_rot), rot(q, *self.inter_rot))
        out = []
        for c in range(0, (T + S - 1) // S):
            a, b = c * S, min((c + 1) * S, T)
            parts = []
            if c >= 2:
                parts.append(qx[:, :, a:b] @ K[:, :, :a - S].transpose(-1, -2))
            if c >= 1:
                parts.append(qs[:, :, a:b] @ K[:, :, a - S:a].transpose(-1, -2))
            parts.append(qi[:, :, a:b] @ K[:, :, a:b].transpose(-1, -2) + self.mask[:b - a, :b - a])
            sc = torch.cat(parts, dim=-1) * self.scale[a:b]
            out.append(torch.softmax(sc, dim=-1) @ V[:, :, :b])
        return torch.cat(out, dim=2)


class Llama(torch.nn.Module):
    """The demo model of any of ARCHS (cfg.arch); the name stays from the first one."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, hd = cfg.dim, cfg.head_dim
        self.tok = torch.nn.Embedding(cfg.vocab, d)
        torch.nn.init.normal_(self.tok.weight, std=0.02)
        self.blocks = torch.nn.ModuleList()
        for _ in range(cfg.layers):
            b = torch.nn.Module()
            b.attn_norm = torch.nn.Parameter(torch.ones(d))
            b.wq = torch.nn.Linear(d, cfg.heads * hd, bias=False)
            b.wk = torch.nn.Linear(d, cfg.kv_heads * hd, bias=False)
            b.wv = torch.nn.Linear(d, cfg.kv_heads * hd, bias=False)
            b.wo = torch.nn.Linear(cfg.heads * hd, d, bias=False)
            b.ffn_norm = torch.nn.Parameter(torch.ones(d))
            b.gate = torch.nn.Linear(d, cfg.ffn, bias=False)
            b.up = torch.nn.Linear(d, cfg.ffn, bias=False)
            b.down = torch.nn.Linear(cfg.ffn, d, bias=False)
            if cfg.qk_norm:
                b.q_norm = torch.nn.Parameter(torch.ones(hd))
                b.k_norm = torch.nn.Parameter(torch.ones(hd))
            if cfg.gemma:
                b.post_attn_norm = torch.nn.Parameter(torch.ones(d))
                b.post_ffn_norm = torch.nn.Parameter(torch.ones(d))
            for lin in (b.wo, b.down):
                torch.nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * cfg.layers))
            self.blocks.append(b)
        self.out_norm = torch.nn.Parameter(torch.ones(d))
        self.capture = None  # a list: forward appends each layer's activation sizes (init_from_llama)

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg.eps) * w

    def forward(self, ids, attend=None, cache=None, start=0, dca=None):
        """ids (B, T). Without `attend`: plain causal RoPE attention (training), or with
        dca=(C, W, k) Dual Chunk Attention as the engine computes it (dca_attention, also
        training; in a gemma3 model only its global layers, the local ones stay plain with
        their window, as in the engine). With `attend(layer, q, k, v, cache, start)`: the
        evaluation methods (llama and qwen3; gemma3's local layers are not modelled there)."""
        cfg = self.cfg
        B, T = ids.shape
        x = self.tok(ids)
        if cfg.gemma:
            x = x * torch.tensor(math.sqrt(cfg.dim), dtype=torch.float32)
        dca_train = DcaTraining(cfg, T, *dca) if dca is not None else None
        tables = {}
        if attend is None:
            for li in range(cfg.layers):
                base = cfg.layer_base(li)
                if base not in tables:
                    tables[base] = Rope(cfg.head_dim, base).tables(torch.arange(T))
        for li, b in enumerate(self.blocks):
            h = self.norm(x, b.attn_norm)
            q = b.wq(h).view(B, T, cfg.heads, cfg.head_dim).transpose(1, 2)
            k = b.wk(h).view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
            v = b.wv(h).view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
            if self.capture is not None:
                rms = lambda t: t.pow(2).mean(-1).sqrt().mean().item()  # noqa: E731
                self.capture.append({"q": rms(q), "k": rms(k)})
            if cfg.qk_norm:
                q, k = self.norm(q, b.q_norm), self.norm(k, b.k_norm)
            if attend is not None:
                o = attend(li, q, k, v, cache, start)
            elif dca_train is not None and cfg.is_global(li):
                o = dca_train(li, q, k, v, cache, start)
            else:
                o = plain_attention(cfg, q, k, v, *tables[cfg.layer_base(li)],
                                    window=0 if cfg.is_global(li) else cfg.window)
            a = b.wo(o.transpose(1, 2).reshape(B, T, -1))
            if self.capture is not None:
                self.capture[-1]["attn"] = a.pow(2).mean(-1).sqrt().mean().item()
            x = x + (self.norm(a, b.post_attn_norm) if cfg.gemma else a)
            h = self.norm(x, b.ffn_norm)
            if cfg.gemma:
                f = b.down(F.gelu(b.gate(h), approximate="tanh") * b.up(h))
            else:
                f = b.down(F.silu(b.gate(h)) * b.up(h))
            if self.capture is not None:
                self.capture[-1]["ffn"] = f.pow(2).mean(-1).sqrt().mean().item()
            x = x + (self.norm(f, b.post_ffn_norm) if cfg.gemma else f)
        return self.norm(x, self.out_norm) @ self.tok.weight.t()

    def gguf_tensors(self):
        f16 = lambda t: t.detach().numpy().astype(np.float16)  # noqa: E731
        f32 = lambda t: t.detach().numpy().astype(np.float32)  # noqa: E731
        out = [("token_embd.weight", f16(self.tok.weight))]
        for i, b in enumerate(self.blocks):
            p = f"blk.{i}."
            out += [(p + "attn_norm.weight", f32(b.attn_norm)), (p + "attn_q.weight", f16(b.wq.weight)),
                    (p + "attn_k.weight", f16(b.wk.weight)), (p + "attn_v.weight", f16(b.wv.weight)),
                    (p + "attn_output.weight", f16(b.wo.weight)), (p + "ffn_norm.weight", f32(b.ffn_norm)),
                    (p + "ffn_gate.weight", f16(b.gate.weight)), (p + "ffn_up.weight", f16(b.up.weight)),
                    (p + "ffn_down.weight", f16(b.down.weight))]
            if self.cfg.qk_norm:
                out += [(p + "attn_q_norm.weight", f32(b.q_norm)), (p + "attn_k_norm.weight", f32(b.k_norm))]
            if self.cfg.gemma:
                out += [(p + "post_attention_norm.weight", f32(b.post_attn_norm)),
                        (p + "post_ffw_norm.weight", f32(b.post_ffn_norm))]
        out.append(("output_norm.weight", f32(self.out_norm)))
        return out

    def model_kvs(self, name, dca_temperature=0.0):
        c = self.cfg
        a = c.arch
        extra = [(a + ".dca.temperature", "f32", dca_temperature)] if dca_temperature > 0 else []
        if c.gemma:
            extra += [(a + ".attention.sliding_window", "u32", c.window),
                      (a + ".rope.freq_base_swa", "f32", c.base_swa),
                      (a + ".attention.query_pre_attn_scalar", "f32", float(c.head_dim))]
        if c.arch != "llama":
            extra += [(a + ".attention.key_length", "u32", c.head_dim),
                      (a + ".attention.value_length", "u32", c.head_dim)]
        return [
            ("general.architecture", "str", a),
            ("general.name", "str", name),
            ("general.license", "str", "CC0-1.0"),
            (a + ".context_length", "u32", c.ctx),
            (a + ".embedding_length", "u32", c.dim),
            (a + ".block_count", "u32", c.layers),
            (a + ".feed_forward_length", "u32", c.ffn),
            (a + ".attention.head_count", "u32", c.heads),
            (a + ".attention.head_count_kv", "u32", c.kv_heads),
            (a + ".rope.dimension_count", "u32", c.head_dim),
            (a + ".rope.freq_base", "f32", c.base),
            (a + ".attention.layer_norm_rms_epsilon", "f32", c.eps),
        ] + extra


def load_gguf_model(path):
    kv, t = read_gguf(path)
    a = kv.get("general.architecture", "llama")
    cfg = Config(vocab=t["token_embd.weight"].shape[0], dim=kv[a + ".embedding_length"],
                 layers=kv[a + ".block_count"], heads=kv[a + ".attention.head_count"],
                 kv_heads=kv[a + ".attention.head_count_kv"], ffn=kv[a + ".feed_forward_length"],
                 ctx=kv[a + ".context_length"], base=kv[a + ".rope.freq_base"],
                 eps=kv[a + ".attention.layer_norm_rms_epsilon"], arch=a,
                 window=kv.get(a + ".attention.sliding_window", GEMMA3_WINDOW),
                 base_swa=kv.get(a + ".rope.freq_base_swa", 10000.0))
    m = Llama(cfg)
    with torch.no_grad():
        m.tok.weight.copy_(t["token_embd.weight"])
        m.out_norm.copy_(t["output_norm.weight"])
        for i, b in enumerate(m.blocks):
            p = f"blk.{i}."
            norms = [(b.attn_norm, "attn_norm"), (b.ffn_norm, "ffn_norm")]
            if cfg.qk_norm:
                norms += [(b.q_norm, "attn_q_norm"), (b.k_norm, "attn_k_norm")]
            if cfg.gemma:
                norms += [(b.post_attn_norm, "post_attention_norm"), (b.post_ffn_norm, "post_ffw_norm")]
            for w, n in norms:
                w.copy_(t[p + n + ".weight"])
            for lin, n in ((b.wq, "attn_q"), (b.wk, "attn_k"), (b.wv, "attn_v"), (b.wo, "attn_output"),
                           (b.gate, "ffn_gate"), (b.up, "ffn_up"), (b.down, "ffn_down")):
                lin.weight.copy_(t[p + n + ".weight"])
    tok = BpeTokenizer.from_gguf_kv(kv)
    return m.eval(), tok, kv


# GELU-tanh(x / c) c is close to SiLU(x) = x sigmoid(x) (GELU(x) ~ x sigmoid(1.702 x)).
GELU_FOR_SILU = 1.702


@torch.no_grad()
def init_from_llama(llama, arch, calib_ids):
    """A model of `arch` computing about what the llama model computes: its weights where
    they map; q/k rows of each head reordered from RoPE pairs (2i, 2i+1) to (i, i+D/2) (exact);
    q/k norm weights the mean RMS of that layer's q/k heads on calib_ids (the norm then
    gives each head its typical size back); gemma3: post-norm weights the mean RMS of the
    attention/FFN output times sqrt(dim) (the embedding scale: the whole residual stream
    is sqrt(dim) times the llama one, which the pre-norms do not see), gate rows / 1.702 and
    up rows * 1.702 (GELU-tanh for SiLU). Not exact (the norms fix each vector's size), so
    fine-tuning follows."""
    src = llama.cfg
    assert src.arch == "llama", "--init with another --arch needs a llama file"
    llama.capture = []
    llama(calib_ids)
    stats, llama.capture = llama.capture, None
    cfg = Config(src.vocab, dim=src.dim, layers=src.layers, heads=src.heads, kv_heads=src.kv_heads, ffn=src.ffn,
                 ctx=src.ctx, base=src.base, arch=arch)
    m = Llama(cfg)
    hd = cfg.head_dim
    perm = torch.cat((torch.arange(0, hd, 2), torch.arange(1, hd, 2)))

    def heads_perm(w, n):
        return w.view(n, hd, -1)[:, perm].reshape(n * hd, -1)

    m.tok.weight.copy_(llama.tok.weight)
    m.out_norm.copy_(llama.out_norm)
    for b, s, st in zip(m.blocks, llama.blocks, stats):
        b.attn_norm.copy_(s.attn_norm)
        b.ffn_norm.copy_(s.ffn_norm)
        b.wq.weight.copy_(heads_perm(s.wq.weight, cfg.heads))
        b.wk.weight.copy_(heads_perm(s.wk.weight, cfg.kv_heads))
        b.wv.weight.copy_(s.wv.weight)
        b.wo.weight.copy_(s.wo.weight)
        b.gate.weight.copy_(s.gate.weight)
        b.up.weight.copy_(s.up.weight)
        b.down.weight.copy_(s.down.weight)
        b.q_norm.fill_(st["q"])
        b.k_norm.fill_(st["k"])
        if cfg.gemma:
            b.gate.weight.div_(GELU_FOR_SILU)
            b.up.weight.mul_(GELU_FOR_SILU)
            b.post_attn_norm.fill_(st["attn"] * math.sqrt(cfg.dim))
            b.post_ffn_norm.fill_(st["ffn"] * math.sqrt(cfg.dim))
    return m

# ---------------------------------------------------------------- training


def corpus_texts(corpus_dir):
    names = sorted(n for n in os.listdir(corpus_dir) if n.endswith(".txt"))
    return [load_corpus(os.path.join(corpus_dir, n)) for n in names]


def build_tokenizer(train_text, vocab_size):
    t0 = time.time()
    tok = BpeTokenizer(learn_bpe(train_text, vocab_size))
    print(f"BPE: {len(tok.tokens)} tokens learned in {time.time() - t0:.0f} s", flush=True)
    return tok


def batch_from(examples, pad_id):
    """(inputs, targets, kinds) tensors, right-padded; padding has kind NO_LOSS."""
    T = max(len(ids) for ids, _ in examples) - 1
    inp = torch.full((len(examples), T), pad_id, dtype=torch.long)
    tgt = torch.full((len(examples), T), pad_id, dtype=torch.long)
    kind = torch.zeros((len(examples), T), dtype=torch.long)
    for b, (ids, kinds) in enumerate(examples):
        n = len(ids) - 1
        inp[b, :n] = torch.tensor(ids[:-1])
        tgt[b, :n] = torch.tensor(ids[1:])
        kind[b, :n] = torch.tensor(kinds[1:])
    return inp, tgt, kind


def train(args):
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    train_text = held_out_split(corpus_texts(args.corpus))
    tok = build_tokenizer(train_text, args.vocab)
    tasks = load_tasks(TASKS_JSON)
    starts = [s for s in paragraph_starts(train_text) if s < len(train_text) - 4000]
    long_starts = [s for s in paragraph_starts(train_text) if s < len(train_text) - 5 * args.long_len]
    dca = (args.dca_chunk, args.dca_window, args.dca_temperature)
    cfg = Config(len(tok.tokens), dim=args.dim, layers=args.layers, heads=args.heads, kv_heads=args.kv_heads,
                 ffn=args.ffn, ctx=args.ctx, arch=args.arch)
    model = Llama(cfg)
    if args.init:  # continue from an earlier run's GGUF (same seed, so the same vocabulary)
        model, init_tok, _ = load_gguf_model(args.init)
        assert init_tok.tokens == tok.tokens, "the --init model has another vocabulary"
        if model.cfg.arch != args.arch:  # a llama file as the start of another arch
            model = init_from_llama(model, args.arch, calibration_ids(tok, train_text, starts, tasks, args.seed))
            print(f"--init: {args.init} (llama) mapped to {args.arch}", flush=True)
        cfg = model.cfg
        model.train()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f} M parameters, dim {cfg.dim}, {cfg.layers} layers, "
          f"{cfg.heads}/{cfg.kv_heads} heads, ffn {cfg.ffn}, vocab {cfg.vocab}, context {cfg.ctx}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    pad = tok.special[SPECIALS[0]]
    budget = args.minutes * 60.0
    t0 = time.time()
    step, seen_tokens = 0, 0
    log_ans, log_txt, log_acc = [], [], []
    long_log = {"steps": 0, "tokens": 0, "seconds": 0.0, "acc": []}
    ready = []
    while True:
        elapsed = time.time() - t0
        if elapsed > budget:
            break
        frac = elapsed / budget
        warm = min(1.0, (step + 1) / (20 if args.init else 50))
        lr = args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        long = args.long_frac > 0 and rng.random() < args.long_frac
        t_step = time.time()
        if long:  # conversations of long_min..long_len tokens, read with DCA as the engine reads
            examples = []
            while len(examples) < args.long_batch:
                make = make_app_example if rng.random() < args.app_format else make_training_example
                ex = make(rng, tok, train_text, long_starts, tasks, args.long_len, min_tokens=args.long_min)
                if ex:
                    examples.append(ex)
            batch = examples
        elif not ready:  # batches of similar lengths waste less on padding
            pool = []
            # curriculum: short conversations first (cheap, and copying is found sooner)
            longest = int(min(cfg.ctx, args.start_len + (cfg.ctx - args.start_len) * frac / args.ramp))
            while len(pool) < args.batch * 4:
                make = make_app_example if rng.random() < args.app_format else make_training_example
                ex = make(rng, tok, train_text, starts, tasks, longest)
                if ex:
                    pool.append(ex)
            pool.sort(key=lambda ex: len(ex[0]))
            ready = [pool[i:i + args.batch] for i in range(0, len(pool), args.batch)]
            rng.shuffle(ready)
        if not long:
            batch = ready.pop()
        inp, tgt, kind = batch_from(batch, pad)
        logits = model(inp, dca=dca if long else None)
        ce = F.cross_entropy(logits.view(-1, cfg.vocab), tgt.view(-1), reduction="none").view(tgt.shape)
        ans, txt = kind >= 2, kind == 1
        # the <|im_end|> closing an answer (kind 3) counts end_weight times: stopping
        # right after a copied answer is what a reader sees first when it fails
        w_ans = ans.float() + (args.end_weight - 1.0) * (kind == 3).float()
        loss_ans = (ce * w_ans).sum() / w_ans.sum().clamp(min=1)
        loss_txt = (ce * txt).sum() / txt.sum().clamp(min=1)
        loss = loss_ans + args.text_weight * loss_txt
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen_tokens += tgt.numel()
        with torch.no_grad():
            acc = ((logits.argmax(-1) == tgt) | ~ans).all(-1).float().mean().item()
        if long:
            long_log["steps"] += 1
            long_log["tokens"] += tgt.numel()
            long_log["seconds"] += time.time() - t_step
            long_log["acc"].append(acc)
        else:
            log_ans.append(loss_ans.item())
            log_txt.append(loss_txt.item())
            log_acc.append(acc)
        if step % args.log_every == 0:
            k = args.log_every
            line = (f"step {step} {elapsed / 60:.1f} min lr {lr:.2e} answer loss {np.mean(log_ans[-k:]):.3f} "
                    f"text loss {np.mean(log_txt[-k:]):.3f} answers all-correct {np.mean(log_acc[-k:]):.2f} "
                    f"tokens {seen_tokens / 1e6:.2f} M")
            if long_log["steps"]:
                line += (f"; long (DCA): {long_log['steps']} batches, {long_log['tokens'] / 1e6:.2f} M tokens, "
                         f"{long_log['seconds'] / 60:.1f} min, all-correct {np.mean(long_log['acc'][-20:]):.2f}")
            print(line, flush=True)
        if args.checkpoint_every and step % args.checkpoint_every == 0:
            save(model, tok, args.out, cfg, args.dca_temperature)
    save(model, tok, args.out, cfg, args.dca_temperature)
    print(f"done: {step} steps, {seen_tokens / 1e6:.2f} M tokens, {(time.time() - t0) / 60:.1f} min; wrote {args.out}",
          flush=True)


def calibration_ids(tok, train_text, starts, tasks, seed, count=4, max_tokens=256):
    """A few training conversations (their own random stream) to size init_from_llama's norms."""
    rng = random.Random(seed + 7919)
    examples = []
    while len(examples) < count:
        ex = make_training_example(rng, tok, train_text, starts, tasks, max_tokens)
        if ex:
            examples.append(ex)
    return batch_from(examples, tok.special[SPECIALS[0]])[0]


def save(model, tok, path, cfg, dca_temperature=0.0):
    kvs = model.model_kvs("Folio demo (planted-fact retrieval, %d-token training context)" % cfg.ctx, dca_temperature)
    write_gguf(path, kvs + tokenizer_kvs(tok), model.gguf_tensors())


def write_vocab(args):
    train_text = held_out_split(corpus_texts(args.corpus))
    tok = build_tokenizer(train_text, args.vocab)
    write_gguf(args.out, [("general.architecture", "str", "llama")] + tokenizer_kvs(tok), [])
    with open(args.out + ".train.txt", "w", encoding="utf-8") as f:
        f.write(train_text)
    print("wrote", args.out, "and", args.out + ".train.txt")

# ---------------------------------------------------------------- long-context evaluation


class Attention:
    """One context-extension method as an `attend` callback of Llama.forward, with a
    KV cache: 'none', 'pi', 'ntk', 'yarn' (notes/dca.md §9, scale s) and 'dca' (§6.1,
    chunk C, local window W, optional §7 temperature m = 1 + k ln(T/L))."""

    def __init__(self, method, cfg, train_ctx, scale, total_len, chunk=None, window=None, temp_k=0.0):
        hd, base = cfg.head_dim, cfg.base
        self.cfg, self.method = cfg, method
        s = max(1.0, scale)
        if method == "pi":
            self.rope = Rope(hd, base, freq_scale=1 / s)
        elif method == "ntk":
            self.rope = Rope(hd, base * s ** (hd / (hd - 2)))
        elif method == "yarn" and s > 1:
            self.rope = Rope(hd, base, freq_scale=1 / s, yarn_orig_ctx=train_ctx)
        else:
            self.rope = Rope(hd, base)
        self.C = chunk or train_ctx * 3 // 4
        self.W = window if window is not None else train_ctx // 8
        self.S = self.C - self.W
        m = 1 + temp_k * math.log(total_len / train_ctx) if (temp_k and total_len > train_ctx) else 1.0
        self.logit_scale = m * m / math.sqrt(hd)
        self.keys = [None] * cfg.layers
        self.values = [None] * cfg.layers

    def __call__(self, li, q, k, v, cache, start):
        cfg, S, C = self.cfg, self.S, self.C
        Tq = q.shape[2]
        pos = torch.arange(start, start + Tq)
        dca = self.method.startswith("dca")
        cos, sin = self.rope.tables(pos % S if dca else pos)
        k = cfg.rotate(k, cos, sin)
        self.keys[li] = k if self.keys[li] is None else torch.cat((self.keys[li], k), dim=2)
        self.values[li] = v if self.values[li] is None else torch.cat((self.values[li], v), dim=2)
        g = cfg.heads // cfg.kv_heads
        K = self.keys[li].repeat_interleave(g, dim=1)
        V = self.values[li].repeat_interleave(g, dim=1)
        out = []
        for b0 in range(0, Tq, 256):
            qp = pos[b0:b0 + 256]
            qb = q[:, :, b0:b0 + 256]
            n_keys = int(qp[-1]) + 1  # causal: later keys are never needed
            Kb, kpos = K[:, :, :n_keys], torch.arange(n_keys)
            causal = kpos[None, :] > qp[:, None]
            if not dca:
                c, s_ = self.rope.tables(qp)
                sc = cfg.rotate(qb, c, s_) @ Kb.transpose(-1, -2)
            else:
                r = qp % S
                c, s_ = self.rope.tables(torch.full_like(r, min(2 * S - 1, C)))
                sc = cfg.rotate(qb, c, s_) @ Kb.transpose(-1, -2)  # inter, then the near keys
                near = max(0, (int(qp[0]) // S - 1) * S)
                qc, kc = (qp // S)[:, None], (kpos[near:] // S)[None, :]
                parts = []
                for p in (r, torch.clamp(S + r, max=C)):
                    c, s_ = self.rope.tables(p)
                    parts.append(cfg.rotate(qb, c, s_) @ Kb[:, :, near:].transpose(-1, -2))
                sc[..., near:] = torch.where(kc == qc, parts[0], torch.where(kc == qc - 1, parts[1], sc[..., near:]))
            sc = (sc * self.logit_scale).masked_fill(causal, float("-inf"))
            out.append(torch.softmax(sc, dim=-1) @ V[:, :, :n_keys])
        return torch.cat(out, dim=2)


@torch.no_grad()
def generate_answer(model, tok, prompt_ids, attn, max_new=16, repeat_penalty=1.0):
    """Greedy answer; repeat_penalty mirrors the engine's Sampler (each token among the
    last 64 of the session: positive logits divided, negative multiplied)."""
    def pick(row, history):
        if repeat_penalty != 1.0:
            row = row.clone()
            for t in set(history[-64:]):
                row[t] = row[t] / repeat_penalty if row[t] > 0 else row[t] * repeat_penalty
        return int(row.argmax())
    logits = model(torch.tensor([prompt_ids]), attend=attn, start=0)
    out, pos = [], len(prompt_ids)
    nxt = pick(logits[0, -1], prompt_ids)
    while nxt != tok.special[IM_END] and len(out) < max_new:
        out.append(nxt)
        logits = model(torch.tensor([[nxt]]), attend=attn, start=pos)
        pos += 1
        nxt = pick(logits[0, -1], prompt_ids + out)
    return tok.decode(out)


def cli_answer(cli, model_path, prompt, method, temp_k, scale):
    """The same prompt answered by the C++ engine (folio-cli generate --chat)."""
    import subprocess
    head, tail = f"{IM_START}user\n", f"{IM_END}\n{IM_START}assistant\n"
    assert prompt.startswith(head) and prompt.endswith(tail)
    cmd = [cli, "generate", "--model", model_path, "--prompt", prompt[len(head):-len(tail)], "--chat",
           "-n", "16", "--temp", "0", "--threads", "1"]
    if method in ("pi", "ntk", "yarn"):
        cmd += ["--rope-scaling", {"pi": "linear"}.get(method, method), "--rope-scale", str(scale)]
    elif method == "dca":
        cmd += ["--dca"] + (["--dca-temperature", temp_k] if temp_k else [])
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        raise RuntimeError(run.stderr)
    return run.stdout


def evaluate(args):
    torch.set_num_threads(args.threads)
    model, tok, kv = load_gguf_model(args.model)
    L = kv["llama.context_length"]
    tasks = load_tasks(TASKS_JSON)
    with open(os.path.join(REPO, tasks["filler_file"]), encoding="utf-8") as f:
        filler = f.read()
    methods = args.methods.split(",")
    ratios = [float(r) for r in args.ratios.split(",")]
    print("| method | " + " | ".join(f"{r:g}x ({int(r * L)})" for r in ratios) + " |")
    print("|---|" + "---|" * len(ratios))
    prompts = {}
    for r in ratios:
        rng = random.Random(1000 + int(r * 100))
        prompts[r] = []
        for i in range(args.samples):
            task = tasks["tasks"][i % len(tasks["tasks"])]
            depth = tasks["depths"][(i // len(tasks["tasks"])) % len(tasks["depths"])]
            p, a, _ = make_eval_prompt(tok, tasks, filler, task, rng, depth, int(r * L))
            prompts[r].append((tok.encode(p), a, task["name"], depth, p))
    for method in methods:
        name, _, k = method.partition(":")
        cells = []
        for r in ratios:
            t0 = time.time()
            ok = 0
            misses = []
            for ids, answer, task_name, depth, text in prompts[r]:
                if args.cli:
                    got = cli_answer(args.cli, args.model, text, name, k, r).strip()
                else:
                    attn = Attention(name, model.cfg, L, r, len(ids), temp_k=float(k or 0))
                    got = generate_answer(model, tok, ids, attn, repeat_penalty=args.repeat_penalty).strip()
                ok += got == answer
                if got != answer and len(misses) < 3:
                    misses.append(f"{task_name}@{depth}: {got!r} != {answer!r}")
            cells.append(f"{100 * ok / len(prompts[r]):.0f}%")
            print(f"  [{method} {r:g}x: {ok}/{len(prompts[r])} in {time.time() - t0:.0f} s; {'; '.join(misses)}]",
                  file=sys.stderr, flush=True)
        print(f"| {method} | " + " | ".join(cells) + " |", flush=True)


def check_prompt(args):
    """Prints the token ids Python gives a text (to diff with folio-cli tokenize) or,
    with --logits, compares Python's last-token logits with folio-cli logits' file."""
    model, tok, kv = load_gguf_model(args.model)
    text = open(args.file, encoding="utf-8").read()
    ids = tok.encode(text, special=False)
    if not args.logits:
        print(" ".join(map(str, ids)))
        return
    raw = open(args.logits, "rb").read()
    n, vocab, rows = struct.unpack_from("<iii", raw, 0)
    cpp_ids = list(struct.unpack_from(f"<{n}i", raw, 12))
    cpp = np.frombuffer(raw, dtype=np.float32, offset=12 + 4 * n).reshape(rows, vocab)
    assert cpp_ids == ids, "token ids differ"
    with torch.no_grad():
        py = model(torch.tensor([ids]))[0, -rows:].numpy()
    diff = np.abs(py - cpp).max()
    print(f"{n} tokens, {rows} rows of logits: max |python - engine| = {diff:.2e} "
          f"(logit range {py.min():.1f}..{py.max():.1f}); argmax equal on "
          f"{(py.argmax(-1) == cpp.argmax(-1)).mean() * 100:.1f}% of rows")


def check_engine(args):
    """The engine against this trainer for one arch: the --init llama model mapped to
    --arch (init_from_llama; its new norm weights jittered so that a swapped or misread
    one shows), written as GGUF and read back (F16 weights), then folio-cli logits on
    prefixes of --file of each --lengths (plain) and --dca-length (with --dca, against
    DcaTraining) tokens; prints max |diff| and argmax agreement over all rows."""
    import subprocess
    import tempfile
    torch.manual_seed(args.seed)
    llama, tok, _ = load_gguf_model(args.init)
    text = open(args.file, encoding="utf-8").read()
    ids = tok.encode(text, special=False)
    if args.arch == "llama":
        model = llama
    else:
        model = init_from_llama(llama, args.arch, torch.tensor([ids[:256]]))
        if args.window:
            model.cfg.window = args.window
        with torch.no_grad():
            for b in model.blocks:
                for n, w in b.named_parameters():
                    if n in ("q_norm", "k_norm", "post_attn_norm", "post_ffn_norm"):
                        w.mul_(1 + args.jitter * torch.randn_like(w))
    work = args.work or tempfile.mkdtemp(prefix="check-engine-")
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, f"check-{args.arch}.gguf")
    save(model, tok, path, model.cfg, args.dca_temperature)
    model, _, _ = load_gguf_model(path)
    runs = [(int(n), False) for n in args.lengths.split(",") if n] + ([(args.dca_length, True)] if args.dca_length else [])
    worst = 0.0
    for n, dca in runs:
        piece = tok.decode(ids[:n])
        want = tok.encode(piece, special=False)
        tpath, opath = os.path.join(work, f"text-{n}.txt"), os.path.join(work, f"logits-{args.arch}-{n}.bin")
        with open(tpath, "w", encoding="utf-8") as f:
            f.write(piece)
        cmd = [args.cli, "logits", "--model", path, "--file", tpath, "--out", opath, "--threads", "1"]
        subprocess.run(cmd + (["--dca"] if dca else []), check=True, stdout=subprocess.DEVNULL)
        raw = open(opath, "rb").read()
        count, vocab, rows = struct.unpack_from("<iii", raw, 0)
        cpp_ids = list(struct.unpack_from(f"<{count}i", raw, 12))
        cpp = np.frombuffer(raw, dtype=np.float32, offset=12 + 4 * count).reshape(rows, vocab)
        assert cpp_ids == want, "token ids differ"
        with torch.no_grad():
            py = model(torch.tensor([want]), dca=(args.dca_chunk, args.dca_window, args.dca_temperature)
                       if dca else None)[0, -rows:].numpy()
        diff = float(np.abs(py - cpp).max())
        worst = max(worst, diff)
        print(f"{args.arch} {'dca' if dca else 'plain'}: {count} tokens, {rows} rows: max |python - engine| = "
              f"{diff:.2e} (logits {py.min():.1f}..{py.max():.1f}); argmax equal on "
              f"{(py.argmax(-1) == cpp.argmax(-1)).mean() * 100:.1f}% of rows", flush=True)
    return worst


# The long sample document: held-out chapters with these facts planted (fact, depth,
# question, answer); resources/samples/README.md lists the questions.
SAMPLE_FACTS = [
    ("The key to the blue cabinet is 7431.", 0.10, "What is the key to the blue cabinet?", "7431"),
    ("Captain Ortega was born in Valparaiso.", 0.28, "Where was Captain Ortega born?", "Valparaiso"),
    ("The Halcyon sailed on March 14, 1847.", 0.45, "When did the Halcyon sail?", "March 14, 1847"),
    ("The pass key is 58203. Remember it. 58203 is the pass key.", 0.62, "What is the pass key?", "58203"),
    ("Martha hid the ledger in the bell tower.", 0.78, "Where did Martha hide the ledger?", "the bell tower"),
    ("The secret word is juniper.", 0.92, "What is the secret word?", "juniper"),
]
SAMPLE_CHAPTERS = (37, 38, 39)
SAMPLE_FILE = os.path.join(REPO, "resources", "samples", "moby-dick-planted-facts.txt")


def make_sample(args):
    from demo_model_text import chapters
    book = chapters(corpus_texts(args.corpus)[0])
    body = "".join(book[n] for n in SAMPLE_CHAPTERS).strip() + "\n"
    header = ("Title: Moby-Dick; or, The Whale (Chapters %d\u2013%d), with planted facts\n"
              "Author: Herman Melville\n\n"
              "A public-domain text, first published in 1851, with %d invented facts planted in it\n"
              "for trying Folio's bundled demo model; see resources/samples/README.md.\n\n"
              % (SAMPLE_CHAPTERS[0], SAMPLE_CHAPTERS[-1], len(SAMPLE_FACTS)))
    write_sample(SAMPLE_FILE, body, [(f, d) for f, d, _, _ in SAMPLE_FACTS], header)
    print("wrote", SAMPLE_FILE)


def ask(args):
    """Answers questions about a document file with one method (default: the planted
    facts of the long sample, DCA)."""
    torch.set_num_threads(args.threads)
    model, tok, kv = load_gguf_model(args.model)
    L = kv["llama.context_length"]
    document = open(args.document, encoding="utf-8").read().strip()
    questions = [(args.question, None)] if args.question else [(q, a) for _, _, q, a in SAMPLE_FACTS]
    for question, expected in questions:
        ids = tok.encode(chat_prompt(document, question))
        name, _, k = args.method.partition(":")
        attn = Attention(name, model.cfg, L, len(ids) / L, len(ids), temp_k=float(k or 0))
        got = generate_answer(model, tok, ids, attn).strip()
        mark = "" if expected is None else ("  ok" if got == expected else f"  WRONG (expected {expected})")
        print(f"[{len(ids)} tokens, {args.method}] {question} -> {got}{mark}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--corpus", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--minutes", type=float, default=30)
    t.add_argument("--seed", type=int, default=1234)
    t.add_argument("--threads", type=int, default=1, help="1: OpenMP threads spin when the cores are shared")
    t.add_argument("--vocab", type=int, default=2048)
    t.add_argument("--dim", type=int, default=128)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--kv-heads", type=int, default=2)
    t.add_argument("--ffn", type=int, default=384)
    t.add_argument("--ctx", type=int, default=256)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--text-weight", type=float, default=0.2)
    t.add_argument("--end-weight", type=float, default=1.0,
                   help="weight of the <|im_end|> that closes each answer in the answer loss")
    t.add_argument("--log-every", type=int, default=100)
    t.add_argument("--checkpoint-every", type=int, default=500)
    t.add_argument("--start-len", type=int, default=80, help="longest conversation at the start")
    t.add_argument("--ramp", type=float, default=0.6, help="fraction of the time to grow it to --ctx")
    t.add_argument("--init", help="start from this GGUF's weights (a second stage; a llama file for another --arch)")
    t.add_argument("--arch", choices=ARCHS, default="llama",
                   help="the GGUF architecture to train and write (qwen3/gemma3: see Config)")
    t.add_argument("--dca-temperature", type=float, default=0.1,
                   help="written as llama.dca.temperature: the DCA attention temperature k Folio uses by default "
                        "(and the k of the long steps)")
    t.add_argument("--long-frac", type=float, default=0.0,
                   help="fraction of steps that train on long conversations read with DCA (0: none)")
    t.add_argument("--long-min", type=int, default=1000, help="shortest long conversation, tokens")
    t.add_argument("--long-len", type=int, default=4000, help="longest long conversation, tokens")
    t.add_argument("--long-batch", type=int, default=1, help="long conversations per long step")
    t.add_argument("--dca-chunk", type=int, default=192, help="DCA chunk size C of the long steps")
    t.add_argument("--dca-window", type=int, default=32, help="DCA local window W of the long steps")
    t.add_argument("--app-format", type=float, default=0.0,
                   help="fraction of conversations in the app's own reading prompt (app/reading/prompt_builder.cpp)")
    v = sub.add_parser("vocab")
    v.add_argument("--corpus", required=True)
    v.add_argument("--out", required=True)
    v.add_argument("--vocab", type=int, default=2048)
    e = sub.add_parser("eval")
    e.add_argument("--model", required=True)
    e.add_argument("--methods", default="none,pi,ntk,yarn,dca,dca:0.1")
    e.add_argument("--ratios", default="1,2,4,8,16")
    e.add_argument("--samples", type=int, default=50)
    e.add_argument("--threads", type=int, default=1)
    e.add_argument("--repeat-penalty", type=float, default=1.0, help="1.1 = folio-cli generate's default")
    e.add_argument("--cli", help="answer with this folio-cli (the C++ engine) instead of torch")
    ce = sub.add_parser("check-engine")
    ce.add_argument("--arch", choices=ARCHS, required=True)
    ce.add_argument("--init", default=os.path.join(REPO, "resources", "models", "folio-demo.gguf"))
    ce.add_argument("--cli", default=os.path.join(REPO, "build", "release", "app", "folio-cli"))
    ce.add_argument("--file", default=SAMPLE_FILE)
    ce.add_argument("--lengths", default="200,600")
    ce.add_argument("--dca-length", type=int, default=2000, help="0: no --dca run")
    ce.add_argument("--dca-chunk", type=int, default=192)
    ce.add_argument("--dca-window", type=int, default=32)
    ce.add_argument("--dca-temperature", type=float, default=0.1)
    ce.add_argument("--jitter", type=float, default=0.2)
    ce.add_argument("--window", type=int, default=0, help="gemma3: this sliding window instead of the trainer's")
    ce.add_argument("--seed", type=int, default=1)
    ce.add_argument("--work", help="folder for the files (default: a new temporary one)")
    c = sub.add_parser("check")
    c.add_argument("--model", required=True)
    c.add_argument("--file", required=True)
    c.add_argument("--logits")
    a = sub.add_parser("ask")
    a.add_argument("--model", required=True)
    a.add_argument("--document", default=SAMPLE_FILE)
    a.add_argument("--question")
    a.add_argument("--method", default="dca")
    a.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("sample")
    s.add_argument("--corpus", required=True)
    args = ap.parse_args()
    {"train": train, "vocab": write_vocab, "eval": evaluate, "check": check_prompt,
     "check-engine": check_engine, "sample": make_sample, "ask": ask}[args.cmd](args)


if __name__ == "__main__":
    main()
