"""Extend a pretrained byte-level BPE tokenizer with domain merges, keeping every id.

`tokenizer.add_tokens` gives AddedTokens that are cut out of the text before BPE runs (the KL3M defect
`train.terms` describes). Here the base's merges are replayed on the native engine (`native.learn(resume=)`)
and training continues on the domain text; the merges it learns after the base's are appended to the base's
merge list, and their new tokens take ids after the whole base vocabulary (added and special tokens
included). Appended merges rank after every base merge, so BPE finishes the base segmentation first: text on
which no new merge fires encodes to exactly the base ids. The base's normalizer, pre-tokenizer,
post-processor, decoder and special tokens are copied unchanged, and the result is written in the base's own
format (tokenizer.json and its config files, or a tiktoken ranks file) with the tokkit.json card.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import InputError
from ..kernels.split_patterns import kernel_pattern
from ..tokenizer.bytelevel import to_bytes, to_chars
from ..tokenizer.merges import parse_merges, ranks_to_merges, special_tokens_of

SUPPORTED = ("supported bases: a byte-level BPE tokenizer.json (model BPE with a ByteLevel pre-tokenizer, "
             "as GPT-2, SmolLM2, Llama 3 or any tokkit artifact) or a tiktoken ranks file")
# files of a Hugging Face tokenizer folder that stay valid for the extension (the slow tokenizer's
# vocab.json / merges.txt would not: they are left out, tokenizer.json serves both)
# the largest special-token id of the public tiktoken encodings: their special tokens are not in the ranks
# file, so the new tokens start after them (tiktoken's own registry: <|endoftext|>, the fim tokens,
# <|endofprompt|>; Llama 3's 256 reserved tokens)
_TIKTOKEN_LAST_SPECIAL = {"r50k_base": 50256, "p50k_base": 50256, "gpt2": 50256, "cl100k_base": 100276,
                          "o200k_base": 200018, "llama3": 128255}
_CONFIG_FILES = ("tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "config.json")


@dataclass
class Base:
    """A byte-level BPE read for extension: ordinary tokens by bytes, merges as byte pairs, ids in use."""
    kind: str                       # "json" or "tiktoken"
    source: str
    ids: dict[bytes, int]           # ordinary tokens (not added tokens) -> id
    merges: list[tuple[bytes, bytes]]
    size: int                       # one past the largest id in use (vocabulary and added tokens)
    specials: list[str] = field(default_factory=list)
    spec: dict | None = None        # the tokenizer.json (kind json)
    pattern: str | None = None      # the split regex (kind tiktoken)
    folder: str | None = None       # the folder the tokenizer.json came from, for its config files

    def merge_strings(self) -> list[tuple[str, str]]:
        return [(to_chars(a), to_chars(b)) for a, b in self.merges]


def _resolve(base) -> str:
    """A path for a base given as a path, a tokkit Tokenizer (its source) or a name under $TOKKIT_TOKENIZERS."""
    src = getattr(base, "source", None) or getattr(base, "path", None)
    if not isinstance(base, (str, os.PathLike)):
        if src is None:
            raise InputError(f"{type(base).__name__}: pass the base tokenizer as a path ({SUPPORTED})")
        base = src
    path = os.fspath(base)
    if os.path.exists(path):
        return path
    from .._paths import tokenizers_root

    root = tokenizers_root()
    if root is not None and not os.path.isabs(path):
        for cand in (root / path, root / "tiktoken" / f"{path}.tiktoken"):
            if cand.exists():
                return str(cand)
    raise InputError(f"{path}: no such tokenizer file or folder ({SUPPORTED})")


def _is_byte_level(node) -> bool:
    """Whether a pre-tokenizer (tokenizer.json object) maps text to byte-level symbols."""
    if not isinstance(node, dict):
        return False
    if node.get("type") == "ByteLevel":
        return True
    return any(_is_byte_level(p) for p in node.get("pretokenizers", []) or [])


def load_base(base, *, split_pattern: str | None = None) -> Base:
    """Read a base for extension (see `extend`), or raise InputError naming what is supported."""
    path = _resolve(base)
    folder = None
    if os.path.isdir(path):
        folder = path
        cands = [os.path.join(path, f) for f in sorted(os.listdir(path))]
        js = os.path.join(path, "tokenizer.json")
        tik = [c for c in cands if c.endswith(".tiktoken")]
        if os.path.isfile(js):
            path = js
        elif tik:
            path = tik[0]
        else:
            raise InputError(f"{path}: no tokenizer.json or .tiktoken file in this folder ({SUPPORTED}; a "
                             "WordPiece vocab.txt or a SentencePiece .model cannot be extended)")
    from ..tokenizer.tiktoken_ranks import PATTERNS, known_pattern, looks_like_ranks, read_ranks

    if path.endswith(".tiktoken") or looks_like_ranks(path):
        key = known_pattern(path)
        pattern = PATTERNS.get(split_pattern, split_pattern) if split_pattern else PATTERNS.get(key or "")
        if pattern is None:
            raise InputError(f"{path}: a tiktoken ranks file carries no split pattern; pass split_pattern= (CLI: "
                             f"--split-pattern) as a regex or one of {', '.join(sorted(PATTERNS))}")
        ranks = read_ranks(path)
        missing = [b for b in range(256) if bytes([b]) not in ranks]
        if missing:
            raise InputError(f"{path}: not a byte-level BPE (bytes {missing[:5]} have no rank)")
        size = max(max(ranks.values()), _TIKTOKEN_LAST_SPECIAL.get(key or "", -1)) + 1
        return Base("tiktoken", path, dict(ranks), ranks_to_merges(ranks), size,
                    pattern=pattern, folder=folder)
    if not path.endswith(".json"):
        raise InputError(f"{path}: cannot extend this tokenizer ({SUPPORTED})")
    from ..tokenizer.merges import tokenizer_spec

    spec = tokenizer_spec(path)
    model = spec.get("model") or {}
    # older files (GPT-2's) name no model type: a model with merges is BPE
    mtype = model.get("type") or ("BPE" if "merges" in model else "WordPiece" if "continuing_subword_prefix" in
                                  model and "max_input_chars_per_word" in model else "Unigram" if
                                  isinstance(model.get("vocab"), list) else "non-BPE")
    if mtype != "BPE" or not _is_byte_level(spec.get("pre_tokenizer")):
        kind = mtype if mtype != "BPE" else "BPE without a ByteLevel pre-tokenizer"
        raise InputError(f"{path}: a {kind} tokenizer cannot be extended ({SUPPORTED})")
    added = {t["content"] for t in spec.get("added_tokens", [])}
    ids: dict[bytes, int] = {}
    for s, i in model.get("vocab", {}).items():
        b = to_bytes(s)
        if b is None:
            if s in added:
                continue
            raise InputError(f"{path}: token {s!r} is not byte-level ({SUPPORTED})")
        ids.setdefault(b, i)
    merges = [(to_bytes(a), to_bytes(b)) for a, b in parse_merges(model)]
    if any(a is None or b is None for a, b in merges):
        raise InputError(f"{path}: a merge holds a character outside the byte-level alphabet ({SUPPORTED})")
    used = list(model.get("vocab", {}).values()) + [t["id"] for t in spec.get("added_tokens", [])]
    return Base("json", path, ids, merges, max(used) + 1, specials=special_tokens_of(spec), spec=spec,
                folder=folder or os.path.dirname(path))


class _Splitter:
    """The base's own normalizer and split, to count the domain text in the pieces BPE will see."""

    def __init__(self, base: Base):
        self.kernel = None
        self.hf = None
        self.rx = None
        if base.kind == "tiktoken":
            self.kernel = kernel_pattern(base.pattern)
            if self.kernel is None:
                import regex

                self.rx = regex.compile(base.pattern)
            return
        spec = base.spec
        pre = spec.get("pre_tokenizer") or {}
        if spec.get("normalizer") is None and pre.get("type") == "ByteLevel" and pre.get("use_regex", True) \
                and not pre.get("add_prefix_space"):
            self.kernel = "gpt2"
            return
        from tokenizers import Tokenizer

        self.hf = Tokenizer.from_str(json.dumps(spec))

    def pieces(self, text: str) -> list[str]:
        """The pre-tokens of a text, as text."""
        if self.hf is not None:
            if self.hf.normalizer is not None:
                text = self.hf.normalizer.normalize_str(text)
            return [to_bytes(p).decode("utf-8", "surrogateescape")
                    for p, _ in self.hf.pre_tokenizer.pre_tokenize_str(text)]
        if self.rx is not None:
            return self.rx.findall(text)
        import regex

        from ..kernels.split_patterns import PATTERNS

        return regex.findall(PATTERNS[self.kernel], text)

    def counts(self, texts: Iterable[str]) -> Counter:
        c: Counter = Counter()
        for t in texts:
            if not isinstance(t, str):
                raise InputError(f"docs: expected strings, got {type(t).__name__}")
            c.update(self.pieces(t))
        return c


