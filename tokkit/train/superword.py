"""Superword tokenizers (SuperBPE, Liu et al. 2025): tokens that may span several words.

Stage 1 is ordinary byte-level BPE with the GPT-4o split up to a transition vocabulary size. Stage 2 keeps
those merges and continues on a looser split (`split_patterns.SUPERWORD`) whose pieces are runs of words
joined by single spaces, so new merges may cross those spaces (at most `max_token_words` words per token,
never ": "). Both stages run on the native engine (stage 1 may run on HF's trainer instead, with the same
merges): stage 2 is a native training resumed from the stage-1 merges, which the engine replays on the
stage-2 pieces first, so it starts from exactly the segmentation the final tokenizer produces with the
stage-1 merges alone. The result is one plain byte-level BPE `tokenizer.json`: its pre-tokenizer is the
stage-2 split and its merges are stage 1's then stage 2's.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any, Sequence

import regex

from ..errors import InputError
from ..kernels.split_patterns import GPT4O, SUPERWORD
from .artifacts import Card
from .bpe import check_engine, fit_bytelevel
from .common import CorpusStream, Timer, check_min_frequency, check_normalizer, check_special_tokens, resolve_vocab_size
from .native import base_tokens, prepare_kernels

_WORD = regex.compile(r"\S+")


def train_superword(corpus: Any, out: str | os.PathLike | None = None, *, vocab_size: int = 32768,
                    transition: int | None = None, max_token_words: int = 4, pow2: bool = False,
                    normalizer: str | None = "NFC", cased: bool = True, min_frequency: int = 2,
                    special_tokens: Sequence[str] | None = None, engine: str = "native",
                    allow_smaller: bool = False, quiet: bool = True, **read_kw):
    """Train a superword (SuperBPE) tokenizer of exactly `vocab_size` tokens in one call.

    Stage 1 is ordinary BPE up to `transition`; stage 2 learns the rest with merges across single spaces. In both
    stages the most frequent pair wins and ties go to the pair of smallest token ids (left, then right), as in
    HF's BpeTrainer and SuperBPE's own code. The corpus is read twice.

    Args:
        corpus: documents, paths or texts (as `train_bpe`).
        out: the artifact folder; None: nothing is written.
        vocab_size: the exact size of the vocabulary.
        transition: the vocabulary size where stage 1 stops, by default 90% of `vocab_size` (the SuperBPE
            paper's best setting).
        max_token_words: the most words per token in stage 2.
        pow2: round `vocab_size` up to a power of two first.
        normalizer: a Unicode normalization form, or None.
        cased: keep case.
        min_frequency: the smallest count of a pair that may merge.
        special_tokens: tokens at ids 0..n-1.
        engine: where stage 1 runs ("native" or "hf"; stage 2 always runs natively).
        allow_smaller: accept a smaller vocabulary.
        quiet: no progress notices.
        **read_kw: `read_documents` keywords when `corpus` is a path.

    Returns:
        A `tokkit.tokenizer.Tokenizer` carrying its card.

    Raises:
        InputError: the corpus cannot supply `transition` tokens to stage 1 or `vocab_size` in all, unless
            `allow_smaller`.
    """
    check_engine(engine)
    prepare_kernels(quiet=quiet)
    timer = Timer()
    V = resolve_vocab_size(vocab_size, pow2)
    specials = check_special_tokens(special_tokens)
    norm = check_normalizer(normalizer)
    min_frequency = check_min_frequency(min_frequency)
    if isinstance(max_token_words, bool) or not isinstance(max_token_words, int) or max_token_words < 1:
        raise InputError(f"max_token_words must be a positive integer, got {max_token_words!r}")
    n_base = len(base_tokens(specials))
    T = int(V * 0.9) if transition is None else transition
    if not isinstance(T, int) or isinstance(T, bool) or not n_base < T <= V:
        raise InputError(f"transition={transition!r}: must lie between {n_base + 1} (the alphabet plus "
                         f"special tokens) and vocab_size={V}")
    stream = CorpusStream(corpus, quiet=quiet, **read_kw)
    timer.lap("setup")
    common = dict(normalizer=norm, lowercase=not cased, min_frequency=min_frequency, special_tokens=specials,
                  quiet=quiet, unicode="hf")
    try:
        stage1 = fit_bytelevel(stream, vocab_size=T, pre_tokenizer="gpt4o", engine=engine,
                               allow_smaller=allow_smaller, **common).model
    except InputError as e:
        raise InputError(f"stage 1: {e} (or lower transition)") from None
    timer.lap("stage1")
    model = fit_bytelevel(stream, vocab_size=V, pre_tokenizer="superword", resume=stage1,
                          max_token_words=max_token_words, allow_smaller=allow_smaller, engine="native",
                          kernel_split=True, **common).model
    model.split = SUPERWORD
    timer.lap("stage2")
    n1 = len(stage1.merges)
    params = dict(vocab_size=V, transition=T, max_token_words=max_token_words, pow2=pow2, normalizer=norm,
                  cased=cased, min_frequency=min_frequency, special_tokens=specials, stage1_pattern=GPT4O,
                  stage2_pattern=SUPERWORD, engine=engine, allow_smaller=allow_smaller)
    words = Counter(len(_WORD.findall(t.decode("utf-8", "replace")))
                    for t in model.tokens[len(specials):] if t is not None)
    vocab_card = dict(model.vocabulary_card(), stage1_merges=n1, stage2_merges=len(model.merges) - n1,
                      tokens_by_words={str(k): words[k] for k in sorted(words)})
    card = Card("superword", params, stream.corpus_card(), timer.total(), vocab_card)
    tok = model.as_tokenizer(card)
    if out is not None:
        tok.save(out)
    return tok
