"""Text side of the demo model (see train_demo_model.py): corpus, byte-level BPE that
tokenizes exactly as Folio's engine does with pre-tokenizer "qwen2", the planted-fact
tasks, and the prompts built from them."""
import json
import re

# ---------------------------------------------------------------- corpus

CHAPTER_LINE = re.compile(r"^CHAPTER (\d+)\. ", re.M)
# Held out from training: chapters 1-12 are resources/samples/moby-dick-chapters-1-12.txt
# (the filler of the evaluation prompts), 36-41 the long sample with planted facts.
HELD_OUT = set(range(1, 13)) | set(range(36, 42))
SAMPLE_CHAPTERS = range(36, 42)


def load_corpus(path):
    with open(path, encoding="utf-8") as f:
        return f.read().replace("\r\n", "\n")


def chapters(text):
    """{chapter number: text} for a Gutenberg book with 'CHAPTER N. Title.' lines;
    a book without them is chapter 1000."""
    marks = list(CHAPTER_LINE.finditer(text))
    if not marks:
        return {1000: text}
    out = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out[int(m.group(1))] = text[m.start():end]
    return out


def held_out_split(texts):
    """Training text (all chapters not held out) from a list of book texts."""
    train = []
    for text in texts:
        for number, body in chapters(text).items():
            if number not in HELD_OUT:
                train.append(body)
    return "\n".join(train)


# ---------------------------------------------------------------- byte-level BPE

