"""Fast exact encoders: optional engines (`pip install 'tokkit[fast]'`) that give a loaded tokenizer's ids
faster than the engine it was loaded with (Hugging Face `tokenizers`, tiktoken).

An engine is used only where it is exact: `attach` loads it beside the reference engine and encodes a
fixed probe set with both; any difference, or any error while loading it, keeps the reference engine.
The probe is cheap, not a proof: tests/test_tokenizer_fast.py compares every engine with the reference on
all UDHR units and held-out domain documents for the shared tokenizers. `auto` tries the engines only on
byte-level BPE tokenizers (tokenizer.json with a ByteLevel pre-tokenizer, tiktoken ranks), the family
those tests cover; naming an engine tries it on any tokenizer the engine can load.

Engines, in the order `auto` tries them (fastest first, for counting, on UDHR):
- `tokie` (MIT/Apache-2.0): tokenizer.json files; counts without building ids (`count_tokens_batch`).
- `splintr` (`splintr-rs`, MIT): tokenizer.json files and tiktoken ranks files.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from .._extras import require
from ..errors import InputError
from .base import Tokenizer

ENGINES = ("tokie", "splintr")
# what a user may pass as load_tokenizer(encoder=...)
CHOICES = ("auto", "reference") + ENGINES

# Encoded by both engines at load time. Chosen for where encoders differ: every script family UDHR has,
# contractions in both cases, digit runs, whitespace runs at ends and before newlines, CR/LF, a special
# token's text (plain text everywhere: tokenizer.base; the fast engines' own matches are routed around),
# emoji sequences,
# combining marks, a lone surrogate-free private-use char, long repeats (BPE cache and linked-list paths).
PROBE = [
    "", " ", "  ", "\n", "\r\n", " \n\n ", "\t", "a", "Hello world", "hello world", " Hello  world ",
    "It's, I'M, we'LL, they've, you're, he'd, 'S",
    "1 12 123 1234 12345 1234567890 3.14159 -42 1,000,000 ²³ ٣٤٥ १२३",
    "trailing spaces   ", "   leading", "a\n\nb\tc\r\nd \n e", "line\n  indented\n\tTab",
    "<|endoftext|> text <|endoftext|>", "<s> [CLS] </s>",
    "Grüße, straße — naïve café; déjà vu…", "Ελληνικά: Όλοι οι άνθρωποι γεννιούνται ελεύθεροι",
    "Все люди рождаются свободными и равными в своем достоинстве и правах.",
    "人人生而自由，在尊严和权利上一律平等。", "すべての人間は、生まれながらにして自由であり、",
    "모든 인간은 태어날 때부터 자유로우며", "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता",
    "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق", "כל בני האדם נולדו בני חורין ושווים",
    "มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอภาคกัน", "လူတိုင်းသည် တူညီ လွတ်လပ်သော ဂုဏ်သိက္ခာ",
    "ሁሉም የሰው ልጆች ሲወለዱ ነጻና", "Ènìyàn ni a bí ní òmìnira", "Tất cả mọi người sinh ra đều được tự do",
    "எல்லா மனிதப் பிறவிகளும் சுதந்திரமாகவே", "emoji 🤖👩‍👩‍👧 🇩🇪 ✔️ ❤", "\u0301x e\u0301 \u200b\u200d\ufeff",
    "ﬁ ligature Ａｂｃ ½", "\ue000 private", "def f(x):\n    return x ** 2  # comment\n\n\nclass A: pass",
    "{\"key\": [1, 2, {\"a\": null}]}", "https://example.com/path?q=1&r=2#frag", "$$\\frac{a}{b}$$ ∑∫√",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    " " * 40 + "x", "!!!???...,,,;;;:::---___===+++", "\u00a0nbsp\u2009thin\u3000ideographic",
    # differences found by the full tests: an apostrophe before r that starts no contraction (tokie on
    # KL3M-001's split), a run of Unicode spaces after a newline (splintr on KL3M-004-char)
    "a l'rèvole, hi'rtok, n'rvecha, xik' nake'ril", "States.\n\u2009\u2003\u2003\u2003\u2003NANCY PELOSI,",
]


class _Tokie:
    name = "tokie"

    def __init__(self, tok: Tokenizer):
        if tok.kind != "hf" or not tok.source.endswith(".json"):
            raise InputError(f"{tok.name}: tokie loads tokenizer.json files only")
        tokie = require("tokie", "fast", purpose="for encoder='tokie'")
        self._t = tokie.Tokenizer.from_json(tok.source)
        # counts are of the text alone, as HFTokenizer's (a saved tokenizer may pad or truncate batches)
        self._t.no_padding()
        self._t.no_truncation()

    def encode(self, text: str) -> list[int]:
        return self._t.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._t.encode_batch(list(texts), add_special_tokens=False)]

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        # count_tokens_batch adds no special tokens (the probe checks it against len(encode))
        return list(self._t.count_tokens_batch(list(texts)))


# set in a process forked after splintr was loaded: its batch calls run on a rayon thread pool that does
# not survive fork (a child's first batch call hangs, seen with splintr-rs 0.22), and tokkit's local task
# runner forks. Such a child encodes text by text, which splintr does without the pool.
_FORKED = [False]


def _after_fork_in_child() -> None:
    _FORKED[0] = True


class _Splintr:
    name = "splintr"

    def __init__(self, tok: Tokenizer):
        splintr = require("splintr", "fast", purpose="for encoder='splintr'")
        if not getattr(_Splintr, "_fork_hook", False):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _Splintr._fork_hook = True
        if tok.kind == "hf" and tok.source.endswith(".json"):
            self._t = splintr.from_json(tok.source)
        elif tok.kind == "tiktoken":
            # tiktoken panics (and prints a Rust backtrace) encoding a byte that is not a token: a ranks file
            # without all 256 bytes cannot be probed quietly, and gets no fast engine
            try:
                for b in range(256):
                    tok.engine.encode_single_token(bytes([b]))
            except KeyError:
                raise InputError(f"{tok.name}: its ranks lack some single bytes; splintr is not tried") from None
            # splintr's regex engine has no possessive quantifiers; its own spellings of the public
            # patterns (greedy, which is the same on these patterns) stand in for tokkit's. A custom
            # pattern goes through as given and the probe decides.
            known = {"r50k_base": "GPT2_PATTERN", "p50k_base": "GPT2_PATTERN", "gpt2": "GPT2_PATTERN",
                     "cl100k_base": "CL100K_BASE_PATTERN", "o200k_base": "O200K_BASE_PATTERN",
                     "llama3": "LLAMA3_PATTERN"}
            from .tiktoken_ranks import PATTERNS

            key = next((k for k, p in PATTERNS.items() if p == tok.pattern and k in known), None)
            pattern = getattr(splintr, known[key]) if key else tok.pattern
            # no special tokens: ids of the text alone, as tiktoken's encode_ordinary
            self._t = splintr.Tokenizer(tok.source, pattern)
        else:
            raise InputError(f"{tok.name}: splintr loads tokenizer.json and tiktoken ranks files only")

    def encode(self, text: str) -> list[int]:
        return self._t.encode(text)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        if _FORKED[0]:
            return [self._t.encode(t) for t in texts]
        return self._t.encode_batch(list(texts))

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        if _FORKED[0]:
            return [len(self._t.encode(t)) for t in texts]
        # the flat call returns ids and per-text token offsets as packed bytes: no Python list per text
        # (about 1.6x faster on UDHR); the probe checks these counts against the ids' lengths
        texts = list(texts)
        _, offsets = self._t.encode_batch_flat(texts)
        bounds = np.frombuffer(offsets, dtype=np.uint64)
        if len(bounds) != len(texts) + 1:
            return [len(ids) for ids in self._t.encode_batch(texts)]
        return np.diff(bounds).astype(np.int64).tolist()


_CLASSES = {"tokie": _Tokie, "splintr": _Splintr}


# loaded engines by (engine, file, its size and mtime, split pattern): loading one takes 0.1-0.6 s, and a
# process (a test session, a notebook) loads the same few tokenizers again and again. The probe still runs
# on every load; the engines keep no state between calls that could make a reused one differ.
_LOADED: dict[tuple, object] = {}
_MAX_LOADED = 8


def _engine(name: str, tok: Tokenizer):
    require(name, "fast", purpose=f"for encoder={name!r}")  # a cached engine must not hide a missing extra
    key = None
    if tok.source and os.path.isfile(tok.source):
        st = os.stat(tok.source)
        key = (name, os.path.abspath(tok.source), st.st_size, st.st_mtime_ns, getattr(tok, "pattern", None))
        if key in _LOADED:
            return _LOADED[key]
    fast = _CLASSES[name](tok)
    if key is not None:
        if len(_LOADED) >= _MAX_LOADED:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = fast
    return fast


def probe_mismatch(tok: Tokenizer, fast) -> str | None:
    """Where `fast` differs from `tok`'s own engine on the probe set (ids or counts), or None."""
    want = tok.encode_batch(PROBE)
    got = fast.encode_batch(PROBE)
    for text, a, b in zip(PROBE, want, got):
        if list(a) != list(b):
            return f"ids differ on {text[:30]!r}"
    if list(fast.count_batch(PROBE)) != [len(a) for a in want]:
        return "counts differ from the ids' lengths"
    if [fast.encode_ordinary(t) for t in PROBE[:12]] != want[:12]:
        return "single-text ids differ"
    return None


