"""Word ids for token sequences, from any tokenizer's character offsets, and Dynamic BPE's own merge rule.

Merging must not cross word boundaries, and only the tokenizer knows where its tokens sit in the text, so
boundaries come from offsets. Modes (each a fixed boundary per position, for the fast `merge_batch` kernel):

- "word": whitespace-delimited words, as Dynamic BPE's `word` mode. Two adjacent tokens share a word when the
  text they cover together has whitespace only at its start: "Ġthe"+"se" joins, "the"+"Ġcat" does not, a
  newline token joins the word after it ("\\n"+"The"), punctuation stays with its word ("world"+","). Runs of
  whitespace tokens do not merge with each other (neither does Dynamic BPE's `word` mode). Whitespace here is
  the original's: space, tab and newline (`whitespace="original"`); see `whitespace="unicode"`.
- "sentence": Dynamic BPE's `sentence` mode: as "word", except that a run of whitespace-only tokens may merge
  within itself (Dynamic BPE lets "  " and " \n" merge, not "\n\n").
- "pretokens": the tokenizer's own pre-tokens (Hugging Face `Encoding.word_ids`), Dynamic BPE's default.
- "sequence" (tokkit's, not Dynamic BPE's): every pair of adjacent non-special tokens may merge, across
  words and whitespace.

Special tokens (the tokenizer's special added tokens, also inside the text, e.g. `<|endoftext|>` between
documents) and tokens covering no text get word id -1: they never merge.

Dynamic BPE decides each merge from the two tokens' strings, not from positions (`DynamicBPERule`), so a
fixed per-position boundary can only approximate it where the decision depends on what merged before: next to
whitespace other than space/tab/newline (U+00A0 attaches to whichever neighbour merges with it first), in
whitespace runs ("\n"+"\n" may not merge, " \n"+"\n" may), and where a pair's bytes are not valid UTF-8 (the
original then merges regardless of words or pre-tokens: Devanagari, Ethiopic, Myanmar... in `pretokens`
mode). `merge_batch(ids, pair_rule=DynamicBPERule(tokenizer, mode))` applies the original's rule exactly.

Tokenizers accepted: anything with `encode_with_offsets(text) -> (ids, offsets)` (what `tokkit` loads), a
`tokenizers.Tokenizer`, or a `transformers` fast tokenizer.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from .._chars import code_points, in_class, spans_array
from ..errors import InputError

__all__ = ["word_ids_from_offsets", "tokenize_with_words", "DynamicBPERule", "MODES", "WHITESPACE"]

MODES = ("word", "sentence", "pretokens", "sequence")
# what separates words: Dynamic BPE's whitespace test is on space, tab and newline (its "ĠĉĊ" rule); tokkit's
# earlier rule took every Unicode whitespace character
WHITESPACE = {"original": re.compile(r"[ \t\n]"), "unicode": re.compile(r"\s")}


def word_ids_from_offsets(text: str, offsets: Sequence[tuple[int, int]], special_mask: Sequence[int] | None = None,
                          mode: str = "word", pretoken_ids: Sequence[int | None] | None = None, *,
                          whitespace: str = "original") -> np.ndarray:
    """Word id of each token (int64, -1 where it may not merge) from its (start, end) character offsets.

    Args:
        text: the text the tokens cover.
        offsets: (start, end) character spans of the tokens.
        special_mask: 1 where a token is special (never merges); None: none is.
        mode: "word", "sentence", "pretokens" or "sequence" (see the module docstring).
        pretoken_ids: each token's pre-token (Hugging Face `Encoding.word_ids`), for mode="pretokens".
        whitespace: "original" (Dynamic BPE: only space, tab and newline separate words) or "unicode" (every
            Unicode whitespace character does, U+00A0, U+202F and U+3000 included: French "mot :" stays two
            words, which the original leaves to merge order).

    Returns:
        One word id per token.

    Raises:
        InputError: an unknown mode or whitespace, or pretokens mode without `pretoken_ids`.
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if whitespace not in WHITESPACE:
        raise InputError(f"whitespace must be one of {', '.join(WHITESPACE)}, got {whitespace!r}")
    n = len(offsets)
    off = spans_array(offsets).reshape(n, 2)
    s, e = off[:, 0], off[:, 1]
    dead = e <= s
    if special_mask is not None:
        dead |= np.asarray(special_mask, dtype=bool)
    if mode == "pretokens":
        if pretoken_ids is None:
            raise InputError("mode='pretokens' needs the tokenizer's pre-token ids (a Hugging Face tokenizer); "
                             "use mode='word' with other tokenizers")
        w = np.array([-1 if p is None else p for p in pretoken_ids], dtype=np.int64)
        w[dead] = -1
        return w
    if mode == "sequence":
        start = dead.copy()
        start[1:] |= dead[:-1]
    else:
        ws = np.zeros(len(text) + 1, dtype=np.int64)  # ws[i + 1] = 1 where text[i] is whitespace
        ws[1:] = in_class(code_points(text), WHITESPACE[whitespace].pattern)
        cws = np.cumsum(ws)  # cws[i] = whitespace characters in text[:i]
        nonws = np.flatnonzero(ws[1:] == 0)  # positions of non-whitespace characters
        # first non-whitespace character at or after each token start
        k = np.searchsorted(nonws, s)
        nxt_nonws = np.where(k < nonws.size, nonws[np.minimum(k, max(nonws.size - 1, 0))] if nonws.size else 0,
                             len(text))
        n_ws = cws[e] - cws[s]
        lead = np.minimum(nxt_nonws, e) - s
        has_ws = n_ws > 0
        ws_prefix_only = n_ws == lead  # whitespace, if any, is a prefix of the token's text
        start = dead | has_ws
        start[1:] |= ~ws_prefix_only[:-1] | dead[:-1]
        if mode == "sentence" and n > 1:
            # whitespace-only tokens join the whitespace-only token before them, except "\n" after "\n"
            only_ws = (n_ws == e - s) & ~dead
            nl = np.array([text[a:b] == "\n" for a, b in zip(s, e)], dtype=bool)
            run = only_ws[1:] & only_ws[:-1] & ~(nl[1:] & nl[:-1])
            start[1:] &= ~run
        if n > 1:  # whitespace the tokenizer dropped (WordPiece offsets skip it) also separates words
            gap_end = np.maximum(s[1:], e[:-1])
            start[1:] |= (cws[gap_end] - cws[e[:-1]]) > 0
    if n:
        start[0] = True
    w = np.cumsum(start) - 1
    w[dead] = -1
    return w.astype(np.int64)