def _documents(docs, quiet: bool):
    if isinstance(docs, str) and not os.path.exists(docs):
        raise InputError("docs: expected documents (an iterable of strings) or corpus paths, got one string")
    if hasattr(docs, "texts") or isinstance(docs, (str, os.PathLike)) or (isinstance(docs, (list, tuple)) and docs
                                                 and all(isinstance(d, os.PathLike) or (isinstance(d, str)
                                                         and os.path.exists(d)) for d in docs)):
        from .common import CorpusStream

        return CorpusStream(docs, quiet=quiet)
    return docs


@dataclass
class Extension:
    """What `extend` appended: merges as byte pairs and the ids of their tokens (a base id when the token
    already existed, unreachable by the base's merges)."""
    merges: list[tuple[bytes, bytes]]
    ids: list[int]
    new_tokens: int
    term_merges: int = 0


def _learn(base: Base, docs, add: int, terms: list[str], *, min_frequency: int, max_words, threads, quiet):
    from .native import learn, prepare_kernels
    from .terms import chain_merges

    splitter = _Splitter(base)
    targets = []
    for t in terms:
        for text in dict.fromkeys([t, " " + t]):
            p = splitter.pieces(text)
            if len(p) != 1:
                raise InputError(f"term {t!r}: the base's split cuts {text!r} into {len(p)} pieces ({p}); "
                                 "extension keeps the base pre-tokenizer, so a term must be one pre-token")
            targets.append(to_chars(p[0].encode("utf-8", "surrogateescape")))
    prepare_kernels(quiet=quiet)
    forced = base.merge_strings()
    reach = {bytes([b]) for b in range(256)}  # what the base's merges can make
    for a, b in base.merges:
        reach.add(a + b)
    n_replayed = len(reach)
    slack = sum(len(to_bytes(x)) - 1 for x in targets)  # room for the term merges
    if isinstance(docs, dict):  # a word-count table: each entry split as the base splits text
        table: Counter = Counter()
        for w, c in docs.items():
            if not isinstance(w, str) or int(c) < 0:
                raise InputError(f"docs: word-count entry {w!r}: {c!r} is not a string with a count >= 0")
            for piece in splitter.pieces(w):
                table[piece] += int(c)
        docs = dict(table)
    elif splitter.kernel is None:
        docs = dict(splitter.counts(docs))
    elif not isinstance(docs, (list, tuple)):
        docs = list(docs)  # read once, counted again if the engine must be asked for more merges
    margin = max(16, add // 10)
    while True:
        kw = dict(vocab_size=n_replayed + add + slack + margin, min_frequency=min_frequency, resume=forced,
                  max_words=max_words, threads=threads, quiet=quiet)
        if isinstance(docs, dict):
            model = learn(word_counts=docs, pattern="none", **kw)
        else:
            model = learn(docs, pattern=splitter.kernel, unicode="hf" if base.kind == "json" else "regex", **kw)
        raw = [(model.tokens[a], model.tokens[b]) for a, b, _ in model.merges[len(forced):]]
        # a learnt merge whose token the base already has (in its vocabulary, unreachable by its merges)
        # would give text a base id that its base encoding lacks: such merges, and those built on them, go
        have, learned = set(reach), []
        for a, b in raw:
            if a in have and b in have and a + b not in have and a + b not in base.ids:
                learned.append((a, b))
                have.add(a + b)
        exhausted = len(model.tokens) < kw["vocab_size"]
        if len(learned) >= add + slack or exhausted:
            break
        margin = 2 * margin + (add + slack - len(learned))
    # the term merges after a prefix of the learnt ones, within `add` new tokens
    head = min(len(learned), add)
    while True:
        strings = forced + [(to_chars(a), to_chars(b)) for a, b in learned[:head]]
        vocab = {to_chars(t) for t in reach} | {to_chars(a + b) for a, b in learned[:head]}
        extra, new_term_tokens = chain_merges([list(t) for t in targets], strings, vocab)
        n_new = head + len(new_term_tokens)
        if n_new <= add or head == 0:
            break
        head = max(0, head - (n_new - add))
    if n_new > add:
        raise InputError(f"add={add} cannot hold the {n_new} tokens the domain terms need")
    merges = learned[:head] + [(to_bytes(a), to_bytes(b)) for a, b in extra]
    tokens_now = set(reach) | {a + b for a, b in merges}
    for a, b in learned[head:]:  # refill after the term merges, in learnt order
        if n_new >= add:
            break
        if a in tokens_now and b in tokens_now and a + b not in tokens_now:
            merges.append((a, b))
            tokens_now.add(a + b)
            n_new += 1
    if n_new < add:
        raise InputError(f"the corpus supplies only {n_new} new tokens at min_frequency={min_frequency}, fewer "
                         f"than add={add}: pass add={n_new} or less, or more text")
    return merges, len(extra), model


def extend(base, docs, *, add: int, out: str | os.PathLike | None = None, terms=None, terms_file=None,
           split_pattern: str | None = None, min_frequency: int = 2, max_words: int | None = None,
           threads: int | None = None, quiet: bool = True):
    """Extend a pretrained byte-level BPE tokenizer by `add` new tokens learnt on `docs`, keeping every id.

    The base's merges are replayed on the native engine, which then learns merges on `docs` (pieces split
    exactly as the base splits them) until `add` new tokens exist. New tokens get ids from the base's size on
    (after the added and special tokens). With `out`, writes the base's format: tokenizer.json with the base
    folder's config files (AutoTokenizer loads it), or `<name>.tiktoken` + split_pattern.txt; plus tokkit.json.

    Args:
        base: a tokenizer.json (or its folder; model BPE with a ByteLevel pre-tokenizer), a tiktoken ranks
            file, or a name under $TOKKIT_TOKENIZERS.
        docs: documents (strings), corpus paths, or a word -> count table.
        add: how many new tokens.
        out: the folder to write; None: nothing is written.
        terms: domain terms that become single tokens (each must be one pre-token of the base's split).
        terms_file: a file of terms, one per line.
        split_pattern: a tiktoken base's split regex or a known name; else recognised from the file name.
        min_frequency: the smallest count of a pair that may merge.
        max_words: bound memory: keep at most this many distinct words while counting.
        threads: counting threads.
        quiet: no progress notices.

    Returns:
        The extended `tokkit.tokenizer.Tokenizer` (`.card`, and `.extension`: the appended merges and their ids).

    Raises:
        InputError: a base that is not byte-level BPE, or a corpus that supplies fewer than `add` tokens.
    """
    from .._atomic import check_out
    from .artifacts import Card
    from .common import check_min_frequency
    from .terms import read_terms

    t0 = time.perf_counter()
    if not isinstance(add, int) or add < 1:
        raise InputError(f"add={add!r}: expected a positive number of new tokens")
    min_frequency = check_min_frequency(min_frequency)
    b = load_base(base, split_pattern=split_pattern)
    if out is not None:
        check_out(out, inputs=[b.source])
    term_list: list[str] = []
    for src in (terms, terms_file):
        if src is not None:
            term_list += [t for t in read_terms(src) if t not in term_list]
    t_load = time.perf_counter()
    merges, n_terms, model = _learn(b, _documents(docs, quiet), add, term_list, min_frequency=min_frequency,
                                    max_words=max_words, threads=threads, quiet=quiet)
    t_learn = time.perf_counter()
    ids, new_ids = [], {}
    nxt = b.size
    for x, y in merges:
        t = x + y
        i = b.ids.get(t, new_ids.get(t))
        if i is None:
            i = new_ids[t] = nxt
            nxt += 1
        ids.append(i)
    ext = Extension(merges, ids, len(new_ids), n_terms)
    params = dict(base=b.source, base_format=b.kind, base_size=b.size, add=add, min_frequency=min_frequency,
                  terms=len(term_list), terms_source=os.fspath(terms_file) if terms_file else
                  (os.fspath(terms) if isinstance(terms, (str, os.PathLike)) else None), max_words=max_words)
    card = Card("extend", params, dict(model.stats), dict(load_s=round(t_load - t0, 3), learn_s=round(
        t_learn - t_load, 3), total_s=round(time.perf_counter() - t0, 3)),
        dict(size=nxt, base_size=b.size, new_tokens=len(new_ids), appended_merges=len(merges),
             term_merges=n_terms))
    writers = _writers(b, ext, new_ids)
    if out is not None:
        from ..tokenizer import load_tokenizer
        from .artifacts import write_artifacts

        write_artifacts(out, card, writers)
        tok = load_tokenizer(os.fspath(out), split_pattern=b.pattern)
    else:
        with tempfile.TemporaryDirectory(prefix="tokkit-extend-") as tmp:
            for name, w in writers.items():
                w(os.path.join(tmp, name))
            tok = _load_written(tmp, b)
    tok.card = card.to_dict()
    tok.extension = ext
    return tok


def _load_written(folder: str, b: Base):
    from ..tokenizer.hf import HFTokenizer
    from ..tokenizer.tiktoken_ranks import TiktokenTokenizer

    if b.kind == "json":
        from tokenizers import Tokenizer

        return HFTokenizer(None, engine=Tokenizer.from_file(os.path.join(folder, "tokenizer.json")),
                           name="extended")
    name = [f for f in os.listdir(folder) if f.endswith(".tiktoken")][0]
    return TiktokenTokenizer(os.path.join(folder, name), pattern=b.pattern)


def _writers(b: Base, ext: Extension, new_ids: dict[bytes, int]) -> dict:
    """The files of the extended tokenizer in the base's format: name -> writer(path)."""
    if b.kind == "tiktoken":
        stem = os.path.basename(b.source).split(".")[0]

        def ranks(path):
            rows = sorted(list(b.ids.items()) + list(new_ids.items()), key=lambda kv: kv[1])
            with open(path, "wb") as fh:
                fh.writelines(base64.b64encode(t) + b" " + str(i).encode() + b"\n" for t, i in rows)

        def pattern(path):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(b.pattern)

        return {f"{stem}.tiktoken": ranks, "split_pattern.txt": pattern}

    def tokenizer_json(path):
        spec = dict(b.spec)
        model = dict(spec["model"])
        vocab = dict(model["vocab"])
        for t, i in new_ids.items():
            vocab[to_chars(t)] = i
        old = model.get("merges", [])
        as_str = bool(old) and isinstance(old[0], str)
        pairs = [(to_chars(x), to_chars(y)) for x, y in ext.merges]
        model["vocab"] = vocab
        model["merges"] = list(old) + [f"{x} {y}" if as_str else [x, y] for x, y in pairs]
        spec["model"] = model
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(spec, fh, ensure_ascii=False, indent=2)

    writers: dict[str, Any] = {"tokenizer.json": tokenizer_json}
    for name in _CONFIG_FILES:
        src = os.path.join(b.folder, name) if b.folder else None
        if src and os.path.isfile(src) and name != "config.json":
            writers[name] = (lambda s: lambda path: shutil.copyfile(s, path))(src)
    if "tokenizer_config.json" not in writers:
        from .common import hf_tokenizer_config, write_json_file

        writers["tokenizer_config.json"] = write_json_file(hf_tokenizer_config(b.specials))
    return writers


def new_token_parts(base_tok, new_tok, *, split_pattern: str | None = None):
    """For each id of `new_tok` beyond `base_tok`'s size: (id, base ids its bytes encode to under the base
    merges, (left id, right id) of the merge that makes it). The inputs of `extend_model`."""
    from .terms import bpe_segment

    b = load_base(base_tok, split_pattern=split_pattern)
    n = load_base(new_tok, split_pattern=split_pattern or b.pattern)
    ranks = {(to_chars(x), to_chars(y)): r for r, (x, y) in enumerate(b.merges)}
    first_merge: dict[bytes, tuple[bytes, bytes]] = {}
    for x, y in n.merges:
        first_merge.setdefault(x + y, (x, y))
    out = []
    for t, i in sorted(n.ids.items(), key=lambda kv: kv[1]):
        if i < b.size:
            if b.ids.get(t) != i:
                raise InputError(f"{n.source}: id {i} is {t!r} here but not in {b.source}: not an extension of it")
            continue
        seg = bpe_segment([to_chars(bytes([c])) for c in t], ranks)
        parts = first_merge.get(t)
        if parts is None:
            raise InputError(f"{n.source}: new token {t!r} (id {i}) is made by no merge")
        out.append((i, [b.ids[to_bytes(s)] for s in seg], (n.ids[parts[0]], n.ids[parts[1]])))
    return b.size, max([b.size - 1] + [i for i, _, _ in out]) + 1, out

