"""The native engine: tokkit's own byte-level BPE trainer (numba pre-tokenization, counting and merge loop in
`tokkit.kernels`), giving exactly Hugging Face `BpeTrainer`'s merges, from documents, files or word counts,
with resume, first-k export, the superword stage-2 cap and bounded memory. `train_native` is its direct
entry point; the recipes (`train_bpe`, `train_superword`) run on it by default."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from .._memory import release_free_memory
from .._progress import notice, progress
from ..errors import EmptyInputError, InputError
from ..kernels.aot import kernel
from ..kernels.split_patterns import PATTERNS, check_pattern, oniguruma
from ..tokenizer.bytelevel import byte_chars, to_bytes, to_chars
from ..tokenizer.merges import bpe_model, read_merges, write_bpe_json


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
    """A trained byte-level BPE: token bytes by id, the merges in order, and the pipeline it is written with.

    Attributes:
        special_tokens: the special tokens, at ids 0..n-1.
        tokens: id -> bytes (None: a special token outside the byte alphabet).
        merges: (left id, right id, new id), in training order.
        pattern: the kernel's split pattern name.
        timings: seconds per training phase.
        stats: training statistics.
        split: the split regex of the tokenizer.json's Split pre-tokenizer; None: derived from `pattern` (gpt2 as
            ByteLevel's own regex, as tokenizers' ByteLevel trainer setup writes it).
        normalizer: none, NFC or NFKC, applied before the split.
        lowercase: lowercase before the split.
    """
    special_tokens: list[str]
    tokens: list[bytes | None]  # id -> bytes (None: a special token outside the byte alphabet)
    merges: list[tuple[int, int, int]]  # (left id, right id, new id), in training order
    pattern: str = "gpt2"
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    # the split regex of the tokenizer.json's Split pre-tokenizer; None: derived from the kernel pattern
    # name (gpt2 as ByteLevel's own regex, as tokenizers' ByteLevel trainer setup writes it)
    split: str | None = None
    normalizer: str = "none"  # none, NFC or NFKC, applied before the split
    lowercase: bool = False

    @classmethod
    def from_merges(cls, special_tokens: Sequence[str], merges: Sequence[tuple[str, str]], *,
                    where: str = "merges", **kw) -> "NativeBPE":
        """The model that (left, right) byte-level string merges make from the special tokens and the 256 bytes.

        Ids are assigned as HF's trainer assigns them.

        Args:
            special_tokens: the special tokens, at ids 0..n-1.
            merges: (left, right) pairs of byte-level strings, in order.
            where: what the merges came from, for messages.
            **kw: the other fields (pattern, split, normalizer, lowercase).

        Returns:
            The `NativeBPE`.

        Raises:
            InputError: a merge whose parts are not tokens made so far.
        """
        fa, fb, ft, tokens = _forced_ids(merges, base_tokens(list(special_tokens)), where)
        return cls(list(special_tokens), tokens, list(zip(fa.tolist(), fb.tolist(), ft.tolist())), **kw)

    def token_string(self, i: int) -> str:
        """The byte-level string of a token (special tokens as they are).

        Args:
            i: the id.

        Returns:
            The token string (e.g. "Ġthe").
        """
        n = len(self.special_tokens)
        return self.special_tokens[i] if i < n else to_chars(self.tokens[i])

    @property
    def vocab_size(self) -> int:
        """The number of ids: special tokens, 256 bytes and merges."""
        return len(self.tokens)

    @property
    def n_base(self) -> int:
        """Special tokens and byte symbols."""
        return len(base_tokens(self.special_tokens))

    def first(self, k: int) -> "NativeBPE":
        """The tokenizer after the first k merges: what training to that size would have given.

        Args:
            k: the number of merges kept.

        Returns:
            A new `NativeBPE`.
        """
        k = max(0, min(k, len(self.merges)))
        top = max([self.n_base - 1] + [m[2] for m in self.merges[:k]]) + 1
        return replace(self, tokens=self.tokens[:top], merges=self.merges[:k], timings=dict(self.timings),
                       stats=dict(self.stats))

    def at_vocab_size(self, vocab_size: int) -> "NativeBPE":
        """The largest prefix of the merges whose vocabulary fits in `vocab_size`.

        Args:
            vocab_size: the size to fit.

        Returns:
            A new `NativeBPE`.
        """
        base = self.n_base
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
        """The vocabulary, as tokenizer.json writes it.

        Returns:
            Token string -> id.
        """
        return {self.token_string(i): i for i in range(len(self.tokens))}

    def merge_strings(self) -> list[tuple[str, str]]:
        """The merges as byte-level strings.

        Returns:
            (left, right) pairs, in order.
        """
        return [(self.token_string(a), self.token_string(b)) for a, b, _ in self.merges]

    def to_tokenizer(self):
        """A `tokenizers.Tokenizer` (byte-level BPE with this pipeline).

        Returns:
            The tokenizers object.
        """
        return self._configure(self._bpe_model())

    def _configure(self, model):
        """A Tokenizer around `model` with this tokenizer's normalizer, pre-tokenizer, decoder,
        post-processor and special tokens."""
        from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors

        tok = Tokenizer(model)
        norms = [getattr(normalizers, self.normalizer)()] if self.normalizer != "none" else []
        if self.lowercase:
            norms.append(normalizers.Lowercase())
        if norms:
            tok.normalizer = normalizers.Sequence(norms)
        split = self.split if self.split is not None else PATTERNS[self.pattern]
        if self.split is None and self.pattern == "gpt2":
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        elif split is None:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(oniguruma(split)), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        if self.special_tokens:
            tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in self.special_tokens])
        return tok

    def write_json(self, path: str | os.PathLike) -> None:
        """Write the tokenizer.json that `to_tokenizer().save(path)` writes (the same JSON), streamed.

        The vocabulary and merges are streamed (`tokenizer.merges.write_bpe_json`) instead of building the
        tokenizers model.

        Args:
            path: the file to write.
        """
        from tokenizers import models

        # everything but the vocabulary and merges is serialised by tokenizers itself, from a model that
        # holds only the special tokens (so that they get the ids they have here)
        skeleton = json.loads(self._configure(models.BPE(
            vocab={s: i for i, s in enumerate(self.special_tokens)}, merges=[])).to_str())
        write_bpe_json(path, skeleton, [self.token_string(i) for i in range(len(self.tokens))],
                       [(a, b) for a, b, _ in self.merges])

    def _bpe_model(self):
        return bpe_model([self.token_string(i) for i in range(len(self.tokens))],
                         [(a, b) for a, b, _ in self.merges])

    def vocabulary_card(self) -> dict:
        """What `common.hf_vocab_card` gives for this tokenizer, without building it.

        Returns:
            Statistics over the ordinary tokens (not the special tokens).
        """
        from .artifacts import vocabulary_stats

        n = len(self.special_tokens)
        stats = vocabulary_stats([t for t in self.tokens[n:] if t is not None],
                                 decode=lambda t: t.decode("utf-8", "replace"))
        stats["size_with_special_tokens"] = len(self.tokens)
        stats["special_tokens"] = n
        return stats

    def card(self, recipe: str = "native", *, parameters: dict | None = None, corpus: dict | None = None,
             vocabulary: dict | None = None, timings: dict | None = None):
        """The artifact card of this tokenizer.

        Args:
            recipe: the recipe's name.
            parameters: the training parameters.
            corpus: what it was trained on.
            vocabulary: entries added to `vocabulary_card()`, the merge count and the training statistics.
            timings: seconds per phase (default: the training's).

        Returns:
            The `Card`.
        """
        from .artifacts import Card

        return Card(recipe=recipe, parameters=dict(parameters or {}), corpus=dict(corpus or {}),
                    timings=dict(self.timings if timings is None else timings),
                    vocabulary=self.vocabulary_card() | {"merges": len(self.merges)} | self.stats
                    | (vocabulary or {}))

    def save(self, out_dir: str | os.PathLike, *, parameters: dict | None = None,
             corpus: dict | None = None, export_sizes: Sequence[int] = (), card=None) -> str:
        """Write tokenizer.json, tokenizer_config.json and tokkit.json atomically.

        Args:
            out_dir: the artifact folder.
            parameters: the training parameters, for the card.
            corpus: what it was trained on, for the card.
            export_sizes: each size adds tokenizer-<size>.json (the first merges that fit).
            card: a ready card instead of one built from the above.

        Returns:
            The folder written.
        """
        from .artifacts import write_artifacts
        from .common import hf_tokenizer_config, write_json_file

        writers = {"tokenizer.json": self.write_json,
                   "tokenizer_config.json": write_json_file(hf_tokenizer_config(self.special_tokens))}
        for v in export_sizes:
            writers[f"tokenizer-{int(v)}.json"] = self.at_vocab_size(int(v)).write_json
        if card is None:
            card = self.card(parameters=dict(parameters or {}, pattern=self.pattern), corpus=corpus)
        return write_artifacts(out_dir, card, writers)

    def as_tokenizer(self, card, *, name: str = "tokenizer", export_sizes: Sequence[int] = ()):
        """The tokkit `Tokenizer` of this model, carrying `card`.

        Its tokenizers model is built on first use; `save` streams the tokenizer.json.

        Args:
            card: the `Card`.
            name: the tokenizer's name.
            export_sizes: sizes `save` also writes.

        Returns:
            The `Tokenizer`.
        """
        from ..tokenizer.hf import HFTokenizer

        def save_artifact(out: str) -> str:
            path = self.save(out, card=card, export_sizes=export_sizes)
            tok.card = card.to_dict()
            return path

        tok = HFTokenizer(None, name=name, build=self.to_tokenizer, write_json=self.write_json,
                          save_artifact=save_artifact, card=card.to_dict())
        tok.bpe = self  # the merges by id, for resuming without a tokenizer.json
        return tok


def load_merges(source) -> tuple[list[str], list[tuple[str, str]], str | None]:
    """(special tokens, merges as string pairs, pattern) from a tokenizer.json path or folder, a tokenizer
    (one this engine trained, or any Hugging Face BPE), a NativeBPE or a list of string pairs."""
    source = getattr(source, "bpe", source)
    if isinstance(source, NativeBPE):
        return list(source.special_tokens), source.merge_strings(), source.pattern
    if isinstance(source, (str, os.PathLike)) or hasattr(getattr(source, "engine", source), "to_str"):
        specials, merges = read_merges(source, what="tokenizer.json to resume from")
        return specials, merges, None
    return [], [tuple(m) for m in source], None


def _forced_ids(merges: Sequence[tuple[str, str]], tokens: list[bytes | None], where: str):
    """Ids of resume merges, replaying the id assignment the kernel does: (left ids, right ids, new ids, the
    tokens with the merges' new ones appended); a merge whose bytes spell an existing token reuses its id."""
    by_bytes = {b: i for i, b in enumerate(tokens) if b is not None}
    tokens = list(tokens)
    fa, fb, ft = [], [], []
    for k, (left, right) in enumerate(merges):
        ids = []
        for s in (left, right):
            b = to_bytes(s)
            if b is None or b not in by_bytes:
                raise InputError(f"{where}: merge {k + 1} ({left!r} {right!r}) uses {s!r}, which no earlier "
                                 "merge made")
            ids.append(by_bytes[b])
        new = tokens[ids[0]] + tokens[ids[1]]
        if new not in by_bytes:
            by_bytes[new] = len(tokens)
            tokens.append(new)
        fa.append(ids[0])
        fb.append(ids[1])
        ft.append(by_bytes[new])
    return np.asarray(fa, np.int32), np.asarray(fb, np.int32), np.asarray(ft, np.int32), tokens


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


def prepare_kernels(*, quiet: bool = True) -> None:
    """Load (or, once per installation, compile) the training kernels now, so that their compile time stays
    out of a training's timings; unless quiet, a first compile says so and shows a progress line."""
    from ..kernels import aot

    aot.prepare(quiet=quiet)


def token_table(tokens: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernels' token table of the initial tokens: (bytes pool, offset by id, length by id; -1 for a
    special token outside the byte alphabet). The pool is never empty (the kernels grow it in place)."""
    pool = b"".join(t or b"" for t in tokens)
    off = np.zeros(len(tokens), np.int64)
    lens = np.full(len(tokens), -1, np.int32)
    pos = 0
    for i, t in enumerate(tokens):
        if t is not None:
            off[i], lens[i] = pos, len(t)
            pos += len(t)
    return (np.frombuffer(pool, np.uint8).copy() if pool else np.zeros(16, np.uint8)), off, lens


def _run_kernel(sym, wstart, wcount, tokens, vocab_size, min_frequency, quiet, max_token_words=0):
    # resumed merges are replayed before (`kernels.replay`): the loop's own forced merges stay unused here
    bpe_train = kernel("bpe_train")
    tok_pool, off, lens = token_table(tokens)
    prog = np.zeros(1, np.int64)
    none = np.zeros(0, np.int32)
    result = {}

    def work():
        try:
            result["out"] = bpe_train(sym, wstart, wcount, tok_pool, off, lens, len(tokens), vocab_size,
                                      min_frequency, none, none, prog, max_token_words)
        except BaseException as e:  # surfaced in the calling thread
            result["error"] = e

    th = threading.Thread(target=work, daemon=True)
    th.start()
    total = max(0, vocab_size - len(tokens))
    with progress("merging", total=total, quiet=quiet, unit="merges") as bar:
        done = 0
        while th.is_alive():
            th.join(0.2)
            now = int(prog[0])
            bar.advance(now - done)
            done = now
        # the pairs can run out before vocab_size: the bar ends at what was done, not short of a total
        bar.update(completed=int(prog[0]), total=max(int(prog[0]), 1))
    if "error" in result:
        raise result["error"]
    ma, mb, mt, pool_out, off_out, len_out, n_tok, wlen = result["out"]
    raw = pool_out.tobytes()
    out_tokens = list(tokens)
    for i in range(len(tokens), int(n_tok)):
        out_tokens.append(raw[off_out[i]:off_out[i] + len_out[i]])
    merges = list(zip(ma.tolist(), mb.tolist(), mt.tolist()))
    return out_tokens, merges, wlen


# texts are counted in blocks of about this many bytes, so a stream of documents is never held whole
_BLOCK = 32 << 20


def _blocks(texts: Iterable[str]) -> Iterator[list[str]]:
    block, size = [], 0
    for t in texts:
        if not isinstance(t, str):
            raise InputError(f"texts: expected strings, got {type(t).__name__}")
        block.append(t)
        size += len(t)
        if size >= _BLOCK:
            yield block
            block, size = [], 0
    if block:
        yield block


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
        from ..kernels.split_patterns import PATTERNS
        from ..tokenizer.chunks import cut_for_split

        with progress("counting", quiet=quiet, unit="MB") as bar:
            # a huge document in pieces (the same pre-tokens for the standard splits): blocks stay _BLOCK
            for block in _blocks(cut_for_split(texts, PATTERNS.get(pattern))):
                buf, bounds = pack_texts(block)
                del block
                add(count_buffer(buf, bounds, pattern, threads=threads, max_words=max_words, unicode=unicode))
                bar.advance(len(buf) / 1e6)
                del buf
    if files:
        paths = [os.fspath(f) for f in files]
        total = sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
        mb = min(total, max_bytes or total) / 1e6
        with progress("counting", total=mb, quiet=quiet, unit="MB") as bar:
            add(count_files(paths, pattern, per_line=per_line, threads=threads, max_words=max_words,
                            max_bytes=max_bytes, on_bytes=lambda n: bar.advance(n / 1e6), unicode=unicode))
            bar.update(completed=mb)  # the reader reports as it goes; the end is the whole input
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


def learn(texts: Iterable[str] | None = None, *, files: Sequence[str] = (), word_counts=None,
          per_line: bool = False, vocab_size: int = 32768, pattern: str = "gpt2", min_frequency: int = 0,
          special_tokens: Sequence[str] = (), resume=None, max_words: int | None = None,
          threads: int | None = None, max_bytes: int | None = None, quiet: bool = True, max_token_words: int = 0,
          unicode: str = "regex") -> NativeBPE:
    """The engine: count the corpus with the kernel pattern `pattern` and learn merges up to vocab_size (or
    until the pairs run out or fall below min_frequency). resume: merges (see `load_merges`) replayed
    first; its special tokens are used when none are given. Standard objective: exactly HF
    `BpeTrainer(vocab_size, min_frequency, special_tokens, initial_alphabet=ByteLevel.alphabet())` on the
    same pieces (ties go to the pair of smallest token ids, as there)."""
    t0, c0 = time.perf_counter(), time.process_time()
    specials = list(dict.fromkeys(special_tokens))
    forced_merges: list[tuple[str, str]] = []
    if resume is not None:
        r_specials, forced_merges, _ = load_merges(resume)
        if r_specials and not specials:
            specials = r_specials
    check_pattern(pattern)
    tokens0 = base_tokens(specials)
    if vocab_size < len(tokens0):
        raise InputError(f"vocab_size={vocab_size}: must be at least {len(tokens0)} (special tokens + 256 bytes)")
    if min_frequency < 0:
        raise InputError(f"min_frequency={min_frequency}: must be >= 0")
    if max_words is not None and max_words < 1:
        raise InputError(f"max_words={max_words}: must be >= 1")
    if unicode not in ("regex", "hf"):
        raise InputError(f"unicode={unicode!r}: expected regex or hf")
    fa, fb, ft, tokens1 = _forced_ids(forced_merges, tokens0, "resume")

    if files:
        size = sum(os.path.getsize(f) for f in files if os.path.isfile(f))
        est = estimate_memory(min(size, max_bytes or size), per_line=per_line, threads=threads,
                              max_words=max_words)
        notice(f"training on {size / 1e6:,.1f} MB: peak memory about {est['bytes'] / 2**20:,.0f} MiB "
               f"(~{est['distinct_words']:,} distinct words{'' if max_words else '; bound it with max_words'})",
               quiet=quiet)
    pool, off, counts, pruned_below = count_corpus(texts, files=files, pattern=pattern, per_line=per_line,
                                                   word_counts=word_counts, threads=threads,
                                                   max_bytes=max_bytes, max_words=max_words, quiet=quiet,
                                                   unicode=unicode)
    t_count, c_count = time.perf_counter(), time.process_time()
    if len(counts) == 0 and not forced_merges:
        raise EmptyInputError("the corpus holds no text to train on")
    stats = dict(distinct_words=int(len(counts)), words=int(counts.sum()) if len(counts) else 0)
    if max_words is not None:
        stats.update(pruned_below=pruned_below, max_words=max_words)

    if len(fa):  # the resumed merges replayed word by word: the merge loop indexes the short replayed words
        sym, off = kernel("replay_merges")(pool, off, byte_ids(tokens0), fa, fb, ft)
    else:
        sym = byte_ids(tokens0)[pool]
    del pool
    tokens, merges, _ = _run_kernel(sym, off, counts, tokens1, vocab_size, min_frequency, quiet, max_token_words)
    merges = list(zip(fa.tolist(), fb.tolist(), ft.tolist())) + merges
    del sym, off, counts
    release_free_memory()
    t_end = time.perf_counter()
    model = NativeBPE(specials, tokens, merges, pattern)
    # wall seconds, and the process's CPU seconds (all threads), which a busy machine disturbs less
    c_end = time.process_time()
    model.timings = dict(count_s=round(t_count - t0, 3), merge_s=round(t_end - t_count, 3),
                         total_s=round(t_end - t0, 3), count_cpu_s=round(c_count - c0, 3),
                         merge_cpu_s=round(c_end - c_count, 3))
    model.stats = dict(stats, resumed_merges=len(forced_merges))
    return model


def train_native(texts: Iterable[str] | None = None, *, files: Sequence[str] = (), vocab_size: int = 32768,
                 pre_tokenizer: str | None = None, min_frequency: int = 0, special_tokens: Sequence[str] = (),
                 word_counts: Mapping[str, int] | None = None, per_line: bool = False, resume=None,
                 terms: Sequence[str] | None = None, terms_file: str | os.PathLike | None = None,
                 max_words: int | None = None, threads: int | None = None, max_bytes: int | None = None,
                 out: str | os.PathLike | None = None, export_sizes: Sequence[int] = (), quiet: bool = True,
                 max_token_words: int = 0, unicode: str = "regex", allow_smaller: bool = False):
    """Train a byte-level BPE tokenizer on the native engine, from texts, files or word counts.

    Standard objective: exactly HF `BpeTrainer(vocab_size, min_frequency, special_tokens,
    initial_alphabet=ByteLevel.alphabet())` with a ByteLevel pre-tokenizer.

    Args:
        texts: documents.
        files: UTF-8 files, read whole or per line.
        vocab_size: the vocabulary size to reach.
        pre_tokenizer: "gpt2" (default), gpt4o, whitespace, none, superword, or a regex.
        min_frequency: the smallest count of a pair that may merge.
        special_tokens: tokens at ids 0..n-1.
        word_counts: a word -> count table whose entries are pre-tokenized with `pre_tokenizer` and weighted by
            their counts.
        per_line: a document per line of `files`.
        resume: a tokenizer.json (path or folder), a trained tokenizer, a NativeBPE or a list of (left, right)
            merges to replay first; training then continues to vocab_size.
        terms: domain terms made single tokens (`tokkit.train.terms`: each term one pre-token, finished by
            merges, within vocab_size).
        terms_file: a file of terms, one per line.
        max_words: bound memory by pruning rare words when the table of distinct words is larger.
        threads: counting threads.
        max_bytes: read at most this many bytes of text.
        out: the artifact folder; None: nothing is written.
        export_sizes: with `out`, also write tokenizer-<V>.json (the first merges that fit).
        quiet: no progress notices.
        max_token_words: > 0: superword merges across single spaces, at most this many words per token.
        unicode: "regex" (character classes of the `regex` module) or "hf" (as HF's Oniguruma classes them, an
            older Unicode version: identical merges to HF also on text with recently assigned characters).
        allow_smaller: accept a smaller vocabulary.

    Returns:
        A `tokkit.tokenizer.Tokenizer` carrying its card.

    Raises:
        InputError: the corpus cannot supply `vocab_size` tokens (unless `allow_smaller`), or a bad value.
    """
    from .bpe import fit_bytelevel
    from .common import check_export_sizes

    export_sizes = check_export_sizes(export_sizes, vocab_size, 256)  # before any work
    prepare_kernels(quiet=quiet)
    t0 = time.perf_counter()
    if pre_tokenizer is None:
        pre_tokenizer = load_merges(resume)[2] if resume is not None else None
    pre_tokenizer = pre_tokenizer or "gpt2"
    fit = fit_bytelevel(texts, files=files, word_counts=word_counts, per_line=per_line, vocab_size=vocab_size,
                        pre_tokenizer=pre_tokenizer, min_frequency=min_frequency, special_tokens=special_tokens,
                        resume=resume, terms=terms, terms_file=terms_file, max_words=max_words, threads=threads,
                        max_bytes=max_bytes, quiet=quiet, max_token_words=max_token_words, unicode=unicode,
                        allow_smaller=allow_smaller, engine="native", kernel_split=True)
    model = fit.model
    t_end = time.perf_counter()
    model.timings = dict(model.timings, total_s=round(t_end - t0, 3))
    params = dict(vocab_size=vocab_size, pre_tokenizer=pre_tokenizer, min_frequency=min_frequency,
                  special_tokens=model.special_tokens, per_line=per_line,
                  resumed_merges=model.stats.get("resumed_merges", 0), terms=len(fit.terms),
                  terms_source=fit.terms_source, max_words=max_words, max_token_words=max_token_words,
                  unicode=unicode, engine="native", allow_smaller=allow_smaller)
    card = model.card("native", parameters=params,
                      corpus=dict(files=[os.fspath(f) for f in files], **{k: model.stats[k] for k in
                                                                          ("distinct_words", "words")
                                                                          if k in model.stats}),
                      vocabulary=fit.vocabulary)
    tok = model.as_tokenizer(card, export_sizes=export_sizes)
    if out is not None:
        tok.save(out)
    return tok
