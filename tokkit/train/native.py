"""tokkit's own byte-level BPE trainer: numba pre-tokenization, counting and merge loop
(`tokkit.kernels`), giving exactly Hugging Face `BpeTrainer`'s merges, from documents or word counts,
with resume, first-k export, superword stage 2, domain terms as real merges and bounded memory."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np

from .._memory import release_free_memory
from .._progress import progress
from ..errors import EmptyInputError, InputError
from ..kernels.aot import kernel
from ..kernels.split_patterns import PATTERNS, check_pattern
from .bytelevel import byte_chars


@lru_cache(maxsize=1)
def _char_bytes() -> dict[str, int]:
    return {c: b for b, c in enumerate(byte_chars())}


def to_chars(data: bytes) -> str:
    chars = byte_chars()
    return "".join(chars[b] for b in data)


def to_bytes(token: str) -> bytes | None:
    """Bytes of a byte-level token string; None if it holds a character outside the byte alphabet."""
    m = _char_bytes()
    try:
        return bytes(m[c] for c in token)
    except KeyError:
        return None


def base_tokens(special_tokens: Sequence[str]) -> list[bytes | None]:
    """Initial ids as HF assigns them: special tokens, then the 256 byte symbols in the order of their
    byte-level characters, less those that a special token already spells (HF keeps the special's id).
    A special token is kept by its bytes when a merge could spell it."""
    specials = [to_bytes(s) for s in special_tokens]
    taken = set(specials)
    order = sorted(range(256), key=lambda b: byte_chars()[b])
    return specials + [bytes([b]) for b in order if bytes([b]) not in taken]


def byte_ids(tokens: Sequence[bytes | None]) -> np.ndarray:
    """byte -> id of its one-byte token (a byte symbol, or a special token spelling that byte)."""
    ids = np.full(256, -1, np.int32)
    for i, t in enumerate(tokens):
        if t is not None and len(t) == 1:
            ids[t[0]] = i
    assert (ids >= 0).all()
    return ids


@dataclass
class NativeBPE:
    """The result of a native training run: token bytes by id and the merges in order."""
    special_tokens: list[str]
    tokens: list[bytes | None]  # id -> bytes (None: a special token outside the byte alphabet)
    merges: list[tuple[int, int, int]]  # (left id, right id, new id), in training order
    pattern: str = "gpt2"
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    def token_string(self, i: int) -> str:
        n = len(self.special_tokens)
        return self.special_tokens[i] if i < n else to_chars(self.tokens[i])

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def first(self, k: int) -> "NativeBPE":
        """The tokenizer after the first k merges: what training to that size would have given."""
        k = max(0, min(k, len(self.merges)))
        top = max([len(base_tokens(self.special_tokens)) - 1] + [m[2] for m in self.merges[:k]]) + 1
        return NativeBPE(self.special_tokens, self.tokens[:top], self.merges[:k], self.pattern,
                         dict(self.timings), dict(self.stats))

    def at_vocab_size(self, vocab_size: int) -> "NativeBPE":
        """The largest prefix of the merges whose vocabulary fits in vocab_size."""
        base = len(base_tokens(self.special_tokens))
        if vocab_size < base:
            raise InputError(f"vocab_size={vocab_size}: below the {base} special and byte tokens")
        k = 0
        for k, m in enumerate(self.merges):
            if m[2] >= vocab_size:
                break
        else:
            k = len(self.merges)
        return self.first(k)

    def vocab(self) -> dict[str, int]:
        return {self.token_string(i): i for i in range(len(self.tokens))}

    def merge_strings(self) -> list[tuple[str, str]]:
        return [(self.token_string(a), self.token_string(b)) for a, b, _ in self.merges]

    def to_tokenizer(self):
        """A `tokenizers.Tokenizer` (byte-level BPE with this pattern)."""
        return self._configure(self._bpe_model())

    def _configure(self, model):
        """A Tokenizer around `model` with this tokenizer's pre-tokenizer, decoder, post-processor and
        special tokens."""
        from tokenizers import AddedToken, Regex, Tokenizer, decoders, pre_tokenizers, processors

        tok = Tokenizer(model)
        if self.pattern == "gpt2":
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        elif self.pattern == "none":
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(PATTERNS[self.pattern]), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        if self.special_tokens:
            tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in self.special_tokens])
        return tok

    def write_json(self, path: str | os.PathLike) -> None:
        """Write the tokenizer.json that `to_tokenizer().save(path)` writes (the same JSON), streaming the
        vocabulary and merges instead of building the tokenizers model: at 131,072 tokens that model and
        its serialisation cost about 80 MB, more than the whole merge loop. Each token is escaped once."""
        from tokenizers import models

        # everything but the vocabulary and merges is serialised by tokenizers itself, from a model that
        # holds only the special tokens (so that they get the ids they have here); the two are written
        # where the placeholders stand
        skeleton = json.loads(self._configure(models.BPE(
            vocab={s: i for i, s in enumerate(self.special_tokens)}, merges=[])).to_str())
        skeleton["model"]["vocab"], skeleton["model"]["merges"] = "\0vocab\0", "\0merges\0"
        head, rest = json.dumps(skeleton, indent=2, ensure_ascii=False).split(json.dumps("\0vocab\0"), 1)
        middle, tail = rest.split(json.dumps("\0merges\0"), 1)
        quoted = [json.dumps(self.token_string(i), ensure_ascii=False) for i in range(len(self.tokens))]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(head + "{")
            fh.writelines(f"{',' if i else ''}\n      {q}: {i}" for i, q in enumerate(quoted))
            fh.write(("\n    }" if quoted else "}") + middle + "[")
            fh.writelines(f"{',' if k else ''}\n      [{quoted[a]}, {quoted[b]}]"
                          for k, (a, b, _) in enumerate(self.merges))
            fh.write(("\n    ]" if self.merges else "]") + tail)

    def _bpe_model(self):
        # handed to tokenizers as vocab.json + merges.txt files that it reads itself: built from Python dicts
        # and tuples instead, the model peaks 40 MB higher at 131,072 tokens, above the whole merge loop
        import tempfile

        from tokenizers import models

        strings = [self.token_string(i) for i in range(len(self.tokens))]
        # merges.txt cannot hold a token with a space or line break, and its reader drops any line that
        # starts with "#version"; byte-level tokens never hold the former, the latter can occur in code
        if any(strings[a].startswith("#version") or any(c in strings[x] for x in (a, b) for c in " \r\n")
               for a, b, _ in self.merges):
            return models.BPE(vocab={t: i for i, t in enumerate(strings)},
                              merges=[(strings[a], strings[b]) for a, b, _ in self.merges])
        with tempfile.TemporaryDirectory(prefix="tokkit-bpe-") as tmp:
            vocab, merges = os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt")
            with open(vocab, "w", encoding="utf-8") as fh:
                fh.write("{")
                fh.write(",".join(f"{json.dumps(t, ensure_ascii=False)}:{i}" for i, t in enumerate(strings)))
                fh.write("}")
            with open(merges, "w", encoding="utf-8") as fh:
                fh.writelines(f"{strings[a]} {strings[b]}\n" for a, b, _ in self.merges)
            del strings
            return models.BPE.from_file(vocab, merges)

    def save(self, out_dir: str | os.PathLike, *, parameters: dict | None = None,
             corpus: dict | None = None, export_sizes: Sequence[int] = ()) -> str:
        """Write tokenizer.json + tokkit.json atomically; each size in export_sizes adds
        tokenizer-<size>.json (the first merges that fit)."""
        from .artifacts import Card, vocabulary_stats, write_artifacts

        writers = {"tokenizer.json": self.write_json}
        for v in export_sizes:
            writers[f"tokenizer-{int(v)}.json"] = self.at_vocab_size(int(v)).write_json
        card = Card(recipe="native", parameters=dict(parameters or {}, pattern=self.pattern),
                    corpus=dict(corpus or {}), timings=dict(self.timings),
                    vocabulary=dict(vocabulary_stats([t for t in self.tokens if t is not None],
                                                     decode=lambda t: t.decode("utf-8", "replace")),
                                    merges=len(self.merges), **self.stats))
        return write_artifacts(out_dir, card, writers)


def load_merges(source) -> tuple[list[str], list[tuple[str, str]], str | None]:
    """(special tokens, merges as string pairs, pattern) from a tokenizer.json path, a NativeBPE or a
    list of string pairs."""
    if isinstance(source, NativeBPE):
        return list(source.special_tokens), source.merge_strings(), source.pattern
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: cannot read a tokenizer.json to resume from ({e})") from None
        model = data.get("model") or {}
        if model.get("type") != "BPE":
            raise InputError(f"{path}: not a BPE tokenizer.json (model type {model.get('type')!r})")
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model.get("merges", [])]
        specials = [t["content"] for t in data.get("added_tokens", []) if t.get("special")]
        return specials, merges, None
    return [], [tuple(m) for m in source], None


def _forced_ids(merges: Sequence[tuple[str, str]], tokens: list[bytes | None], where: str):
    """Ids of resume merges, replaying the id assignment the kernel will do."""
    by_bytes = {b: i for i, b in enumerate(tokens) if b is not None}
    n = len(tokens)
    fa, fb = [], []
    for k, (left, right) in enumerate(merges):
        ids = []
        for s in (left, right):
            b = to_bytes(s)
            if b is None or b not in by_bytes:
                raise InputError(f"{where}: merge {k + 1} ({left!r} {right!r}) uses {s!r}, which no earlier "
                                 "merge made")
            ids.append(by_bytes[b])
        fa.append(ids[0])
        fb.append(ids[1])
        new = to_bytes(left) + to_bytes(right)
        if new not in by_bytes:
            by_bytes[new] = n
            n += 1
    return np.asarray(fa, np.int32), np.asarray(fb, np.int32), n


def estimate_memory(n_bytes: int, *, per_line: bool = True, threads: int | None = None,
                    max_words: int | None = None) -> dict:
    """A rough peak-memory estimate (bytes) for training on n_bytes of text, before reading it.

    Parts: the runtime (Python, numpy, tokenizers and the compiled kernels: about 40 MB, measured; about
    150 MB when the kernels run on numba's JIT, see `tokkit.kernels.aot`), the text held at once (a few
    2 MB blocks per thread for per-line files, else the whole text twice: str and UTF-8), and per distinct
    word about 50 bytes per counting thread plus 300 for the merge loop (measured: 155,798 distinct words
    in 50 MB of Python source). Distinct words follow Heaps' law, about 44,000 * (MB / 10) ** 0.79 for
    code and English prose (an overestimate for legal text); max_words caps them."""
    from ..kernels import aot

    threads = max(1, threads or os.cpu_count() or 1)
    distinct = int(44_000 * (max(n_bytes, 1) / 1e7) ** 0.79)
    if max_words:
        distinct = min(distinct, 2 * max_words)
    text = 3 * (2 << 20) * threads if per_line else 2 * n_bytes
    info = aot.status()
    runtime = int(40e6 if info["mode"] != "jit" and not info["failure"] else 150e6)
    words = distinct * (50 * threads + 300)
    return dict(bytes=runtime + text + words, distinct_words=distinct, runtime=runtime, text=text, words=words)


def _run_kernel(sym, wstart, wcount, tokens, vocab_size, min_frequency, fa, fb, quiet, max_token_words=0):
    bpe_train = kernel("bpe_train")
    pool = b"".join(t or b"" for t in tokens)
    off = np.zeros(len(tokens), np.int64)
    lens = np.full(len(tokens), -1, np.int32)
    pos = 0
    for i, t in enumerate(tokens):
        if t is not None:
            off[i], lens[i] = pos, len(t)
            pos += len(t)
    tok_pool = np.frombuffer(pool, np.uint8).copy() if pool else np.zeros(16, np.uint8)
    prog = np.zeros(1, np.int64)
    result = {}

    def work():
        try:
            result["out"] = bpe_train(sym, wstart, wcount, tok_pool, off, lens, len(tokens), vocab_size,
                                      min_frequency, fa, fb, prog, max_token_words)
        except BaseException as e:  # surfaced in the calling thread
            result["error"] = e

    th = threading.Thread(target=work, daemon=True)
    th.start()
    total = max(0, vocab_size - len(tokens)) + len(fa)
    with progress("merging", total=total, quiet=quiet, unit="merges") as bar:
        done = 0
        while th.is_alive():
            th.join(0.2)
            now = int(prog[0])
            bar.advance(now - done)
            done = now
    if "error" in result:
        raise result["error"]
    ma, mb, mt, pool_out, off_out, len_out, n_tok, wlen = result["out"]
    raw = pool_out.tobytes()
    out_tokens = list(tokens)
    for i in range(len(tokens), int(n_tok)):
        out_tokens.append(raw[off_out[i]:off_out[i] + len_out[i]])
    merges = list(zip(ma.tolist(), mb.tolist(), mt.tolist()))
    return out_tokens, merges, wlen


def _note(msg: str) -> None:
    import sys

    sys.stderr.write(msg + "\n")


def count_corpus(texts=None, *, files: Sequence[str] = (), pattern: str = "gpt2", per_line: bool = False,
                 word_counts: Mapping[str, int] | None = None, threads: int | None = None,
                 max_bytes: int | None = None, max_words: int | None = None, quiet: bool = True,
                 unicode: str = "regex"):
    """Pre-tokenize and count documents, files and/or a word-count table (whose entries are pre-tokenized
    too, weighted by their counts). Returns (pool uint8, offsets int64, counts int64, pruned_below)."""
    from ..kernels.counting import WordTable, count_buffer, count_files, pack_texts

    check_pattern(pattern)
    table: WordTable | None = None

    def add(t: WordTable):
        nonlocal table
        table = t if table is None else table.merge(t)

    if texts is not None:
        if isinstance(texts, str):
            raise InputError("texts: expected an iterable of documents, got one string (wrap it in a list)")
        buf, bounds = pack_texts(texts)
        add(count_buffer(buf, bounds, pattern, threads=threads, max_words=max_words, unicode=unicode))
        del buf
    if files:
        paths = [os.fspath(f) for f in files]
        total = sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
        with progress("counting", total=min(total, max_bytes or total) / 1e6, quiet=quiet, unit="MB") as bar:
            add(count_files(paths, pattern, per_line=per_line, threads=threads, max_words=max_words,
                            max_bytes=max_bytes, on_bytes=lambda n: bar.advance(n / 1e6), unicode=unicode))
    if word_counts is not None:
        items = list(word_counts.items())
        for w, c in items:
            if not isinstance(w, str):
                raise InputError(f"word_counts: key {w!r} is not a string")
            if int(c) < 0:
                raise InputError(f"word_counts: negative count {c} for {w!r}")
        buf, bounds = pack_texts(w for w, _ in items)
        weights = np.asarray([int(c) for _, c in items], np.int64)
        add(count_buffer(buf, bounds, pattern, weights=weights, threads=threads, max_words=max_words,
                         unicode=unicode))
    if table is None:
        raise InputError("nothing to train on: pass texts, files or word_counts")
    pool, off, counts = table.words()
    return pool, off, counts, table.pruned_below


def train_native(texts: Iterable[str] | None = None, *, files: Sequence[str] = (), vocab_size: int = 32768,
                 pattern: str | None = None, min_frequency: int = 0, special_tokens: Sequence[str] = (),
                 word_counts: Mapping[str, int] | None = None, per_line: bool = False,
                 resume_from=None, domain_terms: Sequence[str] = (), max_words: int | None = None,
                 threads: int | None = None, max_bytes: int | None = None, out_dir: str | None = None,
                 export_sizes: Sequence[int] = (), quiet: bool = False, max_token_words: int = 0,
                 unicode: str = "regex") -> NativeBPE:
    """Train a byte-level BPE tokenizer with the numba trainer.

    texts / files / word_counts: the corpus (documents, UTF-8 files read whole or per line, or a
    word -> count table whose entries are pre-tokenized with `pattern` and weighted by their counts).
    Standard objective: exactly HF `BpeTrainer(vocab_size, min_frequency, special_tokens,
    initial_alphabet=ByteLevel.alphabet())` with a ByteLevel pre-tokenizer (`pattern="gpt2"`).
    resume_from: a tokenizer.json (path or folder), a NativeBPE or a list of (left, right) merges to replay
    first, then training continues to vocab_size. domain_terms: strings made reachable as tokens by
    merges appended at the end (within vocab_size). max_words: bound memory by pruning rare words when the
    table of distinct words is larger. out_dir: write tokenizer.json + card (and export_sizes).
    unicode: "regex" (character classes of the `regex` module) or "hf" (as HF's Oniguruma classes them,
    an older Unicode version: identical merges to HF also on text with recently assigned characters)."""
    t0 = time.perf_counter()
    specials = list(dict.fromkeys(special_tokens))
    forced_merges: list[tuple[str, str]] = []
    if resume_from is not None:
        r_specials, forced_merges, r_pattern = load_merges(resume_from)
        if r_specials and not specials:
            specials = r_specials
        if pattern is None:
            pattern = r_pattern
    pattern = pattern or "gpt2"
    check_pattern(pattern)
    tokens0 = base_tokens(specials)
    if vocab_size < len(tokens0):
        raise InputError(f"vocab_size={vocab_size}: must be at least {len(tokens0)} (special tokens + 256 bytes)")
    if min_frequency < 0:
        raise InputError(f"min_frequency={min_frequency}: must be >= 0")
    if max_words is not None and max_words < 1:
        raise InputError(f"max_words={max_words}: must be >= 1")

    if files and not quiet:
        size = sum(os.path.getsize(f) for f in files if os.path.isfile(f))
        est = estimate_memory(min(size, max_bytes or size), per_line=per_line, threads=threads,
                              max_words=max_words)
        _note(f"training on {size / 1e6:,.1f} MB: peak memory about {est['bytes'] / 2**20:,.0f} MiB "
              f"(~{est['distinct_words']:,} distinct words{'' if max_words else '; bound it with max_words'})")
    pool, off, counts, pruned_below = count_corpus(texts, files=files, pattern=pattern, per_line=per_line,
                                                   word_counts=word_counts, threads=threads,
                                                   max_bytes=max_bytes, max_words=max_words, quiet=quiet,
                                                   unicode=unicode)
    t_count = time.perf_counter()
    if len(counts) == 0 and not forced_merges:
        raise EmptyInputError("the corpus holds no text to train on")
    stats = dict(distinct_words=int(len(counts)), words=int(counts.sum()) if len(counts) else 0)
    if max_words is not None:
        stats.update(pruned_below=pruned_below, max_words=max_words)

    fa, fb, _ = _forced_ids(forced_merges, tokens0, "resume_from")
    byte_to_id = byte_ids(tokens0)
    sym = byte_to_id[pool]
    del pool
    tokens, merges, _ = _run_kernel(sym, off, counts, tokens0, vocab_size, min_frequency, fa, fb, quiet,
                                    max_token_words)
    del sym, off, counts
    release_free_memory()
    model = NativeBPE(specials, tokens, merges, pattern)
    if domain_terms:
        # the terms' merges go last; shrink the trained prefix (first-k: exactly a smaller training) until
        # everything fits in vocab_size
        budget = vocab_size
        while True:
            with_terms = add_domain_terms(model.at_vocab_size(budget), domain_terms)
            if with_terms.vocab_size <= vocab_size:
                break
            budget -= with_terms.vocab_size - vocab_size
            if budget < len(tokens0):
                raise InputError(f"domain_terms: {len(domain_terms)} terms need more than "
                                 f"vocab_size={vocab_size}")
        model = with_terms
    t_end = time.perf_counter()
    model.timings = dict(count_s=round(t_count - t0, 3), merge_s=round(t_end - t_count, 3),
                         total_s=round(t_end - t0, 3))
    model.stats = stats
    if out_dir is not None:
        model.save(out_dir, parameters=dict(vocab_size=vocab_size, min_frequency=min_frequency,
                                            special_tokens=specials, per_line=per_line,
                                            resumed_merges=len(forced_merges), domain_terms=list(domain_terms),
                                            max_words=max_words, unicode=unicode),
                   corpus=dict(files=[os.fspath(f) for f in files], **stats), export_sizes=export_sizes)
    return model


def _encode_piece(model: NativeBPE, data: bytes, ranks: dict[tuple[int, int], int]) -> list[int]:
    """BPE-encode one piece with the model's merges (lowest rank first)."""
    by_bytes = {t: i for i, t in enumerate(model.tokens) if t is not None}
    ids = [by_bytes[bytes([b])] for b in data]
    while len(ids) > 1:
        best = min(range(len(ids) - 1), key=lambda k: ranks.get((ids[k], ids[k + 1]), 1 << 60))
        r = ranks.get((ids[best], ids[best + 1]))
        if r is None:
            break
        ids[best:best + 2] = [model.merges[r][2]]
    return ids


def add_domain_terms(model: NativeBPE, terms: Sequence[str]) -> NativeBPE:
    """Append merges so that each pre-token piece of each term becomes one token that BPE reaches
    (the terms stay ordinary text: never cut out as added tokens)."""
    from ..kernels.pretokenize import pretokenize

    tokens, merges = list(model.tokens), list(model.merges)
    by_bytes = {t: i for i, t in enumerate(tokens) if t is not None}
    work = NativeBPE(model.special_tokens, tokens, merges, model.pattern)
    for term in terms:
        if not isinstance(term, str) or not term:
            raise InputError(f"domain_terms: {term!r} is not a non-empty string")
        for piece in pretokenize(term, model.pattern):
            data = piece.encode("utf-8")
            for _ in range(len(data)):
                ranks = {(a, b): r for r, (a, b, _) in enumerate(merges)}
                ids = _encode_piece(work, data, ranks)
                if len(ids) == 1:
                    break
                a, b = ids[0], ids[1]
                new = tokens[a] + tokens[b]
                t = by_bytes.get(new)
                if t is None:
                    t = len(tokens)
                    tokens.append(new)
                    by_bytes[new] = t
                merges.append((a, b, t))
    return NativeBPE(model.special_tokens, tokens, merges, model.pattern, model.timings, model.stats)


def train_superword_native(texts: Iterable[str] | None = None, *, files: Sequence[str] = (),
                           vocab_size: int = 32768, transition: int | None = None, stage1_pattern: str = "gpt4o",
                           max_token_words: int = 4, out_dir: str | None = None, quiet: bool = False,
                           **kw) -> NativeBPE:
    """SuperBPE natively: stage 1 trains ordinary BPE with `stage1_pattern` up to `transition` tokens
    (default 80% of vocab_size); stage 2 keeps those merges and continues with the superword split,
    whose pieces run across single spaces, so tokens can span words (at most max_token_words, never ": ").
    The tokenizer.json uses the superword split, as SuperBPE's does."""
    transition = int(transition if transition is not None else vocab_size * 0.8)
    if not 256 < transition <= vocab_size:
        raise InputError(f"transition={transition}: must be in (256, vocab_size={vocab_size}]")
    if max_token_words < 1:
        raise InputError(f"max_token_words={max_token_words}: must be >= 1")
    texts = list(texts) if texts is not None else None
    stage1 = train_native(texts, files=files, vocab_size=transition, pattern=stage1_pattern, quiet=quiet, **kw)
    stage2 = train_native(texts, files=files, vocab_size=vocab_size, pattern="superword", resume_from=stage1,
                          quiet=quiet, max_token_words=max_token_words, **kw)
    stage2.stats.update(transition=transition, stage1_merges=len(stage1.merges), stage1_pattern=stage1_pattern)
    stage2.timings = {f"stage1_{k}": v for k, v in stage1.timings.items()} | \
        {f"stage2_{k}": v for k, v in stage2.timings.items()}
    if out_dir is not None:
        stage2.save(out_dir, parameters=dict(recipe="superword", vocab_size=vocab_size, transition=transition,
                                             stage1_pattern=stage1_pattern, max_token_words=max_token_words))
    return stage2