def _bytes_to_unicode():
    """GPT-2's byte -> printable character table (the engine's byteToUnicode)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHAR = _bytes_to_unicode()
CHAR_BYTE = {c: b for b, c in BYTE_CHAR.items()}
ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIALS = [ENDOFTEXT, IM_START, IM_END]

# llama.cpp's "qwen2" pattern: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
#   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+   with \p{L} = [^\W\d_], \p{N} = \d
# (exact for the text we use; checked against folio-cli tokenize on the whole corpus).
PRE_QWEN2 = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:[^\r\n\w]|_)?[^\W\d_]+|\d| ?(?:[^\s\w]|_)+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def pretokenize(text):
    return PRE_QWEN2.findall(text)


def learn_bpe(text, vocab_size):
    """Merges learned from `text` until 256 + merges + specials = vocab_size."""
    counts = {}
    for piece in pretokenize(text):
        w = "".join(BYTE_CHAR[b] for b in piece.encode("utf-8"))
        counts[w] = counts.get(w, 0) + 1
    words = [list(w) for w in counts]
    freq = list(counts.values())
    pairs, where = {}, {}
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pairs[(a, b)] = pairs.get((a, b), 0) + freq[i]
            where.setdefault((a, b), set()).add(i)
    merges = []
    n_merges = vocab_size - 256 - len(SPECIALS)
    while len(merges) < n_merges and pairs:
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        joined = best[0] + best[1]
        for i in list(where.get(best, ())):
            w = words[i]
            for a, b in zip(w, w[1:]):  # remove this word's old pairs
                pairs[(a, b)] -= freq[i]
                if pairs[(a, b)] == 0:
                    del pairs[(a, b)]
            j, new = 0, []
            while j < len(w):
                if j + 1 < len(w) and w[j] == best[0] and w[j + 1] == best[1]:
                    new.append(joined)
                    j += 2
                else:
                    new.append(w[j])
                    j += 1
            words[i] = new
            for a, b in zip(new, new[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + freq[i]
                where.setdefault((a, b), set()).add(i)
        where.pop(best, None)
    return merges


class BpeTokenizer:
    def __init__(self, merges):
        self.merges = list(merges)
        self.tokens = [BYTE_CHAR[b] for b in range(256)] + [a + b for a, b in self.merges] + SPECIALS
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self.special = {s: self.ids[s] for s in SPECIALS}
        self.split_special = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")
        self.cache = {}

    @classmethod
    def from_gguf_kv(cls, kv):
        return cls([tuple(m.split(" ", 1)) for m in kv["tokenizer.ggml.merges"]])

    def token_types(self):
        return [3 if t in self.special else 1 for t in self.tokens]  # control / normal

    def merge_strings(self):
        return [a + " " + b for a, b in self.merges]

    def _word(self, piece):
        w = "".join(BYTE_CHAR[b] for b in piece.encode("utf-8"))
        if w in self.cache:
            return self.cache[w]
        syms = list(w)
        while len(syms) > 1:
            best, at = None, -1
            for j in range(len(syms) - 1):
                r = self.ranks.get((syms[j], syms[j + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, j
            if best is None:
                break
            syms[at:at + 2] = [syms[at] + syms[at + 1]]
        ids = [self.ids[s] for s in syms]
        self.cache[w] = ids
        return ids

    def encode(self, text, special=True):
        out = []
        parts = self.split_special.split(text) if special else [text]
        for part in parts:
            if not part:
                continue
            if special and part in self.special:
                out.append(self.special[part])
                continue
            for piece in pretokenize(part):
                out.extend(self._word(piece))
        return out

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in self.special:
                continue
            data.extend(CHAR_BYTE[c] for c in t)
        return data.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- tasks

def load_tasks(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


SYLLABLES = ("ka ro mi ta ven dor lis bar ne sto gal fen ur to mar bel chi quen das pol rin "
             "hal tru wen zo var len os tam ber fi no gra sel do mun kes ath ly pre").split()


def invented_name(rng):
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return name.capitalize()


# Invented hiding places (training only): a modifier and a building or room, from these
# lists or made of syllables, or a made-up word alone, so that no list of places exists
# for the model to fall back on when it does not find the fact.
PLACE_MODIFIERS = ("old new north south east west upper lower stone timber chapel harbour mill "
                   "garden church village miller's cooper's baker's sexton's keeper's widow's "
                   "empty ruined narrow long broken quiet").split()
PLACE_NOUNS = ("shed cellar tower loft office house barn mill attic vault pantry stable kitchen "
               "workshop warehouse forge chapel cottage boathouse granary dovecote crypt well "
               "library counting-room wheelhouse storeroom belfry").split()

# Repeated digits (training only): the copies the shipped model slipped on most were of a
# digit repeated ("July 2" for July 22, "1871" for 1811, "8526" for 8529).
REPEAT_DIGITS = 0.35  # keys (digits)
REPEAT_INTEGER = 0.2  # days and years (of 1-28 only 11 and 22 have one)


def invented_place(rng):
    form = rng.random()
    if form < 0.2:
        return invented_name(rng).lower()
    mod = rng.choice(PLACE_MODIFIERS) if rng.random() < 0.6 else invented_name(rng).lower()
    noun = rng.choice(PLACE_NOUNS) if rng.random() < 0.7 else invented_name(rng).lower()
    return mod + " " + noun


def repeated_digits(length, rng):
    """`length` digits, the first not 0, with one to three digits repeated next to
    themselves (and sometimes a triple)."""
    d = [str(rng.randint(1, 9))] + [str(rng.randint(0, 9)) for _ in range(length - 1)]
    for _ in range(rng.choice([1, 1, 2, 3])):
        i = rng.randrange(length - 1)
        if rng.random() < 0.5:
            d[i + 1] = d[i]
        else:
            d[i] = d[i + 1] if (i > 0 or d[i + 1] != "0") else d[i]
    if length >= 3 and rng.random() < 0.15:
        i = rng.randrange(1, length - 1)
        d[i - 1] = d[i + 1] = d[i] if (i > 1 or d[i] != "0") else d[i - 1]
    return "".join(d)


def _has_repeat(n):
    s = str(n)
    return any(a == b for a, b in zip(s, s[1:])) or (len(s) == 4 and s[2] == s[3]) or (len(s) == 4 and s[1] == s[3])


def fill_value(spec, rng, training):
    """One value for a placeholder spec of folio-demo-tasks.json. In training, names,
    words and places are also invented, so the model learns to copy, not to remember,
    and numbers with repeated digits are drawn more often than by chance."""
    if spec["kind"] == "digits":
        if training and rng.random() < REPEAT_DIGITS:
            return repeated_digits(spec["length"], rng)
        first = str(rng.randint(1, 9))
        return first + "".join(str(rng.randint(0, 9)) for _ in range(spec["length"] - 1))
    if spec["kind"] == "integer":
        if training and rng.random() < REPEAT_INTEGER:
            rep = [n for n in range(spec["min"], spec["max"] + 1) if _has_repeat(n)]
            if rep:
                return str(rng.choice(rep))
        return str(rng.randint(spec["min"], spec["max"]))
    values = spec["values"]
    invent = spec.get("invent")
    if training and invent and rng.random() < spec.get("invent_rate", 0.5):
        if invent == "place":
            return invented_place(rng)
        return invented_name(rng) if invent == "name" else invented_name(rng).lower()
    return rng.choice(values)


def fill_task(task, placeholders, rng, training, avoid=()):
    """(needle, question, answer, key) with every {name} of the task replaced; `key`
    (the values of the task's identifying placeholders) differs from those in avoid."""
    for _ in range(50):
        values = {}
        for name in re.findall(r"\{(\w+)\}", task["needle"] + task["question"] + task["answer"]):
            if name not in values:
                values[name] = fill_value(placeholders[name], rng, training)
        key = (task["name"],) + tuple(values[n] for n in task.get("key", []))
        if key not in avoid:
            break
    def sub(s):
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], s)
    return sub(task["needle"]), sub(task["question"]), sub(task["answer"]), key


