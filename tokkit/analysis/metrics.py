"""Intrinsic metrics of a tokenizer on a set of texts.

Every count is over the engine's own encoding without special tokens. Words are whitespace-delimited
runs (`\\S+`): fertility and the proportion of continued words mean little for scripts written without
spaces (Chinese, Japanese, Thai, Burmese...), where a "word" is a whole clause; `evaluate` flags them.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .._chars import code_points, is_space, spans_array
from .._progress import progress
from ..corpora.scripts import SPACELESS_SCRIPTS
from ..errors import EmptyInputError, InputError
from ..tokenizer import Tokenizer, load_tokenizer


def word_spans(text: str) -> np.ndarray:
    r"""(W, 2) [start, end) character spans of the whitespace words of `text`, what `\S+` matches, from the
    code points in numpy (re.finditer and a span per word: a fifth of `evaluate`'s time on domain text)."""
    space = np.ones(len(text) + 2, dtype=bool)  # a space before the text and one after it
    space[1:-1] = is_space(code_points(text))
    # the changes between space and word alternate: a word starts at one and ends at the next
    return np.flatnonzero(space[:-1] != space[1:]).reshape(-1, 2)


def renyi_entropy(counts: Sequence[int] | np.ndarray, alpha: float = 2.5) -> float:
    """H_alpha (bits) of the unigram distribution given by counts.

    Args:
        counts: token counts.
        alpha: the order; 1 is Shannon entropy.

    Returns:
        The entropy in bits.
    """
    c = np.asarray(counts, dtype=np.float64)
    c = c[c > 0]
    if c.size == 0:
        return 0.0
    if alpha < 0:
        raise InputError(f"alpha={alpha}: Rényi entropy needs alpha >= 0")
    p = c / c.sum()
    if alpha == 1:
        return float(-(p * np.log2(p)).sum())
    if math.isinf(alpha):
        return float(-np.log2(p.max()))
    return float(np.log2(np.power(p, alpha).sum()) / (1.0 - alpha))


def renyi_efficiency(counts: Sequence[int] | np.ndarray, alpha: float = 2.5, vocab_size: int | None = None) -> float:
    """H_alpha(p) / log2 |V| (Zouhar et al. 2023).

    Args:
        counts: token counts.
        alpha: the order of the entropy.
        vocab_size: |V|; None: the observed types.

    Returns:
        The efficiency, in [0, 1].
    """
    c = np.asarray(counts)
    v = int((c > 0).sum()) if vocab_size is None else int(vocab_size)
    if v <= 1:
        return 0.0
    return renyi_entropy(c, alpha) / math.log2(v)


def word_token_counts(text: str, offsets: Sequence[tuple[int, int]] | np.ndarray) -> list[int]:
    """Tokens overlapping each whitespace word of `text` (a token spanning two words counts for both).

    Args:
        text: the text.
        offsets: (start, end) character spans of its tokens.

    Returns:
        One count per word.
    """
    spans = word_spans(text)
    if not len(spans):
        return []
    return _word_counts(spans, spans_array(offsets)).tolist()


def _word_counts(words: np.ndarray, offs: np.ndarray) -> np.ndarray:
    """words: (W, 2) sorted, disjoint spans; offs: (T, 2) token spans -> (W,) tokens overlapping each word."""
    s, e = offs[:, 0], offs[:, 1]
    first = np.searchsorted(words[:, 1], s, side="right")     # first word ending after the token starts
    last = np.searchsorted(words[:, 0], e, side="left") - 1    # last word starting before the token ends
    ok = (e > s) & (last >= first)
    # +1 over [first, last] for every token, as a difference array
    diff = np.zeros(len(words) + 1, dtype=np.int64)
    np.add.at(diff, first[ok], 1)
    np.add.at(diff, last[ok] + 1, -1)
    return np.cumsum(diff[:-1])


@dataclass
class Metrics:
    """The intrinsic metrics of a tokenizer over a set of texts (what `evaluate` returns).

    Attributes:
        tokenizer: the tokenizer's name.
        texts: texts measured.
        tokens: corpus token count (CTC).
        characters: characters measured.
        bytes: UTF-8 bytes measured.
        words: whitespace words.
        bytes_per_token: bytes / tokens.
        characters_per_token: characters / tokens.
        tokens_per_character: tokens / characters.
        fertility: tokens per whitespace word.
        continued_words: share of words split into 2+ tokens.
        renyi_efficiency: Rényi efficiency of the token distribution.
        renyi_alpha: its order.
        renyi_vocabulary: "observed" or "nominal": the |V| it divides by.
        vocab_size: the tokenizer's vocabulary size.
        types_used: distinct tokens seen.
        vocabulary_utilisation: types used / vocab size.
        unk_tokens: UNK tokens.
        unk_rate: UNK tokens / tokens.
        unk_character_rate: characters covered by UNK tokens / characters.
        dropped_character_rate: non-space characters no token covers / characters.
        byte_fallback_tokens: byte-fallback tokens.
        byte_fallback_rate: byte-fallback tokens / tokens.
        token_length_histogram: characters spanned -> tokens.
        mean_token_length: mean characters per token.
        script: the texts' dominant script.
        word_caveat: why words are not meaningful (e.g. a script without spaces), else "".
        unreachable: `unreachable_entries`' result, when checked.
    """
    tokenizer: str
    texts: int
    tokens: int                       # corpus token count (CTC)
    characters: int
    bytes: int
    words: int
    bytes_per_token: float
    characters_per_token: float
    tokens_per_character: float
    fertility: float                  # tokens per whitespace word
    continued_words: float            # share of words split into 2+ tokens
    renyi_efficiency: float
    renyi_alpha: float
    renyi_vocabulary: str             # observed | nominal
    vocab_size: int
    types_used: int
    vocabulary_utilisation: float     # types used / vocab size
    unk_tokens: int
    unk_rate: float                   # UNK tokens / tokens
    unk_character_rate: float         # characters covered by UNK tokens / characters
    dropped_character_rate: float     # non-space characters no token covers / characters
    byte_fallback_tokens: int
    byte_fallback_rate: float
    token_length_histogram: dict[int, int] = field(default_factory=dict)  # characters spanned -> tokens
    mean_token_length: float = 0.0
    script: str = ""
    word_caveat: str = ""
    unreachable: dict | None = None

    def as_dict(self) -> dict:
        """The metrics as a JSON-ready dict.

        Returns:
            Field name -> value.
        """
        return asdict(self)


def evaluate(tokenizer: Tokenizer | str, texts: Iterable[str], *, alpha: float = 2.5,
             vocabulary: str = "observed", batch_size: int = 512, check_unreachable: bool = False,
             quiet: bool = True) -> Metrics:
    """All intrinsic metrics of `tokenizer` over `texts` in one pass of batched encoding with offsets.

    Long texts are encoded in pieces (`tokkit.tokenizer.chunks`).

    Args:
        tokenizer: a `Tokenizer` or anything `load_tokenizer` takes.
        texts: an iterable of texts; a single str is one text.
        alpha: the order of the Rényi efficiency.
        vocabulary: "observed" (|V| = types seen) or "nominal" (the vocabulary size) for the Rényi efficiency.
        batch_size: texts per encoding batch.
        check_unreachable: also run `unreachable_entries`.
        quiet: no progress notices.

    Returns:
        The `Metrics`.

    Raises:
        InputError: no texts, or a bad value.
    """
    from ..corpora.scripts import script_counts
    from .premium import dropped_characters

    tok = load_tokenizer(tokenizer)
    if vocabulary not in ("observed", "nominal"):
        raise InputError(f"vocabulary={vocabulary!r}: expected 'observed' or 'nominal'")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or math.isnan(alpha) or alpha < 0:
        raise InputError(f"alpha={alpha!r}: the Rényi order must be a number >= 0 (inf allowed)")
    if isinstance(texts, str):  # one text, not its characters as texts
        texts = [texts]
    ids_count: Counter = Counter()
    lengths: Counter = Counter()
    chars_seen: Counter = Counter()
    n_texts = n_tokens = n_chars = n_bytes = n_words = word_tokens = continued = unk = unk_chars = bf = dropped = 0
    unk_id, bf_ids = tok.unk_id, tok.byte_fallback_ids

    special = np.fromiter(bf_ids, dtype=np.int64, count=len(bf_ids)) if bf_ids else None

    from ..tokenizer.chunks import chunk_rule, piece_batches

    def flush(batch: list[str]):
        # long texts go through in pieces (tokkit.tokenizer.chunks): every metric is a sum over tokens or
        # over whitespace words, and no word crosses a cut, so the pieces' sums are the text's (a cut that
        # drops its space for the dummy prefix gives that space back to bytes; characters come from the text)
        nonlocal n_texts, n_tokens, n_chars, n_bytes, n_words, word_tokens, continued, unk, unk_chars, bf, dropped
        n_texts += len(batch)
        n_chars += sum(map(len, batch))
        n_pieces = 0
        for pieces, _ in piece_batches(tok, batch, 1 << 20):
            n_pieces += len(pieces)
            for text, (ids, offsets) in zip(pieces, tok.encode_batch_with_offsets(pieces)):
                n_tokens += len(ids)
                n_bytes += len(text.encode("utf-8", "surrogatepass"))
                if not ids:
                    continue
                ids_count.update(ids)
                ids_a = np.asarray(ids, dtype=np.int64)
                offs = spans_array(offsets)
                span = offs[:, 1] - offs[:, 0]
                lengths.update(dict(zip(*np.unique(span, return_counts=True))))
                words = word_spans(text)
                if len(words):
                    per_word = _word_counts(words, offs)
                    n_words += len(per_word)
                    word_tokens += int(per_word.sum())
                    continued += int((per_word >= 2).sum())
                if tok.may_drop_characters:
                    dropped += dropped_characters(text, offsets)
                if unk_id is not None:
                    hit = ids_a == unk_id
                    unk += int(hit.sum())
                    unk_chars += int(span[hit].sum())
                if special is not None:
                    bf += int(np.isin(ids_a, special).sum())
        if n_pieces > len(batch) and chunk_rule(tok).drop_space:  # the spaces dropped at the cuts
            n_bytes += n_pieces - len(batch)
        chars_seen.update("".join(t[:4096] for t in batch[:64]))  # a sample is enough to name the script

    batch: list[str] = []
    size = 0
    with progress(f"evaluating {tok.name}", quiet=quiet, unit="texts") as bar:
        for t in texts:
            t = getattr(t, "text", t)
            if not isinstance(t, str):
                raise InputError(f"evaluate: expected texts (str), got {type(t).__name__}")
            batch.append(t)
            size += len(t)
            if len(batch) >= batch_size or size >= (1 << 22):
                flush(batch)
                bar.advance(len(batch))
                batch, size = [], 0
        if batch:
            flush(batch)
            bar.advance(len(batch))
    if n_tokens == 0:
        raise EmptyInputError(f"{tok.name}: no tokens: the texts are empty")
    counts = np.fromiter(ids_count.values(), dtype=np.int64, count=len(ids_count))
    scripts = script_counts(chars_seen)
    script = scripts.most_common(1)[0][0] if scripts else ""
    caveat = ""
    if script in SPACELESS_SCRIPTS:
        caveat = (f"text is mostly {script}, a script written without spaces between words: whitespace "
                  "'words' are phrases, so fertility and continued words overstate the splitting")
    m = Metrics(
        tokenizer=tok.name, texts=n_texts, tokens=n_tokens, characters=n_chars, bytes=n_bytes, words=n_words,
        bytes_per_token=n_bytes / n_tokens, characters_per_token=n_chars / n_tokens,
        tokens_per_character=n_tokens / n_chars if n_chars else 0.0,
        fertility=word_tokens / n_words if n_words else 0.0,
        continued_words=continued / n_words if n_words else 0.0,
        renyi_efficiency=renyi_efficiency(counts, alpha, tok.vocab_size if vocabulary == "nominal" else None),
        renyi_alpha=alpha, renyi_vocabulary=vocabulary, vocab_size=tok.vocab_size, types_used=len(ids_count),
        vocabulary_utilisation=len(ids_count) / tok.vocab_size,
        unk_tokens=unk, unk_rate=unk / n_tokens, unk_character_rate=unk_chars / n_chars if n_chars else 0.0,
        dropped_character_rate=dropped / n_chars if n_chars else 0.0,
        byte_fallback_tokens=bf, byte_fallback_rate=bf / n_tokens,
        token_length_histogram={int(k): int(v) for k, v in sorted(lengths.items())},
        mean_token_length=sum(k * v for k, v in lengths.items()) / n_tokens,
        script=script, word_caveat=caveat)
    if check_unreachable:
        m.unreachable = unreachable_entries(tok)
    return m


def unreachable_entries(tokenizer: Tokenizer | str, *, batch_size: int = 4096, examples: int = 20) -> dict:
    """Vocabulary entries that encoding their own text alone does not produce.

    Meaningful for byte-level BPE (HF ByteLevel, tiktoken), where a token's text re-encodes to that token whenever
    any text can produce it; entries whose bytes are not valid UTF-8 on their own (pieces of a multi-byte
    character) and special tokens are left out and counted apart. For other models (WordPiece,
    Metaspace/SentencePiece) a piece's form depends on its place in a word: the result says "not checked".

    Args:
        tokenizer: a `Tokenizer` or anything `load_tokenizer` takes.
        batch_size: entries per encoding batch.
        examples: how many unreachable entries to list.

    Returns:
        A dict of counts and examples.
    """
    tok = load_tokenizer(tokenizer)
    if tok.kind == "bytes":
        return dict(checked=256, unreachable=0, partial_utf8=0, skipped_special=0, examples=[])
    if not tok.isolated_roundtrip:
        return dict(checked=0, unreachable=None, reason=f"not checked for {tok.kind} models whose pieces depend "
                    "on their place in a word")
    special = tok.special_ids
    ids, texts, partial = [], [], 0
    for i in range(tok.vocab_size):
        if i in special:
            continue
        try:
            s = tok.decode([i])
        except Exception:
            continue  # a gap in the id space (tiktoken ranks need not be contiguous)
        if "\ufffd" in s:
            partial += 1
            continue
        ids.append(i)
        texts.append(s)
    bad = []
    for k in range(0, len(ids), batch_size):
        for i, enc in zip(ids[k:k + batch_size], tok.encode_batch(texts[k:k + batch_size])):
            if enc != [i]:
                bad.append(i)
    return dict(checked=len(ids), unreachable=len(bad), partial_utf8=partial, skipped_special=len(special),
                examples=[(i, tok.id_to_token(i)) for i in bad[:examples]], ids=bad)