def attach(tok: Tokenizer, engine: str = "auto") -> Tokenizer:
    """`tok` with encode / encode_batch / count / count_batch on the fastest exact engine.

    engine: "auto" (the first engine in ENGINES that loads and passes the probe, on byte-level BPE; else
    the reference, silently), "reference" (tok unchanged) or an engine's name (that engine, or
    MissingExtraError when it is not installed and InputError when it cannot load this tokenizer or
    differs from the reference on the probe).
    """
    if engine not in CHOICES:
        raise InputError(f"encoder must be one of {', '.join(CHOICES)}, got {engine!r}")
    if engine == "reference":
        return _use(tok, None)
    if tok.encoder != "reference":  # already on a fast engine: the probe passed when it was attached
        if engine in ("auto", tok.encoder):
            return tok
        tok = _use(tok, None)
    if engine == "auto":
        if not tok.isolated_roundtrip:
            return tok
        for name in ENGINES:
            try:
                fast = _engine(name, tok)
                if probe_mismatch(tok, _PlainText(tok, fast)) is None:
                    return _use(tok, fast)
            except (KeyboardInterrupt, SystemExit):
                raise
            # a missing extra, a file the engine rejects, an engine bug, a vocabulary that cannot encode the
            # probe (Rust panics arrive as pyo3's PanicException, a BaseException): keep the reference
            except BaseException:
                continue
        return tok
    try:
        fast = _engine(engine, tok)
    except (InputError, ImportError):
        raise
    except Exception as e:
        raise InputError(f"{tok.name}: {engine} cannot load {tok.source or 'this tokenizer'} ({e})") from None
    try:
        why = probe_mismatch(tok, _PlainText(tok, fast))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:
        why = f"the probe failed: {type(e).__name__}: {str(e)[:100]}"
    if why is not None:
        raise InputError(f"{tok.name}: {engine} is not exact for this tokenizer ({why}); use encoder='auto' "
                         "or 'reference'")
    return _use(tok, fast)