def sentence_starts(text):
    """Offsets where a sentence begins: after '.', '!' or '?' (optionally closed by a
    quote) and white space."""
    return [m.end() for m in re.finditer(r"[.!?][\"'\u201d\u2019]?\s+", text)]


def insert_at_depth(filler, needle, depth):
    """The benchmark's rule: the needle and one space go at the first sentence start
    at or after depth * len(filler) (at 0 for depth 0; at the end if none)."""
    if depth <= 0:
        return needle + " " + filler
    target = depth * len(filler)
    for s in sentence_starts(filler):
        if s >= target:
            return filler[:s] + needle + " " + filler[s:]
    return filler + " " + needle


def cut_filler(text, start, chars):
    """text[start:start+chars], ending after the last full sentence in it."""
    piece = text[start:start + chars]
    ends = [m.end() for m in re.finditer(r"[.!?][\"'\u201d\u2019]?", piece)]
    return piece[:ends[-1]] if ends else piece


def paragraph_starts(text):
    return [0] + [m.end() for m in re.finditer(r"\n\n+", text)]


def chat_prompt(document, question, system=None):
    """The prompt Folio's ChatML template makes for one user message."""
    prefix = f"{IM_START}system\n{system}{IM_END}\n" if system else ""
    return f"{prefix}{IM_START}user\n{document}\n\n{question}{IM_END}\n{IM_START}assistant\n"


NO_LOSS, TEXT, ANSWER, ANSWER_END = 0, 1, 2, 3  # what each token is, as a prediction target
# (ANSWER_END: the <|im_end|> that closes an answer, which the trainer can weigh more)


def plant_facts(rng, tasks_spec, counts=(1, 1, 2, 2, 3, 4)):
    """One to four (needle, question, answer) of random tasks (a count from `counts`);
    facts of one kind differ in their key, and unique tasks (the pass key, the secret
    word) appear at most once."""
    facts, keys = [], set()
    for _ in range(rng.choice(counts)):
        task = rng.choice(tasks_spec["tasks"])
        if task.get("unique") and any(k[0] == task["name"] for k in keys):
            continue
        needle, question, answer, key = fill_task(task, tasks_spec["placeholders"], rng, True, keys)
        keys.add(key)
        facts.append((needle, question, answer))
    return facts


# A long conversation (read with DCA in training) carries more facts and asks more of
# them: its document is the expensive part, each answer is nearly free.
LONG_COUNTS = (2, 3, 4, 4, 5, 6)


