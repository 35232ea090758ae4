"""Parity-aware BPE (Foroutan et al. 2025), a recipe on the native engine: each merge goes to the language
whose parallel dev text is longest in tokens (over its target ratio), as that language's most frequent
pair. Counting and the byte-level vocabulary are the native trainer's (`tokkit.train.native`); the merge
loop is the parity kernel (`tokkit.kernels.bpe_parity`)."""

from __future__ import annotations

import time
import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np

from .._progress import progress
from ..errors import InputError
from ..kernels.aot import kernel
from ..kernels.split_patterns import check_pattern
from .native import NativeBPE, base_tokens, byte_ids, count_corpus, prepare_kernels, token_table


def train_parity(train: Mapping[str, Iterable[str]], dev: Mapping[str, Iterable[str]], *,
                 vocab_size: int = 32768, pre_tokenizer: str = "gpt2", global_merges: int = 0,
                 targets: Mapping[str, float] | None = None, min_frequency: int = 0,
                 special_tokens: Sequence[str] = (), threads: int | None = None, out: str | None = None,
                 quiet: bool = True, allow_smaller: bool = False):
    """Parity-aware byte-level BPE: each merge goes to the language whose dev text is longest (relative to its target).

    The merges stop early when no pair is left (or none reaches `min_frequency`): small parallel corpora run out
    long before a usual vocabulary size.

    Args:
        train: language -> documents to learn merges from.
        dev: language -> documents: the same parallel units in every language (e.g. from
            `tokkit.corpora.parallel_split`).
        vocab_size: the vocabulary size to reach.
        pre_tokenizer: the split before merging.
        global_merges: > 0 first runs that many ordinary merges (hybrid).
        targets: language -> ratio its dev length is divided by (default 1).
        min_frequency: the smallest count of a pair that may merge.
        special_tokens: tokens at ids 0..n-1.
        threads: counting threads.
        out: write tokenizer.json and the card there.
        quiet: no progress notices.
        allow_smaller: keep a smaller vocabulary when the merges run out.

    Returns:
        A `tokkit.tokenizer.Tokenizer` carrying the card (`.bpe` holds the merges by id; the card's vocabulary
        has merges_per_language and dev_tokens).

    Raises:
        InputError: the merges ran out before `vocab_size` (the message says how many there were), unless
            `allow_smaller`.
    """
    prepare_kernels(quiet=quiet)  # a first compile is not training time
    bpe_train_parity = kernel("bpe_train_parity")

    t0 = time.perf_counter()
    check_pattern(pre_tokenizer)
    langs = list(train)
    if not langs:
        raise InputError("train: no languages")
    missing = [c for c in langs if c not in dev]
    if missing:
        raise InputError(f"dev: no parallel dev text for {', '.join(missing)}")
    targets = dict(targets or {})
    tgt = np.asarray([float(targets.get(c, 1.0)) for c in langs], np.float64)
    if (tgt <= 0).any():
        raise InputError("targets: every target ratio must be > 0")
    if min_frequency < 0:
        raise InputError(f"min_frequency={min_frequency}: must be >= 0")
    specials = list(dict.fromkeys(special_tokens))
    tokens0 = base_tokens(specials)
    if vocab_size < len(tokens0):
        raise InputError(f"vocab_size={vocab_size}: must be at least {len(tokens0)} (special tokens + 256 bytes)")
    byte_to_id = byte_ids(tokens0)
    pools, offs, counts, groups, devs = [], [], [], [], []
    base = 0
    for g, code in enumerate(langs):
        for is_dev, docs in ((0, train[code]), (1, dev[code])):
            pool, off, cnt, _ = count_corpus(list(docs), pattern=pre_tokenizer, threads=threads)
            pools.append(pool)
            offs.append(off[:-1] + base)
            base += int(off[-1])
            counts.append(cnt)
            groups.append(np.full(len(cnt), g, np.int32))
            devs.append(np.full(len(cnt), is_dev, np.uint8))
    pool = np.concatenate(pools)
    wstart = np.concatenate(offs + [np.array([base], np.int64)])
    wcount = np.concatenate(counts)
    t_count = time.perf_counter()
    sym = byte_to_id[pool]
    tok_pool, off, lens = token_table(tokens0)
    prog = np.zeros(1, np.int64)
    with progress("parity merges", total=vocab_size - len(tokens0), quiet=quiet, unit="merges") as bar:
        result = bpe_train_parity(sym, wstart, wcount, np.concatenate(groups), np.concatenate(devs), len(langs),
                                  tgt, tok_pool, off, lens, len(tokens0), vocab_size,
                                  min_frequency, global_merges, prog)
        bar.advance(int(prog[0]))
    ma, mb, mt, mg, tpool, toff, tlen, n_tok, devlen = result
    if int(n_tok) < vocab_size and not allow_smaller:
        why = f"no pair occurs {min_frequency} times or more" if min_frequency > 1 else "no pair is left to merge"
        raise InputError(f"parity: the corpus gave {len(ma):,} of the {vocab_size - len(tokens0):,} merges that "
                         f"vocab_size={vocab_size:,} needs ({why}; {int(n_tok):,} tokens): lower vocab_size, "
                         "add text, or pass allow_smaller=True (--allow-smaller) to keep the smaller vocabulary")
    rawp = tpool.tobytes()
    tokens = list(tokens0) + [rawp[toff[i]:toff[i] + tlen[i]] for i in range(len(tokens0), int(n_tok))]
    model = NativeBPE(specials, tokens, list(zip(ma.tolist(), mb.tolist(), mt.tolist())), pre_tokenizer)
    chosen = {c: 0 for c in langs}
    for g in mg.tolist():
        if g >= 0:
            chosen[langs[g]] += 1
    t_end = time.perf_counter()
    model.timings = dict(count_s=round(t_count - t0, 3), merge_s=round(t_end - t_count, 3),
                         total_s=round(t_end - t0, 3))
    model.stats = dict(objective="parity", global_merges=int(global_merges), merges_per_language=chosen,
                       dev_tokens={c: int(v) for c, v in zip(langs, devlen.tolist())})
    card = model.card("parity", parameters=dict(objective="parity", vocab_size=vocab_size, languages=langs,
                                                 pre_tokenizer=pre_tokenizer, global_merges=global_merges,
                                                 targets=targets, min_frequency=min_frequency,
                                                 special_tokens=specials, allow_smaller=allow_smaller))
    tok = model.as_tokenizer(card, name="parity")
    if out is not None:
        tok.save(out)
    return tok


def train_parity_native(train: Mapping[str, Iterable[str]], dev: Mapping[str, Iterable[str]], *,
                        pattern: str | None = None, out_dir: str | None = None, **kw) -> NativeBPE:
    """Deprecated name of `train_parity` (kept one release).

    Args:
        train: as `train_parity`.
        dev: as `train_parity`.
        pattern: now `pre_tokenizer`.
        out_dir: now `out`.
        **kw: the other keywords of `train_parity`.

    Returns:
        What `train_parity` returns.
    """
    warnings.warn("train_parity_native is deprecated: use tokkit.train_parity (pattern -> pre_tokenizer, "
                  "out_dir -> out)", DeprecationWarning, stacklevel=2)
    if pattern is not None:
        kw.setdefault("pre_tokenizer", pattern)
    if out_dir is not None:
        kw.setdefault("out", out_dir)
    return train_parity(train, dev, **kw)
