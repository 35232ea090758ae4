"""Corpus statistics (the API twin of `tokkit corpus stats`), and recognising what a path holds."""

from __future__ import annotations

import os
from collections import Counter
from typing import Iterable

from .._progress import progress
from ..errors import InputError
from .documents import Documents, read_documents
from .parallel import ParallelCorpus
from .scripts import count_chars, script_counts


def load_parallel(spec: str, **kw) -> ParallelCorpus:
    """A parallel corpus from a name (udhr, ntrex, flores) or a folder in one of those layouts.

    Args:
        spec: "udhr", "ntrex", "flores" or a folder.
        **kw: keywords of the loader (languages, nfc, ...).

    Returns:
        The parallel corpus.

    Raises:
        InputError: the name or folder is not a parallel corpus.
    """
    from .flores import HUB_NAME, flores200_folder, load_flores
    from .ntrex import load_ntrex
    from .udhr import load_udhr

    if spec == "udhr":
        return load_udhr(**kw)
    if spec == "ntrex":
        return load_ntrex(**kw)
    if spec in ("flores", "flores_plus", HUB_NAME):
        return load_flores(**kw)
    if os.path.isdir(spec):
        if os.path.isfile(os.path.join(spec, "index.json")) or os.path.isdir(os.path.join(spec, "declaration")):
            return load_udhr(spec, **kw)
        if os.path.isdir(os.path.join(spec, "NTREX-128")):
            return load_ntrex(spec, **kw)
        if os.path.exists(os.path.join(spec, "dataset_dict.json")) or flores200_folder(spec):
            return load_flores(spec, **kw)
    raise InputError(f"{spec}: not a parallel corpus (expected udhr, ntrex, flores, or a folder in one of "
                     "those layouts: UDHR index.json, NTREX-128/, FLORES-200 dev/ + devtest/)")


def open_corpus(paths: Iterable[str], **kw) -> ParallelCorpus | Documents:
    """A `ParallelCorpus` when the single path is one, else the documents under the paths.

    Args:
        paths: a corpus name or folder, or files, globs and folders of documents.
        **kw: keywords of `load_parallel` or `read_documents`.

    Returns:
        The parallel corpus or the documents.
    """
    paths = list(paths)
    if len(paths) == 1 and (paths[0] in ("udhr", "ntrex", "flores") or _looks_parallel(paths[0])):
        return load_parallel(paths[0])
    return read_documents(paths, **kw)


def _looks_parallel(path: str) -> bool:
    from .flores import flores200_folder

    return os.path.isdir(path) and (any(
        os.path.exists(os.path.join(path, f)) for f in ("index.json", "declaration", "NTREX-128", "dataset_dict.json"))
        or flores200_folder(path) is not None)


def corpus_stats(source: ParallelCorpus | Documents, *, quiet: bool = True, top_scripts: int = 8) -> dict:
    """Documents, bytes, characters and scripts; for a parallel corpus also one row per language.

    Args:
        source: a parallel corpus or documents.
        quiet: no progress notices.
        top_scripts: how many scripts to list.

    Returns:
        A JSON-ready dict of the counts.
    """
    if isinstance(source, ParallelCorpus):
        rows = source.stats()
        def languages():
            for code in source:
                yield "".join(source.units[code].values())
                bar.advance()

        with progress("counting", total=len(source), quiet=quiet, unit="languages") as bar:
            chars = count_chars(languages())
        scripts = script_counts(chars)
        return dict(kind="parallel", name=source.name, documents=len(rows), languages=len(rows),
                    units=len(source.unit_ids), bytes=sum(r["bytes"] for r in rows),
                    characters=sum(r["characters"] for r in rows),
                    scripts=dict(scripts.most_common(top_scripts)),
                    language_scripts=dict(Counter(r["script"] for r in rows).most_common()),
                    per_language=rows)
    n = nbytes = nchars = 0

    def texts():
        nonlocal n, nbytes, nchars
        for doc in source:
            n += 1
            nchars += len(doc.text)
            nbytes += len(doc.text.encode("utf-8", "surrogatepass"))
            yield doc.text
            bar.advance()

    with progress("reading", quiet=quiet, unit="documents") as bar:
        chars = count_chars(texts())
    scripts = script_counts(chars)
    return dict(kind="documents", name=source.describe, documents=n, bytes=nbytes, characters=nchars,
                scripts=dict(scripts.most_common(top_scripts)))