def make_training_example(rng, tok, train_text, starts, tasks_spec, max_tokens, min_tokens=None):
    """Token ids and their kinds (NO_LOSS, TEXT, ANSWER) of one conversation about a
    passage with planted facts; None if it cannot be made to fit. With min_tokens (a long
    conversation) its length is uniform in [min_tokens, max_tokens]."""
    long = min_tokens is not None
    facts = plant_facts(rng, tasks_spec, LONG_COUNTS) if long else plant_facts(rng, tasks_spec)
    if long:
        budget = rng.randint(min_tokens, max_tokens)
    else:
        budget = rng.randint(max_tokens // 8, max_tokens) if rng.random() < 0.85 else max_tokens
    chars = max(0, int((budget - 25 * len(facts) - 15) * 3.0))
    for _ in range(4):
        start = rng.choice(starts)
        filler = cut_filler(train_text, start, chars).strip()
        document = filler
        for needle, _, _ in facts:
            document = insert_at_depth(document, needle, rng.random() if rng.random() < 0.9 else 0.0)
        document = document.strip()
        asked = rng.sample(facts, k=len(facts) if long else rng.randint(1, len(facts)))
        ids, kinds = [], []

        def add(text, kind):
            t = tok.encode(text)
            ids.extend(t)
            kinds.extend([kind] * len(t))

        for n, (_, question, answer) in enumerate(asked):
            if n == 0:  # the document (and first question) as a language-modelling target
                add(f"{IM_START}user\n", NO_LOSS)
                add(f"{document}\n\n{question}{IM_END}\n{IM_START}assistant\n", TEXT)
            else:  # follow-up questions reuse the document, as Folio's chat does
                add(f"{IM_START}user\n{question}{IM_END}\n{IM_START}assistant\n", NO_LOSS)
            add(answer, ANSWER)
            add(IM_END, ANSWER_END)
            add("\n", NO_LOSS)
        if len(ids) <= max_tokens + 1:
            return ids, kinds
        chars = int(chars * 0.8 * (max_tokens + 1) / len(ids))
    return None


def make_eval_prompt(tok, tasks_spec, filler_text, task, rng, depth, target_tokens):
    """(prompt text, answer) of one benchmark prompt of at most target_tokens tokens,
    following the rules in folio-demo-tasks.json."""
    needle, question, answer, _ = fill_task(task, tasks_spec["placeholders"], rng, False)
    starts = paragraph_starts(filler_text)
    start = rng.choice(starts[: max(1, len(starts) // 2)])
    chars = int(target_tokens * 4.0)
    while True:
        filler = cut_filler(filler_text, start, chars).strip()
        prompt = chat_prompt(insert_at_depth(filler, needle, depth), question)
        n = len(tok.encode(prompt))
        if n <= target_tokens:
            return prompt, answer, n
        chars = int(chars * min(0.98, target_tokens / n))


def write_sample(path, chapters_text, facts, header):
    """The long sample: held-out chapters with each fact planted as the first sentence
    of its own paragraph, the first one at or after depth * length that follows a full
    stop and is not a chapter heading."""
    text = chapters_text
    starts = [m.end() for m in re.finditer(r"[.!?][\"'\u201d\u2019)]?\n\n+", text)
              if not text.startswith("CHAPTER", m.end())]
    chosen = []
    for needle, depth in facts:
        at = next((s for s in starts if s >= depth * len(text) and s not in dict(chosen)), len(text))
        chosen.append((at, needle))
    for at, needle in sorted(chosen, reverse=True):
        text = text[:at] + needle + " " + text[at:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + text.rstrip() + "\n")


# ---------------------------------------------------------------- the app's prompt

# app/reading/prompt_builder.cpp, word for word: Folio's reading prompt puts the whole
# document in the system message, after these instructions, each page behind a marker.
APP_INSTRUCTIONS = (
    "You are Folio, a careful reader. The user's document is given in full below, between <document> and "
    "</document>. Each page begins with a marker such as [p. 12]. Answer the user's questions from this document, "
    "and cite the markers of the pages your answer rests on. If the document does not say, answer that it does not.")

TITLE_WORDS = ("Whale Voyage Sea Harbour Ledger Captain Journal Letters Account History Notes Ship Island "
               "Winter Report Tales Memoir Chronicle Log").split()


def app_title(rng):
    """A document title and author as the app's loaders give them (author often missing)."""
    kind = rng.random()
    if kind < 0.3:
        title = "Moby-Dick; or, The Whale (Chapters %d\u2013%d), with planted facts" % (
            rng.randint(1, 120), rng.randint(1, 135))
    elif kind < 0.7:
        title = "The " + " ".join(rng.choice(TITLE_WORDS) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.5:
            title += " of " + invented_name(rng)
    else:
        title = invented_name(rng) + rng.choice(["", ".txt", " (draft)", " report"])
    author = "" if rng.random() < 0.4 else (
        "Herman Melville" if rng.random() < 0.4 else f"{invented_name(rng)} {invented_name(rng)}")
    return title, author


def split_pages(rng, document, count):
    """The document cut into `count` pages at sentence starts, like the app's sections."""
    cuts = sorted(rng.sample(sentence_starts(document), k=min(count - 1, len(sentence_starts(document)))))
    pieces, last = [], 0
    for c in cuts:
        pieces.append(document[last:c])
        last = c
    pieces.append(document[last:])
    return [p.strip() for p in pieces if p.strip()]


def make_app_example(rng, tok, train_text, starts, tasks_spec, max_tokens, min_tokens=None):
    """One conversation in the app's own prompt (PromptBuilder): system message =
    instructions + <document title=...> + pages with markers + </document>; then the
    questions as user turns, tokenized piece by piece as the app does. None if it
    cannot be made to fit. min_tokens: a long conversation, as make_training_example."""
    long = min_tokens is not None
    facts = plant_facts(rng, tasks_spec, LONG_COUNTS) if long else plant_facts(rng, tasks_spec)
    title, author = app_title(rng)
    opening = APP_INSTRUCTIONS + '\n\n<document title="' + title + '"'
    if author:
        opening += ' author="' + author + '"'
    opening += ">\n"
    head = tok.encode(opening, special=False)
    if long:
        budget = rng.randint(min_tokens, max_tokens)
    else:
        budget = rng.randint(max_tokens // 3, max_tokens) if rng.random() < 0.8 else max_tokens
    chars = max(150, int((budget - len(head) - 25 * len(facts) - 30) * 3.0))
    unit = rng.choices(["\u00a7", "p.", "ch."], weights=[5, 4, 1])[0]
    first_page = rng.randint(1, 40)
    for _ in range(4):
        filler = cut_filler(train_text, rng.choice(starts), chars).strip()
        document = filler
        for needle, _, _ in facts:
            document = insert_at_depth(document, needle, rng.random() if rng.random() < 0.9 else 0.0)
        pages = split_pages(rng, document.strip(), rng.choice([3, 5, 8, 12] if long else [1, 1, 2, 2, 3]))
        asked = rng.sample(facts, k=len(facts) if long else rng.randint(1, len(facts)))
        ids, kinds = [], []

        def add(text, kind, special=True):
            t = tok.encode(text, special=special)
            ids.extend(t)
            kinds.extend([kind] * len(t))

        add(f"{IM_START}system\n", NO_LOSS)
        ids.extend(head)
        kinds.extend([NO_LOSS] * len(head))
        for i, page in enumerate(pages):
            add(f"[{unit} {first_page + i}]\n{page}\n\n", TEXT, special=False)
        add("</document>", NO_LOSS, special=False)
        add(f"{IM_END}\n{IM_START}user\n", NO_LOSS)
        for n, (_, question, answer) in enumerate(asked):
            if n > 0:
                add(f"\n{IM_START}user\n", NO_LOSS)
            add(question, NO_LOSS, special=False)
            add(f"{IM_END}\n{IM_START}assistant\n", NO_LOSS)
            add(answer, ANSWER, special=False)
            add(IM_END, ANSWER_END)
        if len(ids) <= max_tokens + 1:
            return ids, kinds
        chars = int(chars * 0.8 * (max_tokens + 1) / len(ids))
    return None