class DynamicBPERule:
    """Dynamic BPE's merge rule, for `merge_batch(ids, pair_rule=...)`.

    `Dynamic_BPE.is_valid_pair` of DariusFeher/dynamic-tokenization at commit
    6686e72f5daeda09445793a01b710ca58ec9ec47: whether two adjacent tokens, given as the base ids they expand to,
    may merge. From the pair's bytes:

    - never when either is a special token (checked first, in every mode; the original checks the
      `special_tokens_map` tokens only in `word` and `sentence` modes, and in `word` mode only when the
      pair's bytes decode);
    - not when a space, tab or newline byte sits after the first byte, unless the pair is whitespace only and
      not "\\n\\n";
    - `sentence`: otherwise yes; otherwise, if the bytes are not valid UTF-8: yes;
    - `word`: when the text is one piece under whitespace splitting (`tokenizers`' WhitespaceSplit);
    - `pretokens`: when the text is one pre-token of the tokenizer's own pre-tokenizer.

    Args:
        tokenizer: a byte-level BPE tokenizer (Hugging Face `tokenizers`, as the original, or what tokkit loads
            around one).
        mode: "word", "sentence" or "pretokens".

    Raises:
        InputError: an unknown mode, a tokenizer that is not byte-level BPE, or pretokens mode without a
            pre-tokenizer.
    """

    def __init__(self, tokenizer, mode: str = "word"):
        if mode not in ("word", "sentence", "pretokens"):
            raise InputError(f"DynamicBPERule: mode must be 'word', 'sentence' or 'pretokens', got {mode!r}")
        enc = _Encoder(getattr(tokenizer, "engine", tokenizer), False)     # tokkit's loaded tokenizers wrap one
        if enc.hf is None:
            raise InputError("DynamicBPERule needs a Hugging Face byte-level tokenizer (tokenizers.Tokenizer, a "
                             "transformers fast tokenizer or one tokkit loads from tokenizer.json)")
        from tokenizers import pre_tokenizers

        self.mode = mode
        self.special = enc.special_ids
        self._hf = enc.hf
        self._split = enc.hf.pre_tokenizer if mode == "pretokens" else pre_tokenizers.WhitespaceSplit()
        if self._split is None:
            raise InputError("DynamicBPERule: mode='pretokens' needs a tokenizer with a pre-tokenizer")
        self._bytes: dict[int, bytes] = {}
        from ..tokenizer.bytelevel import char_bytes  # the one place of the byte-level alphabet

        self._map = char_bytes()

    def token_bytes(self, i: int) -> bytes:
        """The bytes a base token stands for.

        Args:
            i: the token id.

        Returns:
            Its bytes.

        Raises:
            InputError: the id is not in the vocabulary, or its token is not byte-level.
        """
        b = self._bytes.get(i)
        if b is None:
            tok = self._hf.id_to_token(int(i))
            if tok is None:
                raise InputError(f"DynamicBPERule: id {i} is not in the tokenizer's vocabulary")
            if i in self.special:
                b = tok.encode("utf-8")
            else:
                try:
                    b = bytes(self._map[c] for c in tok)
                except KeyError:
                    raise InputError(f"DynamicBPERule: token {tok!r} is not byte-level; the original rule needs a "
                                     "byte-level BPE tokenizer") from None
            self._bytes[i] = b
        return b

    def __call__(self, left: Sequence[int], right: Sequence[int]) -> bool:
        if (len(left) == 1 and left[0] in self.special) or (len(right) == 1 and right[0] in self.special):
            return False
        s = b"".join(self.token_bytes(i) for i in (*left, *right))
        if any(c in b" \t\n" for c in s[1:]) and (s == b"\n\n" or s.strip(b" \t\n") != b""):
            return False
        if self.mode == "sentence":
            return True
        try:
            text = s.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return len(self._split.pre_tokenize_str(text)) == 1


