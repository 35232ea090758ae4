"""Word-count tables (word -> count): the input for training from counts."""

from __future__ import annotations

import contextlib
import gzip
import heapq
import io
import os
import re
from collections import Counter
from typing import Iterable, Iterator, Mapping

from .._extras import require
from ..errors import EmptyInputError, InputError
from .io import iter_lines, split_suffix


class WordCounts(Mapping[str, int]):
    """An immutable word -> count mapping with 64-bit-safe integer counts (Python ints).

    Args:
        counts: a mapping or (word, count) pairs; counts of a repeated word add up.
        source: where the counts came from (a file name, "wordfreq:de"), for cards and messages.
    """

    def __init__(self, counts: Mapping[str, int] | Iterable[tuple[str, int]], *, source: str = ""):
        items = counts.items() if isinstance(counts, Mapping) else counts
        table: dict[str, int] = {}
        for w, c in items:
            c = int(c)
            if c < 0:
                raise InputError(f"{source or 'counts'}: negative count {c} for {w!r}")
            if c:
                table[w] = table.get(w, 0) + c
        self._counts, self.source = table, source

    def __getitem__(self, word: str) -> int:
        return self._counts[word]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    @property
    def total(self) -> int:
        """The sum of all counts."""
        return sum(self._counts.values())

    def most_common(self, n: int | None = None) -> list[tuple[str, int]]:
        """The table, most frequent first, ties by word.

        The same table gives the same order (and the same file bytes) whatever order its counts arrived in.

        Args:
            n: keep the first n; None: all.

        Returns:
            (word, count) pairs.
        """
        key = lambda kv: (-kv[1], kv[0])  # noqa: E731
        if n is None:
            return sorted(self._counts.items(), key=key)
        return heapq.nsmallest(n, self._counts.items(), key=key)

    def __add__(self, other: "WordCounts") -> "WordCounts":
        merged = Counter(self._counts)
        merged.update(other._counts)
        return WordCounts(merged, source=f"{self.source}+{other.source}")

    def prune(self, min_count: int) -> "WordCounts":
        """The words counted at least `min_count` times.

        Args:
            min_count: the smallest count kept.

        Returns:
            A new `WordCounts` with the same source.
        """
        return WordCounts({w: c for w, c in self._counts.items() if c >= min_count}, source=self.source)

    def to_file(self, path: str | os.PathLike) -> None:
        """Write as tsv or parquet, atomically.

        Tsv is word<TAB>count, most frequent first (.tsv.gz / .tsv.zst compressed). In tsv, backslash, tab, newline
        and carriage return inside a word are written as \\\\, \\t, \\n and \\r (pre-tokens of multi-line text hold
        newlines), and read back by `read_word_counts`.

        Args:
            path: the output file; its name gives the format (.tsv, .tsv.gz, .tsv.zst, .txt, .parquet).

        Raises:
            InputError: an unknown file suffix.
        """
        from .._atomic import atomic_path

        path = os.fspath(path)
        fmt = counts_format(path)
        with atomic_path(path) as tmp:
            if fmt == "parquet":
                pa = require("pyarrow", "parquet", purpose=f"to write {path}")
                import pyarrow.parquet as pq

                words, counts = zip(*self.most_common()) if self._counts else ((), ())
                pq.write_table(pa.table({"word": list(words), "count": pa.array(counts, pa.int64())}), tmp)
                return
            with _open_compressed(tmp, split_suffix(path)[1]) as raw, \
                    io.TextIOWrapper(raw, encoding="utf-8", errors="surrogatepass", newline="\n") as fh:
                for w, c in self.most_common():
                    fh.write(f"{_escape(w)}\t{c}\n")


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_ESCAPED = re.compile(r"\\([\\tnr])")


def _escape(word: str) -> str:
    return _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], word) if _NEEDS_ESCAPE.search(word) else word


def _unescape(word: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPES[m.group(1)], word) if "\\" in word else word


