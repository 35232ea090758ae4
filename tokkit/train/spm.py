"""SentencePiece unigram and BPE models, trained from a `tokkit.corpora` stream.

SentencePiece reads sentences and silently skips any longer than `max_sentence_length` bytes; documents are
therefore cut at line ends (and, for very long lines, at spaces) into pieces that fit, so no text is lost.
The defaults keep layout: identity normalization, no whitespace collapsing, byte fallback.

This is the one place that calls SentencePiece's trainer: the `train spm` recipe and the sweeps'
`spm-bpe` / `spm-unigram` algorithms (`tokkit.train.registry`, from a word-count table) both come here.
"""

from __future__ import annotations

import io
import os
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .._progress import notice
from ..errors import EmptyInputError, InputError
from ..tokenizer.spm import SentencePieceTokenizer
from .artifacts import Card, vocabulary_stats, write_artifacts
from .common import CorpusStream, Timer, check_special_tokens, resolve_vocab_size, then_notice

MODEL_TYPES = ("unigram", "bpe")
SPM_NORMALIZERS = ("identity", "nfkc", "nmt_nfkc", "nfkc_cf", "nmt_nfkc_cf")


def sentences(texts: Iterable[str], max_bytes: int) -> Iterator[str]:
    """Each text cut at line ends into lines of at most max_bytes UTF-8 bytes (a longer line is cut at its
    last space before the limit, or at a character boundary where it has none). Newlines are dropped, as in
    SentencePiece's own line-based input. A long line is walked by position, a window at a time, so a
    single 100 MB line costs time and memory in proportion to its length."""
    for text in texts:
        for line in text.split("\n"):
            start, n = 0, len(line)
            # a window of max_bytes characters holds at least max_bytes bytes: its cut is the line's
            while n - start > max_bytes or len(line[start:start + max_bytes + 1].encode("utf-8")) > max_bytes:
                window = line[start:start + max_bytes]
                cut = window.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
                sp = cut.rfind(" ")
                if sp > 0:
                    cut = cut[:sp]
                if not cut:  # pragma: no cover - max_bytes >= 4 always admits one character
                    break
                yield cut
                start += len(cut)
            if start < n:
                yield line[start:]


# SentencePiece's unigram trainer holds about 20 bytes per character of its input (the text as UTF-32 and the
# suffix arrays of its seed pieces), so about this much text keeps it, and tokkit, under about 1 GB
SAMPLE_BYTES = 32 << 20


class Sample:
    """A uniform random sample of sentences holding at most `max_bytes` UTF-8 bytes, in corpus order; all of
    them when they fit. Each sentence draws a random key and the smallest keys are kept: memory stays at the
    budget however long the stream is. After iteration: `read` and `kept` sentences and bytes."""

    def __init__(self, rows: Iterable[str], max_bytes: int | None = None, seed: int = 0, quiet: bool = True):
        self.rows, self.seed, self.quiet = rows, seed, quiet
        self.max_bytes = SAMPLE_BYTES if max_bytes is None else max_bytes
        self.read = self.kept = self.read_bytes = self.kept_bytes = 0

    def __iter__(self) -> Iterator[str]:
        import heapq
        import random

        rng = random.Random(self.seed)
        heap: list[tuple[float, int, str, int]] = []  # (-key, position, sentence, bytes): the largest key on top
        held = 0
        for i, row in enumerate(self.rows):
            n = len(row.encode("utf-8", "surrogatepass"))
            self.read += 1
            self.read_bytes += n
            heapq.heappush(heap, (-rng.random(), i, row, n))
            held += n
            while held > self.max_bytes and len(heap) > 1:
                held -= heapq.heappop(heap)[3]
        self.kept, self.kept_bytes = len(heap), held
        if self.sampled:
            notice(f"SentencePiece trains on a random sample: {self.kept:,} of {self.read:,} sentences "
                   f"({self.kept_bytes / 2**20:,.0f} of {self.read_bytes / 2**20:,.0f} MiB), which keeps it under "
                   "about 1 GB; input_sentence_size=0 (--input-sentence-size 0) reads all", quiet=self.quiet)
        for _, _, row, _ in sorted(heap, key=lambda e: e[1]):
            yield row

    @property
    def sampled(self) -> bool:
        return self.kept < self.read

    def as_dict(self) -> dict:
        return dict(sentences_read=self.read, sentences_kept=self.kept, bytes_read=self.read_bytes,
                    bytes_kept=self.kept_bytes, max_bytes=self.max_bytes)