class _PlainText:
    """A fast engine that treats special tokens as plain text, as the reference engines do (tokenizer.base):
    tokie and splintr match a tokenizer.json's special tokens in text, so a text that spells one goes to
    the reference engine instead (a substring test per special token; such texts are rare)."""

    def __init__(self, tok: Tokenizer, fast):
        self.name, self._fast, self._tok = fast.name, fast, tok
        self._specials = tuple(tok.special_tokens)
        # the distinct first characters of the special tokens: a text holding none of them spells none
        # ("" stands for an empty special token, which every text holds)
        self._firsts = tuple(dict.fromkeys(s[:1] for s in self._specials))
        cls = type(tok)
        self._ref_encode = lambda t: cls.encode_ordinary(tok, t)
        self._ref_batch = lambda ts: cls.encode_batch(tok, ts)
        self._ref_count = lambda ts: cls.count_batch(tok, ts)

    def _special(self, text: str) -> bool:
        return any(s in text for s in self._specials)

    def encode_ordinary(self, text: str) -> list[int]:
        return self._ref_encode(text) if self._special(text) else self._fast.encode(text)

    def _split(self, texts, fast_fn, ref_fn) -> list:
        texts = list(texts)
        # a one-character test per text (memchr; no join, no substring search), then the full test on the few
        # texts that hold a special token's first character
        odd = sorted({k for c in self._firsts for k, t in enumerate(texts) if c in t and self._special(t)})
        if not odd:
            return list(fast_fn(texts))
        keep = set(odd)
        out = list(fast_fn([t for k, t in enumerate(texts) if k not in keep]))
        ref = list(ref_fn([texts[k] for k in odd]))
        for k, r in zip(odd, ref):
            out.insert(k, r)
        return out

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self._split(texts, self._fast.encode_batch, self._ref_batch)

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return self._split(texts, self._fast.count_batch, self._ref_count)


def _use(tok: Tokenizer, fast) -> Tokenizer:
    # instance attributes shadow the backend's methods, so the object keeps its class, kind, offsets,
    # decode and `.engine` (the reference engine underneath) and only encoding and counting move;
    # fast=None removes them (back to the reference engine)
    if fast is None:
        for attr in ("encode_ordinary", "encode_batch", "count_batch", "encoder", "_fast"):
            tok.__dict__.pop(attr, None)
        return tok
    plain = _PlainText(tok, fast)
    tok.encode_ordinary = plain.encode_ordinary
    tok.encode_batch = plain.encode_batch
    tok.count_batch = plain.count_batch
    tok.encoder = fast.name
    tok._fast = fast
    return tok