@contextlib.contextmanager
def _open_compressed(path: str, compression: str | None):
    """A binary writer of path, compressed as its name says (deterministic bytes: no name or time in the
    gzip header)."""
    with open(path, "wb") as raw:
        if compression == "gzip":
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                yield gz
        elif compression == "zstd":
            import zstandard

            with zstandard.ZstdCompressor().stream_writer(raw, closefd=False) as zw:
                yield zw
        else:
            yield raw


def counts_format(path: str) -> str:
    """The format ("tsv" or "parquet") from a counts table's name (.tsv, .tsv.gz, .tsv.zst, .txt, .parquet); InputError
    for anything else, so that a run can check its output name before any work."""
    fmt, compression = split_suffix(path)
    if path.endswith((".tsv", ".tsv.gz", ".tsv.zst", ".tsv.gzip", ".tsv.zstd")) or fmt == "txt":
        return "tsv"
    if fmt == "parquet" and compression is None:
        return "parquet"
    if fmt == "parquet":
        raise InputError(f"{path}: parquet is compressed inside; name the table .parquet")
    raise InputError(f"{path}: unknown counts format (expected .tsv, .tsv.gz, .tsv.zst or .parquet)")


def read_word_counts(path: str | os.PathLike, *, errors: str = "strict") -> WordCounts:
    """A counts table from tsv (word<TAB>count per line) or parquet (columns word, count).

    Args:
        path: the table (.tsv, .tsv.gz, .tsv.zst, .txt, .parquet).
        errors: "strict" (invalid UTF-8 or a malformed line raises) or "replace".

    Returns:
        The counts.

    Raises:
        InputError: a missing file or a malformed line.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    fmt = counts_format(path)
    if fmt == "parquet":
        pq = require("pyarrow.parquet", "parquet", purpose=f"to read {path}")
        try:
            table = pq.read_table(path)
        except Exception as e:
            raise InputError(f"{path}: not a readable parquet file ({e})") from None
        if not {"word", "count"} <= set(table.column_names):
            raise InputError(f"{path}: expected columns 'word' and 'count', found {', '.join(table.column_names)}")
        counts = WordCounts(zip(table.column("word").to_pylist(), table.column("count").to_pylist()), source=path)
    else:
        def rows():
            for lineno, _, line in iter_lines(path, errors=errors):
                if not line:
                    continue
                word, sep, count = line.rpartition("\t")
                if not sep:
                    raise InputError(f"{path}:{lineno}: expected 'word<TAB>count'")
                try:
                    yield _unescape(word), int(count)
                except ValueError:
                    raise InputError(f"{path}:{lineno}: count {count!r} is not an integer") from None
        counts = WordCounts(rows(), source=path)
    if not counts:
        raise EmptyInputError(f"{path}: no word counts")
    return counts


def wordfreq_counts(lang: str, *, n_words: int = 50_000, total: int = 1_000_000_000,
                    wordlist: str = "best") -> WordCounts:
    """Counts from the `wordfreq` package: its top words for a language, frequencies scaled to counts.

    wordfreq publishes frequencies, not counts. Works offline: the tables ship inside the package.

    Args:
        lang: a language code wordfreq knows ("de", "hi", ...).
        n_words: how many of the most frequent words to take.
        total: the number of tokens the frequencies are scaled to.
        wordlist: wordfreq's list ("best", "large", "small").

    Returns:
        The counts, with source "wordfreq:<lang>".

    Raises:
        InputError: wordfreq has no list for `lang`.
    """
    try:
        import wordfreq
    except ImportError:
        raise InputError("wordfreq is not installed: pip install wordfreq") from None
    if lang not in wordfreq.available_languages(wordlist):
        raise InputError(f"wordfreq has no {wordlist!r} list for language {lang!r} "
                         f"(available: {', '.join(sorted(wordfreq.available_languages(wordlist)))})")
    # the raw frequency table: word_frequency() would re-tokenize every word (and need jieba/MeCab)
    freqs = wordfreq.get_frequency_dict(lang, wordlist=wordlist)
    top = sorted(freqs.items(), key=lambda kv: (-kv[1], kv[0]))[:n_words]
    out = {w: c for w, f in top if (c := round(f * total)) > 0}
    return WordCounts(out, source=f"wordfreq:{lang}")
