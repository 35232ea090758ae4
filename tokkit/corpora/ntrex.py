"""NTREX-128: English news (1,997 sentences) and line-aligned translations into 128 languages."""

from __future__ import annotations

import os
import re
import unicodedata
from typing import Iterable

from ..errors import InputError
from .io import read_text
from .parallel import Language, ParallelCorpus
from .paths import data_path

_REF = re.compile(r"^newstest2019-(ref|src)(-\d+)?\.(.+)\.txt$")


def _read_table(path: str) -> list[list[str]]:
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [line.rstrip("\n").split("\t") if "\t" in line else line.rstrip("\n").split(None, 1)
                for line in fh if line.strip()]


def load_ntrex(path: str | os.PathLike | None = None, *, languages: Iterable[str] | None = None,
               nfc: bool = False, include_additional: bool = True) -> ParallelCorpus:
    """NTREX-128 as a `ParallelCorpus`.

    Unit ids are line numbers ("0".."1996"), `unit_meta` gives each line's document id (for document-level
    sampling); English is "eng"; second references get a "-2" suffix (e.g. "spa-2").

    Args:
        path: the NTREX folder (default: $TOKKIT_DATA/ntrex).
        languages: keep these codes; None: all.
        nfc: NFC-normalize the text.
        include_additional: also read the second references.

    Returns:
        The parallel corpus.

    Raises:
        InputError: the folder or a language is missing.
    """
    root = os.fspath(path) if path is not None else data_path("ntrex")
    folder = os.path.join(root, "NTREX-128")
    if not os.path.isdir(folder):
        raise InputError(f"{root}: not an NTREX folder (no NTREX-128/ inside)")
    names = {row[0]: row[1] if len(row) > 1 else "" for row in _read_table(os.path.join(root, "LANGUAGES.tsv"))}
    names.setdefault("eng", "English")
    doc_ids = [row[0] for row in _read_table(os.path.join(root, "DOCUMENT_IDS.tsv"))]
    files = []
    for sub in ("NTREX-128", "NTREX-additional") if include_additional else ("NTREX-128",):
        d = os.path.join(root, sub)
        if os.path.isdir(d):
            files += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    wanted = set(languages) if languages is not None else None
    units: dict[str, dict[str, str]] = {}
    langs: dict[str, Language] = {}
    ref_file = os.path.join(folder, "newstest2019-src.eng.txt")
    ref = _read_lines(ref_file) if os.path.isfile(ref_file) else None
    n_ref = len(ref) if ref is not None else (len(doc_ids) or None)
    for f in files:
        m = _REF.match(os.path.basename(f))
        if not m:
            continue
        code = m.group(3) + (m.group(2) or "")
        if wanted is not None and code not in wanted:
            continue
        lines = ref if ref is not None and f == ref_file else _read_lines(f)
        if n_ref is not None and len(lines) != n_ref:
            raise InputError(_misaligned(f, code, lines, ref, n_ref))
        if nfc:
            lines = [unicodedata.normalize("NFC", t) for t in lines]
        units[code] = {str(i): t for i, t in enumerate(lines) if t.strip()}
        base = m.group(3)
        script = next((p for p in base.split("-")[1:] if len(p) == 4), "")
        langs[code] = Language(code=code, name=names.get(base, names.get(code, "")), script=script,
                               iso6393=base.split("-")[0])
    if wanted is not None and (unknown := sorted(wanted - set(units))):
        raise InputError(f"{root}: unknown NTREX language code(s): {', '.join(unknown[:10])}")
    n = n_ref if n_ref is not None else max((int(u) for us in units.values() for u in us), default=-1) + 1
    unit_ids = [str(i) for i in range(n)]
    meta = {str(i): {"document": doc_ids[i]} for i in range(min(n, len(doc_ids)))}
    return ParallelCorpus("ntrex", langs, units, unit_ids, meta)


def _read_lines(path: str) -> list[str]:
    """The lines of one NTREX file; CRLF endings and blank lines at the end of the file dropped (a blank
    unit is no unit, so they cannot shift anything)."""
    lines = [t[:-1] if t.endswith("\r") else t for t in read_text(path).split("\n")]  # some files are CRLF
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


_DIGITS = re.compile(r"\d+")


def _misaligned(path: str, code: str, lines: list[str], ref: list[str] | None, n_ref: int) -> str:
    """The error for a file whose line count differs from the English reference's, naming the first unit
    that is likely shifted: the first line whose numbers match a neighbouring English line and not its own
    (news text is full of numbers), else the end of the shorter file."""
    first = min(len(lines), n_ref)
    if ref is not None:
        step = 1 if len(lines) < n_ref else -1  # a lost line pairs line i with English i+1
        for i in range(min(len(lines), len(ref))):
            mine, theirs = _DIGITS.findall(lines[i]), _DIGITS.findall(ref[i])
            j = i + step
            if mine and mine != theirs and 0 <= j < len(ref) and mine == _DIGITS.findall(ref[j]):
                first = i
                break
    return (f"{path}: NTREX language {code} has {len(lines)} lines where the English reference has {n_ref}; "
            f"the files are line-aligned, so from unit {first} on (line {first + 1}) every {code} unit would be "
            "paired with the wrong English sentence. Repair or remove the file")
