"""Superword tokenizers (SuperBPE): tokens that may span several words.

Stage 1 is ordinary byte-level BPE with the GPT-4o split up to a transition vocabulary size. Stage 2 keeps
those merges and continues on a looser split whose pieces are runs of words joined by single spaces, so new
merges may cross those spaces (at most `max_words` words per token). The result is one plain byte-level BPE
`tokenizer.json`: its pre-tokenizer is the stage-2 split and its merges are stage 1's then stage 2's.

Stage 2 starts from exactly the segmentation the final tokenizer produces with the stage-1 merges alone
(computed by `tokenizers` itself), so what is learnt is what inference does. Its merge loop is an
incremental pair count over the distinct stage-2 pieces, in Python: the table of pieces, not the corpus,
bounds its memory and time.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from typing import Any, Iterable, Sequence

import regex

from ..errors import InputError
from .artifacts import Card
from .bpe import _train_merges, assemble, byte_level_alphabet, decode_byte_token, learned_merges
from .common import (CorpusStream, Timer, check_min_frequency, check_normalizer, check_special_tokens,
                     hf_vocab_card, resolve_vocab_size, save_hf)
from .patterns import SUPERWORD_STAGE2, split_pattern

_WORD = regex.compile(r"\S+")


def _pieces(text: str, rx) -> Iterable[str]:
    """The pieces of Split(rx, 'isolated'): the matches and the text between them."""
    pos = 0
    for m in rx.finditer(text):
        if m.start() > pos:
            yield text[pos:m.start()]
        if m.end() > m.start():
            yield m.group()
        pos = m.end()
    if pos < len(text):
        yield text[pos:]


class _Counting:
    """Passes texts through while counting the stage-2 pieces (so the corpus is read once)."""

    def __init__(self, texts: Iterable[str], normalize):
        self.texts, self.normalize = texts, normalize
        self.counts: Counter = Counter()
        self._rx = regex.compile(SUPERWORD_STAGE2)

    def __iter__(self):
        for t in self.texts:
            self.counts.update(_pieces(self.normalize(t), self._rx))
            yield t


def _stage2(seqs: list[list[int]], freqs: list[int], strings: list[str], n_new: int, *, min_frequency: int,
            max_words: int) -> list[tuple[int, int]]:
    """Greedy BPE merges over id sequences with counts until `n_new` new tokens exist; returns (left id,
    right id) pairs, appending each new token's string to `strings` (a merge whose result is already a token
    reuses it). A pair whose token would span more than max_words words, or hold ': ' (a
    label and its value, which SuperBPE found harmful), is never merged."""
    pair_count: Counter = Counter()
    where: dict[tuple[int, int], set[int]] = {}
    for i, s in enumerate(seqs):
        f = freqs[i]
        for p in zip(s, s[1:]):
            pair_count[p] += f
            where.setdefault(p, set()).add(i)
    text_of = [decode_byte_token(t) for t in strings]

    def allowed(p):
        txt = text_of[p[0]] + text_of[p[1]]
        return len(_WORD.findall(txt)) <= max_words and ": " not in txt

    heap = [(-c, strings[a], strings[b], a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    banned: set[tuple[int, int]] = set()
    index = {t: i for i, t in enumerate(strings)}
    n0 = len(strings)
    while len(strings) - n0 < n_new and heap:
        negc, _, _, a, b = heapq.heappop(heap)
        p = (a, b)
        c = pair_count.get(p, 0)
        if c != -negc or c <= 0 or p in banned:
            continue  # stale entry: the current count, if any, has its own entry
        if c < min_frequency:
            break
        if not allowed(p):
            banned.add(p)
            continue
        joined = strings[a] + strings[b]
        new = index.get(joined)
        if new is None:
            new = index[joined] = len(strings)
            strings.append(joined)
            text_of.append(text_of[a] + text_of[b])
        merges.append(p)
        touched: Counter = Counter()
        for i in sorted(where.pop(p, ())):
            s, f = seqs[i], freqs[i]
            occ, j, n = [], 0, len(s)
            while True:  # non-overlapping occurrences, left to right, as the BPE model applies them
                try:
                    j = s.index(a, j)
                except ValueError:
                    break
                if j + 1 < n and s[j + 1] == b:
                    occ.append(j)
                    j += 2
                else:
                    j += 1
            if not occ:
                continue  # a stale entry of `where`
            # only the pairs next to a merged occurrence change
            for k in sorted({k for j in occ for k in (j - 1, j, j + 1) if 0 <= k < n - 1}):
                touched[(s[k], s[k + 1])] -= f
            out, prev, at = [], 0, []
            for j in occ:
                out.extend(s[prev:j])
                at.append(len(out))
                out.append(new)
                prev = j + 2
            out.extend(s[prev:])
            seqs[i] = out
            m = len(out)
            for k in sorted({k for j in at for k in (j - 1, j) if 0 <= k < m - 1}):
                q = (out[k], out[k + 1])
                touched[q] += f
                where.setdefault(q, set()).add(i)
        for q, d in touched.items():
            if d:
                pair_count[q] += d
                if pair_count[q] > 0 and q not in banned:
                    heapq.heappush(heap, (-pair_count[q], strings[q[0]], strings[q[1]], q[0], q[1]))
                elif pair_count[q] <= 0:
                    del pair_count[q]
        pair_count.pop(p, None)
    return merges


def train_superword(corpus: Any, out: str | os.PathLike | None = None, *, vocab_size: int = 32768,
                    transition: int | None = None, max_words: int = 4, pow2: bool = False,
                    normalizer: str | None = "NFC", cased: bool = True, min_frequency: int = 2,
                    special_tokens: Sequence[str] | None = None, quiet: bool = True, **read_kw):
    """Train a superword (SuperBPE) tokenizer of exactly `vocab_size` tokens in one call: stage 1 up to
    `transition` tokens (default 90% of the vocabulary), stage 2 for the rest with merges across single
    spaces, at most `max_words` words per token. Writes tokenizer.json + card to `out` when given."""
    timer = Timer()
    V = resolve_vocab_size(vocab_size, pow2)
    specials = check_special_tokens(special_tokens)
    norm = check_normalizer(normalizer)
    min_frequency = check_min_frequency(min_frequency)
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
        raise InputError(f"max_words must be a positive integer, got {max_words!r}")
    base = specials + byte_level_alphabet()
    T = int(V * 0.9) if transition is None else transition
    if not isinstance(T, int) or isinstance(T, bool) or not len(base) < T <= V:
        raise InputError(f"transition={transition!r}: must lie between {len(base) + 1} (the alphabet plus "
                         f"special tokens) and vocab_size={V}")
    from .common import normalize_text

    stream = CorpusStream(corpus, quiet=quiet, **read_kw)
    counting = _Counting(stream, lambda t: normalize_text(t, norm, not cased))
    timer.lap("setup")
    stage1 = _train_merges(counting, vocab_size=T, min_frequency=min_frequency, special_tokens=specials,
                           normalizer=norm, lowercase=not cased, pattern=split_pattern("gpt4o"))
    timer.lap("stage1")
    merges1 = learned_merges(stage1)
    if len(base) + len(merges1) < T:
        raise InputError(f"stage 1 yields only {len(base) + len(merges1)} tokens at min_frequency="
                         f"{min_frequency}, short of transition={T}: lower min_frequency or train on more text")
    tokens = base + [a + b for a, b in merges1]
    # the stage-1 segmentation of every distinct stage-2 piece, as the final tokenizer will produce it
    s1 = assemble(tokens, merges1, specials, normalizer="none", lowercase=False, pattern=SUPERWORD_STAGE2)
    pieces = sorted(counting.counts)
    freqs = [counting.counts[p] for p in pieces]
    seqs = [e.ids for e in s1.encode_batch(pieces, add_special_tokens=False)]
    del counting.counts
    strings = list(tokens)
    pairs = _stage2(seqs, freqs, strings, V - T, min_frequency=min_frequency, max_words=max_words)
    if len(strings) < V:
        raise InputError(f"stage 2 found only {len(strings) - len(tokens)} new tokens of the {V - T} needed at min_frequency="
                         f"{min_frequency}: lower min_frequency or transition, or train on more text")
    merges2 = [(strings[a], strings[b]) for a, b in pairs]
    tokens = strings[:V]
    tok = assemble(tokens, merges1 + merges2, specials, normalizer=norm, lowercase=not cased,
                   pattern=SUPERWORD_STAGE2)
    timer.lap("stage2")
    params = dict(vocab_size=V, transition=T, max_words=max_words, pow2=pow2, normalizer=norm, cased=cased,
                  min_frequency=min_frequency, special_tokens=specials, stage1_pattern=split_pattern("gpt4o"),
                  stage2_pattern=SUPERWORD_STAGE2)
    vocab_card = hf_vocab_card(tok, decode_token=decode_byte_token, special_tokens=specials)
    words = Counter(len(_WORD.findall(decode_byte_token(t))) for t in tokens[len(specials):])
    vocab_card.update(stage1_merges=len(merges1), stage2_merges=len(merges2),
                      tokens_by_words={str(k): words[k] for k in sorted(words)})
    if out is not None:
        save_hf(out, tok, Card("superword", params, stream.corpus_card(), timer.total(), vocab_card), specials)
    return tok
