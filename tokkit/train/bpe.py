"""Domain byte-level BPE (the KL3M recipe, done with exact sizes and domain terms inside the model)."""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

from ..errors import InputError
from .artifacts import Card
from .bytelevel import byte_chars, char_bytes
from .common import (CorpusStream, Timer, check_min_frequency, check_normalizer, check_special_tokens,
                     hf_vocab_card, normalize_text, resolve_vocab_size, save_hf)
from .patterns import PRE_TOKENIZERS, split_pattern, term_pretokens
from .terms import fit_terms, read_terms


def byte_level_alphabet() -> list[str]:
    """The 256 symbols of the byte-level mapping, in byte order."""
    from tokenizers.pre_tokenizers import ByteLevel

    alpha = list(byte_chars())
    assert sorted(alpha) == sorted(ByteLevel.alphabet())
    return alpha


def to_byte_symbols(text: str) -> list[str]:
    table = byte_chars()
    return [table[b] for b in text.encode("utf-8")]


def decode_byte_token(token: str) -> str:
    """The text of a byte-level token (U+FFFD where it holds part of a character)."""
    inv = char_bytes()
    return bytes(inv[c] for c in token).decode("utf-8", "replace")


def build_pipeline(tok, *, normalizer: str, lowercase: bool, pattern: str) -> None:
    """Normalizer, pre-tokenizer (the split pattern, then the byte mapping) and decoder, set on `tok`."""
    from tokenizers import Regex, decoders, normalizers, pre_tokenizers, processors

    norms = []
    if normalizer != "none":
        norms.append(getattr(normalizers, normalizer)())
    if lowercase:
        norms.append(normalizers.Lowercase())
    if norms:
        tok.normalizer = normalizers.Sequence(norms)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)


def _train_merges(stream: Iterable[str], *, vocab_size: int, min_frequency: int, special_tokens: list[str],
                  normalizer: str, lowercase: bool, pattern: str, max_token_length: int | None = None):
    from tokenizers import Tokenizer, models, trainers

    tok = Tokenizer(models.BPE())
    build_pipeline(tok, normalizer=normalizer, lowercase=lowercase, pattern=pattern)
    kw = {} if max_token_length is None else {"max_token_length": max_token_length}
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
                                  special_tokens=special_tokens, initial_alphabet=byte_level_alphabet(), **kw)
    tok.train_from_iterator(stream, trainer=trainer)
    return tok


def learned_merges(tok) -> list[tuple[str, str]]:
    import json

    model = json.loads(tok.to_str())["model"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]


def assemble(tokens: Sequence[str], merges: Sequence[tuple[str, str]], special_tokens: Sequence[str], *,
             normalizer: str, lowercase: bool, pattern: str):
    """A byte-level BPE tokenizer with ids in `tokens` order and special tokens registered as special."""
    from tokenizers import AddedToken, Tokenizer, models

    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=list(merges)))
    build_pipeline(tok, normalizer=normalizer, lowercase=lowercase, pattern=pattern)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in special_tokens])
    for i, s in enumerate(special_tokens):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s), i)
    return tok


