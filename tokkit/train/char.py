"""Character-level BPE (4K/8K/16K, for OCR correction and other character-sensitive work).

The model works on Unicode characters, not on byte-level symbols, so a token's length is its length in
characters, exactly: every token has at most `max_token_chars` characters. Characters outside the learnt
alphabet fall back to UTF-8 byte tokens (<0xNN>), and only those byte tokens that some character outside
the alphabet can produce are kept, so that no vocabulary entry is unreachable. There is no normalizer and the
split keeps every character, so whitespace and newlines survive exactly.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from ..errors import InputError
from ..tokenizer.hf import HFTokenizer
from .artifacts import Card
from .common import (
    CorpusStream,
    Timer,
    check_min_frequency,
    check_special_tokens,
    hf_vocab_card,
    resolve_vocab_size,
    save_hf,
    then_notice,
)
from .patterns import PRE_TOKENIZERS, split_pattern

# KL3M's choice: 3 characters at 4K and 8K, 4 at 16K
DEFAULT_MAX_CHARS = {4096: 3, 8192: 3, 16384: 4}


def byte_token(b: int) -> str:
    return f"<0x{b:02X}>"


def reachable_fallback_bytes(alphabet: set[str]) -> list[int]:
    """The bytes that occur in the UTF-8 encoding of at least one character outside `alphabet`.

    ASCII is always in the alphabet, so ASCII bytes are never needed; bytes C0, C1 and F5-FF never occur in
    UTF-8. A lead byte is needed unless every character it starts is in the alphabet.
    """
    need = set(range(0x80, 0xC0))  # continuation bytes: astral characters alone produce every one of them
    ranges = {b: (0x80 if b == 0xC2 else (b - 0xC0) << 6, ((b - 0xC0) << 6) + 0x3F) for b in range(0xC2, 0xE0)}
    for b in range(0xE0, 0xF0):
        ranges[b] = ((b - 0xE0) << 12, ((b - 0xE0) << 12) + 0xFFF)
    for b in range(0xF0, 0xF5):
        lo = (b - 0xF0) << 18
        ranges[b] = (max(lo, 0x10000), min(lo + 0x3FFFF, 0x10FFFF))
    in_alpha_by_lead: dict[int, int] = {}
    for ch in alphabet:
        cp = ord(ch)
        if cp >= 0x80 and not 0xD800 <= cp <= 0xDFFF:
            lead = ch.encode("utf-8")[0]
            in_alpha_by_lead[lead] = in_alpha_by_lead.get(lead, 0) + 1
    for lead, (lo, hi) in ranges.items():
        lo = max(lo, 0x80 if lead < 0xE0 else 0x800 if lead < 0xF0 else 0x10000)
        size = hi - lo + 1
        if lead == 0xED:  # U+D800..U+DFFF are surrogates, not characters
            size -= 0x800
        if in_alpha_by_lead.get(lead, 0) < size:
            need.add(lead)
    return sorted(need)


def _build(tok, pattern: str) -> None:
    from tokenizers import Regex, decoders, pre_tokenizers

    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])


def train_char(corpus: Any, out: str | os.PathLike | None = None, *, vocab_size: int = 4096,
               max_token_chars: int | None = None, min_frequency: int = 2, pre_tokenizer: str = "gpt2",
               limit_alphabet: int | str | None = "auto", special_tokens: Sequence[str] | None = None,
               quiet: bool = True, **read_kw):
    """Train a character-level BPE tokenizer of exactly `vocab_size` tokens with short tokens.

    The vocabulary holds special tokens, the 128 ASCII characters, the corpus's other characters, the reachable
    byte-fallback tokens and merges.

    Args:
        corpus: documents, paths or texts (as `train_bpe`).
        out: the artifact folder; None: nothing is written.
        vocab_size: the exact size of the vocabulary.
        max_token_chars: the most Unicode characters in a token (default 3, or 4 from 16K up).
        min_frequency: the smallest count of a pair that may merge.
        pre_tokenizer: the split before merging.
        limit_alphabet: keep only the most frequent non-ASCII characters; the others use byte fallback. "auto"
            keeps at most vocab_size // 16 of them (256 at 4K): legal text alone holds about a thousand distinct
            characters, most seen a handful of times, which would otherwise take a quarter of a 4K vocabulary.
            None keeps every character of the corpus.
        special_tokens: tokens at ids 0..n-1 (default: `DEFAULT_SPECIAL_TOKENS`).
        quiet: no progress notices.
        **read_kw: `read_documents` keywords when `corpus` is a path.

    Returns:
        A `tokkit.tokenizer.Tokenizer` carrying its card (`.engine`: the `tokenizers.Tokenizer`).

    Raises:
        InputError: the corpus cannot fill the vocabulary, or a bad value.
    """
    from tokenizers import AddedToken, Tokenizer, models, trainers

    timer = Timer()
    V = resolve_vocab_size(vocab_size, False)
    specials = check_special_tokens(special_tokens)
    min_frequency = check_min_frequency(min_frequency)
    if max_token_chars is None:
        max_token_chars = DEFAULT_MAX_CHARS.get(V, 4 if V >= 16384 else 3)
    if isinstance(max_token_chars, bool) or not isinstance(max_token_chars, int) or max_token_chars < 1:
        raise InputError(f"max_token_chars must be a positive integer, got {max_token_chars!r}")
    if pre_tokenizer not in PRE_TOKENIZERS:
        raise InputError(f"pre_tokenizer={pre_tokenizer!r}: expected one of {', '.join(PRE_TOKENIZERS)}")
    if limit_alphabet == "auto":
        limit_alphabet = V // 16
    if limit_alphabet is not None and (isinstance(limit_alphabet, bool) or not isinstance(limit_alphabet, int)
                                       or limit_alphabet < 0):
        raise InputError(f"limit_alphabet must be a non-negative integer, 'auto' or None, got {limit_alphabet!r}")
    ascii_chars = [chr(i) for i in range(128)]
    floor = len(specials) + len(ascii_chars)
    if V <= floor:
        raise InputError(f"vocab_size={V} must exceed the 128 ASCII characters plus the {len(specials)} "
                         f"special tokens = {floor}")
    pattern = split_pattern(pre_tokenizer)
    stream = CorpusStream(corpus, quiet=quiet, **read_kw)
    timer.lap("setup")

    # at most 115 byte tokens are ever needed (64 continuation + 51 lead bytes): train that much short,
    # with a little room, then keep the prefix of the merges that makes the size exact
    tok = Tokenizer(models.BPE(byte_fallback=True))
    _build(tok, pattern)
    kw = {} if limit_alphabet is None else {"limit_alphabet": limit_alphabet + 128}
    trainer = trainers.BpeTrainer(
        vocab_size=V, min_frequency=min_frequency, show_progress=False, special_tokens=specials,
        initial_alphabet=ascii_chars, max_token_length=max_token_chars + 1,  # tokenizers keeps tokens
        **kw)                                                                 # strictly shorter than that
    from ..tokenizer.chunks import cut_for_split

    # long texts cut where the pre-tokens stay the same (memory bounded; the merges are unchanged)
    tok.train_from_iterator(then_notice(cut_for_split(stream, pattern), "corpus read; Hugging Face's BpeTrainer "
                                        "is merging (it shows no progress: seconds to minutes)", quiet=quiet),
                            trainer=trainer)
    timer.lap("train")

    import json

    from ..tokenizer.merges import parse_merges

    model = json.loads(tok.to_str())["model"]
    merges = parse_merges(model)
    merged = {a + b for a, b in merges}
    alphabet = [t for t in model["vocab"] if t not in specials and t not in merged]
    if any(len(a) != 1 for a in alphabet):  # a token neither special, merged nor a character: a bug
        raise AssertionError(f"unexpected tokens: {[a for a in alphabet if len(a) != 1][:5]}")
    alphabet = sorted(set(alphabet) | set(ascii_chars))
    fallback = [byte_token(b) for b in reachable_fallback_bytes(set(alphabet))]
    room = V - len(specials) - len(alphabet) - len(fallback)
    if room < 0:
        raise InputError(f"vocab_size={V} cannot hold the {len(alphabet)} characters of the alphabet, "
                         f"{len(fallback)} byte-fallback tokens and {len(specials)} special tokens: raise "
                         "vocab_size or set limit_alphabet")
    if len(merges) < room:
        raise InputError(
            f"the corpus yields only {len(merges)} merges of at most {max_token_chars} characters at "
            f"min_frequency={min_frequency}, short of the {room} that vocab_size={V} needs: lower "
            f"min_frequency or vocab_size, or train on more text")
    merges = merges[:room]
    tokens = specials + alphabet + fallback + [a + b for a, b in merges]
    final = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges, byte_fallback=True))
    _build(final, pattern)
    final.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    assert final.get_vocab_size() == V
    timer.lap("finalize")

    params = dict(vocab_size=V, max_token_chars=max_token_chars, min_frequency=min_frequency,
                  pre_tokenizer=pre_tokenizer, limit_alphabet=limit_alphabet, special_tokens=specials)
    vocab_card = hf_vocab_card(final, special_tokens=specials, exclude=fallback)
    vocab_card.update(alphabet=len(alphabet), byte_fallback_tokens=len(fallback), merges=len(merges))
    card = Card("char", params, stream.corpus_card(), timer.total(), vocab_card)
    tok = HFTokenizer(None, name=f"char-{V}", engine=final, card=card.to_dict(),
                      save_artifact=lambda folder: save_hf(folder, final, card, specials))
    if out is not None:
        tok.save(out)
    return tok