class _Encoder:
    """One text -> (ids, offsets, special mask or None, pre-token ids or None), for any supported tokenizer."""

    def __init__(self, tokenizer, add_special_tokens: bool):
        self.add = add_special_tokens
        backend = getattr(tokenizer, "backend_tokenizer", None)  # transformers fast tokenizer
        try:
            import tokenizers

            if isinstance(tokenizer, tokenizers.Tokenizer):
                backend = tokenizer
        except ImportError:  # pragma: no cover - tokenizers is a core dependency
            pass
        if backend is not None and (backend.padding is not None or backend.truncation is not None):
            # padding and truncation saved in a tokenizer.json (MiniLM's pads every text to 128) would put pad
            # tokens into the sequences to merge: encode with a copy that has neither; max_length truncates
            import tokenizers

            backend = tokenizers.Tokenizer.from_str(backend.to_str())
            backend.no_padding()
            backend.no_truncation()
        self.hf = backend
        self.tok = tokenizer
        if backend is not None:
            self.special_ids = frozenset(i for i, t in backend.get_added_tokens_decoder().items() if t.special)
        else:
            self.special_ids = frozenset(getattr(tokenizer, "special_ids", ()) or ())
        if backend is None and not hasattr(tokenizer, "encode_with_offsets"):
            raise InputError(f"tokenizer {type(tokenizer).__name__} has no encode_with_offsets(text) and is not a "
                             "tokenizers.Tokenizer or transformers fast tokenizer")

    def batch(self, texts: list[str]):
        if self.hf is not None:
            encs = self.hf.encode_batch(texts, add_special_tokens=self.add)
            out = [(np.asarray(e.ids, dtype=np.int64), e.offsets, e.special_tokens_mask, e.word_ids) for e in encs]
        else:  # a tokkit Tokenizer encodes a batch at once; anything else text by text
            batch = getattr(self.tok, "encode_batch_with_offsets", None)
            pairs = batch(texts) if batch is not None else map(self.tok.encode_with_offsets, texts)
            out = [(np.asarray(ids, dtype=np.int64), offsets, None, None) for ids, offsets in pairs]
        # special tokens found inside the text (`<|endoftext|>` between documents) are not in the encoding's
        # special_tokens_mask, which marks only the ones the post-processor added: mark them by id
        special = np.fromiter(self.special_ids, dtype=np.int64)

        def mask(ids, m):
            found = np.isin(ids, special) if special.size else np.zeros(len(ids), dtype=bool)  # isin costs 40 us
            return found | np.asarray(m, dtype=bool) if m is not None else found

        return [(ids, offs, mask(ids, m), pre) for ids, offs, m, pre in out]


def tokenize_with_words(tokenizer, texts: str | Iterable[str], *, mode: str = "word",
                        add_special_tokens: bool = False, max_length: int | None = None,
                        whitespace: str = "original"):
    """Tokenize texts and give each token its word id.

    Padding and truncation configured in a Hugging Face tokenizer are ignored (sequences are never padded here);
    `max_length` truncates each sequence instead.

    Args:
        tokenizer: anything with `encode_with_offsets`, a `tokenizers.Tokenizer` or a `transformers` fast
            tokenizer.
        texts: a text or several.
        mode: as `word_ids_from_offsets`.
        add_special_tokens: let the tokenizer add its special tokens (they get word id -1).
        max_length: truncate each sequence to this many tokens.
        whitespace: as `word_ids_from_offsets`.

    Returns:
        (ids, word_ids): two lists of int64 arrays, one per text.
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if whitespace not in WHITESPACE:
        raise InputError(f"whitespace must be one of {', '.join(WHITESPACE)}, got {whitespace!r}")
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"texts[{i}] is {type(t).__name__}, not str")
    if max_length is not None and max_length < 1:
        raise InputError(f"max_length must be >= 1, got {max_length}")
    from ..tokenizer.chunks import batches

    enc = _Encoder(tokenizer, add_special_tokens)
    all_ids, all_words = [], []
    # encoded about a million characters at a time: the engines' per-token Python objects (offsets) of a
    # batch live only until its arrays are built
    for a, b in batches(texts, 1 << 20):
        for text, (ids, offsets, special, pre) in zip(texts[a:b], enc.batch(texts[a:b])):
            w = word_ids_from_offsets(text, offsets, special, mode, pre, whitespace=whitespace)
            if max_length is not None:
                ids, w = ids[:max_length], w[:max_length]
            all_ids.append(ids)
            all_words.append(w)
    return all_ids, all_words
