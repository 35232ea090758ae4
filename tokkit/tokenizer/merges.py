"""Merges I/O: the one parser of the merges in a Hugging Face tokenizer.json (both spellings: "a b"
strings of older files, [a, b] pairs of newer ones), the merges of a tiktoken ranks table, and the one writer of a BPE
tokenizer.json from tokens and merges by id."""

from __future__ import annotations

import json
import os
from json.encoder import encode_basestring
from typing import Any, Sequence

from ..errors import InputError


def parse_merges(model: dict) -> list[tuple[str, str]]:
    """The merges of a tokenizer.json's "model" object, as (left, right) string pairs, in rank order."""
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model.get("merges", [])]


def special_tokens_of(spec: dict) -> list[str]:
    """The special added tokens of a tokenizer.json, in id order."""
    added = sorted(spec.get("added_tokens", []), key=lambda t: t.get("id", 0))
    return [t["content"] for t in added if t.get("special")]


def tokenizer_spec(source: Any, *, what: str = "tokenizer.json") -> dict:
    """The parsed tokenizer.json of a path (a file, or a folder holding tokenizer.json), a
    `tokenizers.Tokenizer`, or a tokkit HF tokenizer."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        try:
            with open(path, encoding="utf-8") as fh:
                spec = json.load(fh)
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: cannot read a {what} ({e})") from None
        if not isinstance(spec, dict) or not isinstance(spec.get("model", {}), dict):
            raise InputError(f"{path}: not a {what} (a JSON object with a \"model\" object; found "
                             f"{type(spec).__name__})")
        return spec
    engine = getattr(source, "engine", source)
    if hasattr(engine, "to_str"):
        return json.loads(engine.to_str())
    raise InputError(f"{type(source).__name__}: expected a tokenizer.json path or a Hugging Face tokenizer")


def read_merges(source: Any, *, what: str = "tokenizer.json") -> tuple[list[str], list[tuple[str, str]]]:
    """(special tokens, merges) of a BPE tokenizer.json (see `tokenizer_spec` for the sources)."""
    spec = tokenizer_spec(source, what=what)
    model = spec.get("model") or {}
    if model.get("type") != "BPE":
        raise InputError(f"{source if isinstance(source, (str, os.PathLike)) else 'tokenizer'}: not a BPE "
                         f"tokenizer.json (model type {model.get('type')!r})")
    return special_tokens_of(spec), parse_merges(model)


def write_bpe_json(path, skeleton: dict, tokens: Sequence[str], merges: Sequence[tuple[int, int]]) -> None:
    """Write a BPE tokenizer.json: `skeleton` (a parsed tokenizer.json whose model holds no vocabulary or
    merges yet) with the vocabulary (`tokens` by id) and the merges (pairs of ids) streamed into it, the JSON
    `tokenizers` itself writes with pretty=True. Streaming, not building a tokenizers model: at 131,072
    tokens that model and its serialisation cost about 80 MB. Each token is escaped once."""
    skeleton = dict(skeleton, model=dict(skeleton["model"], vocab="\0vocab\0", merges="\0merges\0"))
    head, rest = json.dumps(skeleton, indent=2, ensure_ascii=False).split(json.dumps("\0vocab\0"), 1)
    middle, tail = rest.split(json.dumps("\0merges\0"), 1)
    quoted = [encode_basestring(t) for t in tokens]  # json.dumps(t, ensure_ascii=False) without its setup
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head + "{")
        fh.writelines(f"{',' if i else ''}\n      {q}: {i}" for i, q in enumerate(quoted))
        fh.write(("\n    }" if quoted else "}") + middle + "[")
        fh.writelines(f"{',' if k else ''}\n      [{quoted[a]}, {quoted[b]}]" for k, (a, b) in enumerate(merges))
        fh.write(("\n    ]" if merges else "]") + tail)


def bpe_model(tokens: Sequence[str], merges: Sequence[tuple[int, int]]):
    """A `tokenizers.models.BPE` of these tokens (by id) and merges (pairs of ids)."""
    import tempfile

    from tokenizers import models

    # handed to tokenizers as vocab.json + merges.txt files that it reads itself: built from Python dicts
    # and tuples instead, the model peaks 40 MB higher at 131,072 tokens, above a whole native merge loop.
    # merges.txt cannot hold a token with a space or line break, and its reader drops any line that starts
    # with "#version"; byte-level tokens never hold the former, the latter can occur in code
    if any(tokens[a].startswith("#version") or any(c in tokens[x] for x in (a, b) for c in " \r\n")
           for a, b in merges):
        return models.BPE(vocab={t: i for i, t in enumerate(tokens)},
                          merges=[(tokens[a], tokens[b]) for a, b in merges])
    with tempfile.TemporaryDirectory(prefix="tokkit-bpe-") as tmp:
        vocab, merges_txt = os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt")
        with open(vocab, "w", encoding="utf-8") as fh:
            fh.write("{")
            fh.write(",".join(f"{json.dumps(t, ensure_ascii=False)}:{i}" for i, t in enumerate(tokens)))
            fh.write("}")
        with open(merges_txt, "w", encoding="utf-8") as fh:
            fh.writelines(f"{tokens[a]} {tokens[b]}\n" for a, b in merges)
        return models.BPE.from_file(vocab, merges_txt)


def ranks_to_merges(ranks: dict[bytes, int]) -> list[tuple[bytes, bytes]]:
    """The merges of a tiktoken ranks table, in rank order: each multi-byte token is the one pair that
    tiktoken's BPE, run on its bytes with only the lower ranks, leaves (HF's conversion of tiktoken files)."""
    merges = []
    for tok, r in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(tok) < 2:
            continue
        parts = [tok[i:i + 1] for i in range(len(tok))]
        while len(parts) > 2:
            best, at = None, -1
            for i in range(len(parts) - 1):
                q = ranks.get(parts[i] + parts[i + 1])
                if q is not None and q < r and (best is None or q < best):
                    best, at = q, i
            if at < 0:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        if len(parts) != 2:
            raise InputError(f"ranks: token {tok!r} (rank {r}) is not reachable from lower-ranked tokens")
        merges.append((parts[0], parts[1]))
    return merges