class _Rows:
    """The trainer's sentence iterator, keeping the exception that reading raised (a damaged file): the
    trainer reports it as a RuntimeError with a multi-line trace, and it is re-raised as it was."""

    def __init__(self, rows: Iterable[str]):
        self.rows, self.error = rows, None

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self.rows
        except Exception as e:
            self.error = e
            raise


def _tsv_rows(word_counts: Mapping[str, int]) -> Iterator[str]:
    """word<TAB>count rows, SentencePiece's tsv input (each word a sentence with that frequency). A word
    holding a tab or a line break cannot be a row: it is left out."""
    for w, c in word_counts.items():
        if not isinstance(w, str):
            raise InputError(f"word_counts: key {w!r} is not a string")
        if int(c) < 0:
            raise InputError(f"word_counts: negative count {c} for {w!r}")
        if w and int(c) and "\t" not in w and "\n" not in w and "\r" not in w:
            yield f"{w}\t{int(c)}"


def train_spm(corpus: Any = None, out: str | os.PathLike | None = None, *, vocab_size: int = 32000,
              model_type: str = "unigram", pow2: bool = False, normalization: str = "identity",
              byte_fallback: bool = True, split_by_whitespace: bool = True, remove_extra_whitespaces: bool = False,
              add_dummy_prefix: bool = False, character_coverage: float = 0.9995,
              max_sentencepiece_length: int = 16, max_sentence_length: int = 4192,
              input_sentence_size: int | None = None, special_tokens: Sequence[str] | None = None, num_threads: int = 1,
              word_counts: Mapping[str, int] | None = None, allow_smaller: bool = False,
              quiet: bool = True, **read_kw):
    """Train a SentencePiece model and (with `out`) write `tokenizer.model` and the card.

    Args:
        corpus: documents, paths or texts; None when `word_counts` is given.
        out: the artifact folder; None: nothing is written.
        vocab_size: the number of pieces.
        model_type: "unigram" or "bpe".
        pow2: round `vocab_size` up to a power of two first.
        normalization: SentencePiece's normalization rule ("identity", "nfkc", ...).
        byte_fallback: unknown characters become byte tokens.
        split_by_whitespace: SentencePiece's option of that name.
        remove_extra_whitespaces: SentencePiece's option of that name.
        add_dummy_prefix: prefix each text with "▁" (with `word_counts`: each word gets the word-initial "▁" it
            has in running text).
        character_coverage: the share of characters covered by pieces.
        max_sentencepiece_length: the longest piece, in characters.
        max_sentence_length: the longest sentence, in bytes.
        input_sentence_size: None (default): every sentence while the text fits in `SAMPLE_BYTES` (32 MiB),
            else a uniform random sample of sentences that fits (seeded; the card records it), so that the
            trainer stays under about 1 GB; 0: every sentence, whatever the memory; > 0: SentencePiece's own
            random sample of that many sentences.
        special_tokens: user-defined symbols at ids 0..n-1 (the first three double as pad/bos/eos where the
            default set is used; SentencePiece's own <unk> follows them).
        num_threads: training threads; 1 keeps unigram training deterministic.
        word_counts: a word -> count table, given to SentencePiece as its tsv input (each word is a sentence of
            that frequency).
        allow_smaller: accept fewer pieces than `vocab_size` when the text has too few (SentencePiece's
            hard_vocab_limit off) instead of failing.
        quiet: no progress notices.
        **read_kw: `read_documents` keywords when `corpus` is a path.

    Returns:
        A `tokkit.tokenizer.Tokenizer` carrying its card (`.engine`: the `sentencepiece.SentencePieceProcessor`).

    Raises:
        InputError: too few pieces (unless `allow_smaller`), no text, or a bad value.
    """
    import sentencepiece as spm

    timer = Timer()
    V = resolve_vocab_size(vocab_size, pow2)
    specials = check_special_tokens(special_tokens)
    if model_type not in MODEL_TYPES:
        raise InputError(f"model_type={model_type!r}: expected one of {', '.join(MODEL_TYPES)}")
    if normalization not in SPM_NORMALIZERS:
        raise InputError(f"normalization={normalization!r}: expected one of {', '.join(SPM_NORMALIZERS)}")
    if not 0 < character_coverage <= 1:
        raise InputError(f"character_coverage must lie in (0, 1], got {character_coverage}")
    if input_sentence_size is not None and (isinstance(input_sentence_size, bool)
                                            or not isinstance(input_sentence_size, int) or input_sentence_size < 0):
        raise InputError(f"input_sentence_size must be a whole number >= 0 (0: all), got {input_sentence_size!r}")
    floor = len(specials) + 1 + (256 if byte_fallback else 0)
    if V <= floor:
        raise InputError(f"vocab_size={V} must exceed the special tokens, <unk>"
                         f"{' and the 256 byte-fallback pieces' if byte_fallback else ''} = {floor}")
    if (corpus is None) == (word_counts is None):
        raise InputError("train_spm: give a corpus or word_counts (one of them)")
    if word_counts is not None:
        if read_kw:
            raise InputError(f"train_spm: {', '.join(sorted(read_kw))}: reading options apply to a corpus, "
                             "not to word_counts")
        rows, input_format = _tsv_rows(word_counts), "tsv"
        corpus_card = dict(source="word counts", words=len(word_counts),
                           total=int(sum(int(c) for c in word_counts.values())))
        if not corpus_card["total"]:
            raise EmptyInputError("word_counts: no word with a count above 0 to train on")
    else:
        stream = CorpusStream(corpus, quiet=quiet, **read_kw)
        rows, input_format = sentences(stream, max_sentence_length), "text"
    sample, requested = None, input_sentence_size
    if input_sentence_size is None:
        # the tsv rows of word_counts hold one row per distinct word: small next to the text they count
        if word_counts is None:
            rows = sample = Sample(rows, quiet=quiet)
        input_sentence_size = 0
    model = io.BytesIO()
    timer.lap("setup")
    rows = _Rows(rows)
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=then_notice(rows, "corpus read; SentencePiece is training (it shows no progress: "
                                          "seconds to minutes)", quiet=quiet),
            input_format=input_format, model_writer=model, vocab_size=V,
            model_type=model_type, normalization_rule_name=normalization, byte_fallback=byte_fallback,
            split_by_whitespace=split_by_whitespace, remove_extra_whitespaces=remove_extra_whitespaces,
            add_dummy_prefix=add_dummy_prefix, character_coverage=character_coverage,
            max_sentencepiece_length=max_sentencepiece_length, max_sentence_length=max_sentence_length,
            input_sentence_size=input_sentence_size, shuffle_input_sentence=input_sentence_size > 0,
            control_symbols=specials, unk_id=len(specials), bos_id=-1, eos_id=-1, pad_id=-1,
            allow_whitespace_only_pieces=True, split_digits=False, num_threads=num_threads,
            hard_vocab_limit=not allow_smaller, seed_sentencepiece_size=1_000_000, minloglevel=2)
    except RuntimeError as e:
        if rows.error is not None:  # our reader's error, wrapped by SentencePiece with a C++ trace: the error
            raise rows.error from None
        raise InputError(f"SentencePiece training failed: {e}") from None
    timer.lap("train")
    data = model.getvalue()
    sp = spm.SentencePieceProcessor(model_proto=data)
    n = sp.get_piece_size()
    if n != V and not (allow_smaller and n < V):
        raise AssertionError(f"SentencePiece produced {n} pieces, not {V}")
    pieces = [sp.id_to_piece(i) for i in range(n)]
    stats = vocabulary_stats([p for i, p in enumerate(pieces) if i >= len(specials) and not sp.is_control(i)],
                             decode=lambda p: p.replace("\u2581", " "))
    stats.update(byte_pieces=sum(sp.is_byte(i) for i in range(n)), special_tokens=len(specials), pieces=n)
    params = dict(vocab_size=V, model_type=model_type, normalization=normalization, byte_fallback=byte_fallback,
                  split_by_whitespace=split_by_whitespace, remove_extra_whitespaces=remove_extra_whitespaces,
                  add_dummy_prefix=add_dummy_prefix, character_coverage=character_coverage,
                  max_sentencepiece_length=max_sentencepiece_length, max_sentence_length=max_sentence_length,
                  input_sentence_size=requested, special_tokens=specials, allow_smaller=allow_smaller)
    if sample is not None:
        stats.update(sample=sample.as_dict())
    timer.lap("finalize")
    card = Card("spm", params, corpus_card if word_counts is not None else stream.corpus_card(), timer.total(),
                stats)

    def write(path):
        with open(path, "wb") as fh:
            fh.write(data)

    tok = SentencePieceTokenizer(None, model_proto=data, card=card.to_dict(), name=f"spm-{model_type}-{V}",
                                 save_artifact=lambda folder: write_artifacts(folder, card,
                                                                             {"tokenizer.model": write}))
    if out is not None:
        tok.save(out)
    return tok