def train_bpe(corpus: Any, out: str | os.PathLike | None = None, *, vocab_size: int = 32768,
              pow2: bool = False, cased: bool = True, normalizer: str | None = "NFC",
              min_frequency: int = 2, pre_tokenizer: str = "gpt2", split_digits: bool = False,
              special_tokens: Sequence[str] | None = None, terms: str | os.PathLike | Iterable[str] | None = None,
              quiet: bool = True, **read_kw):
    """Train a byte-level BPE tokenizer on a domain corpus and (with `out`) write it as an artifact folder
    (tokenizer.json, tokenizer_config.json, tokkit.json). Returns the `tokenizers.Tokenizer`.

    vocab_size counts everything (special tokens, the 256 byte symbols, merges) and is met exactly by real
    merges; `pow2=True` rounds it up to a power of two first. Special tokens take ids 0..n-1. `terms` (a file,
    one per line, or a list) become single tokens inside the BPE model wherever they stand as whole units.
    `corpus` is a `tokkit.corpora.Documents`, a path/glob/folder (extra keywords go to `read_documents`), or an
    iterable of strings; it is streamed once, so memory is bounded by the word-count table.
    """
    timer = Timer()
    V = resolve_vocab_size(vocab_size, pow2)
    specials = check_special_tokens(special_tokens)
    norm = check_normalizer(normalizer)
    min_frequency = check_min_frequency(min_frequency)
    if pre_tokenizer not in PRE_TOKENIZERS:
        raise InputError(f"pre_tokenizer={pre_tokenizer!r}: expected one of {', '.join(PRE_TOKENIZERS)}")
    alphabet = byte_level_alphabet()
    base = specials + alphabet
    if V <= len(base):
        raise InputError(f"vocab_size={V} must exceed the alphabet (256 byte symbols) plus the "
                         f"{len(specials)} special tokens = {len(base)}")
    term_list = read_terms(terms)
    lowercase = not cased
    norm_terms: list[str] = []
    for t in term_list:
        nt = normalize_text(t, norm, lowercase)
        if nt not in norm_terms:
            norm_terms.append(nt)
    for t in norm_terms:
        if t in specials:
            raise InputError(f"term {t!r} is also a special token")
    pattern = split_pattern(pre_tokenizer, split_digits=split_digits, terms=norm_terms)
    targets = [to_byte_symbols(p) for t in norm_terms for p in term_pretokens(t)]
    # room for the merges that finish the terms; the surplus of learnt merges fills what they leave
    slack = sum(max(0, len(x) - 1) for x in targets)
    stream = CorpusStream(corpus, quiet=quiet, **read_kw)
    timer.lap("setup")
    trained = _train_merges(stream, vocab_size=V + slack, min_frequency=min_frequency, special_tokens=specials,
                            normalizer=norm, lowercase=lowercase, pattern=pattern)
    timer.lap("train")
    learned = learned_merges(trained)
    tokens, merges, n_learned, n_term_merges = fit_terms(learned, base, targets, V)
    if len(tokens) < V:
        raise InputError(
            f"the corpus yields only {len(tokens)} tokens at min_frequency={min_frequency}, short of "
            f"vocab_size={V}: lower min_frequency or vocab_size, or train on more text "
            f"({stream.fingerprint.characters:,} characters read)")
    tok = assemble(tokens, merges, specials, normalizer=norm, lowercase=lowercase, pattern=pattern)
    _check_terms(tok, norm_terms)
    timer.lap("finalize")
    params = dict(vocab_size=V, requested_vocab_size=vocab_size, pow2=pow2, cased=cased, normalizer=norm,
                  min_frequency=min_frequency, pre_tokenizer=pre_tokenizer, split_digits=split_digits,
                  special_tokens=specials, terms=len(norm_terms),
                  terms_source=os.fspath(terms) if isinstance(terms, (str, os.PathLike)) else None)
    vocab_card = hf_vocab_card(tok, decode_token=decode_byte_token, special_tokens=specials)
    vocab_card.update(learned_merges=n_learned + (len(merges) - n_learned - n_term_merges),
                      term_merges=n_term_merges, split_pattern=pattern)
    if out is not None:
        card = Card("bpe", params, stream.corpus_card(), timer.total(), vocab_card)
        save_hf(out, tok, card, specials)
    return tok


def _check_terms(tok, terms: Sequence[str]) -> None:
    """Every term, alone and after a space, must come out as one token: a failure here is a bug."""
    for t in terms:
        for text in {t, " " + t}:
            enc = tok.encode(text, add_special_tokens=False)
            if len(enc.ids) != 1:
                raise AssertionError(f"term {text!r} encodes as {enc.tokens}")
