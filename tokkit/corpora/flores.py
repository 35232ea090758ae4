"""FLORES: FLORES+ (openlanguagedata/flores_plus) through Hugging Face `datasets`, or FLORES-200 as released
(a `flores200_dataset/` folder with `dev/<lang>.dev` and `devtest/<lang>.devtest`, line-aligned), read from
disk without the hub. Both give a ParallelCorpus keyed 'eng_Latn'-style with unit ids '<split>:<n>', language
names, each sentence's source article as its document (unit_meta 'document', from the URL) and the other
naming's code as an alias (`resolve_language`: zho_Hans finds FLORES+'s cmn_Hans; see flores_codes)."""

from __future__ import annotations

import os
import re
import unicodedata
from typing import Iterable

from .._extras import require
from ..errors import InputError
from .documents import load_hf_split
from .flores_codes import aliases, language_name
from .parallel import Language, ParallelCorpus

HUB_NAME = "openlanguagedata/flores_plus"
RELEASE_NAME = "flores200_dataset"
SPLITS = ("dev", "devtest")
_LANG_FILE = re.compile(r"^([a-z]{2,3})_([A-Z][a-z]{3})$")

OFFLINE_HINT = (f"point tokkit at a local copy: FLORES-200 as released (the {RELEASE_NAME}/ folder with dev/ and "
                "devtest/) or a FLORES+ dataset folder, as load_flores('path') / --corpus path, or put it at "
                "$TOKKIT_DATA/flores")


def flores200_folder(path: str | os.PathLike) -> str | None:
    """The FLORES-200 release folder at path (or at path/flores200_dataset), else None."""
    p = os.fspath(path)
    for cand in (p, os.path.join(p, RELEASE_NAME)):
        if os.path.isdir(os.path.join(cand, "dev")) and os.path.isdir(os.path.join(cand, "devtest")) and any(
                f.endswith(".dev") for f in os.listdir(os.path.join(cand, "dev"))):
            return cand
    return None


def _default_source() -> str:
    from .._paths import data_root

    root = data_root(required=False)
    if root is not None and os.path.isdir(root / "flores"):
        return str(root / "flores")
    return HUB_NAME


def load_flores(source: str | os.PathLike | None = None, *, languages: Iterable[str] | None = None,
                splits: Iterable[str] = SPLITS, config: str | None = None,
                nfc: bool = False) -> ParallelCorpus:
    """FLORES as a `ParallelCorpus` keyed "eng_Latn"-style (iso_639_3 + "_" + iso_15924), unit ids "<split>:<n>".

    Args:
        source: a FLORES-200 release folder (read from disk, no `datasets` needed), a local FLORES+ dataset
            folder (columns id, iso_639_3, iso_15924, text), or the hub name (needs the network or a filled
            cache). Default: $TOKKIT_DATA/flores when it exists, else the hub.
        languages: keep these codes (FLORES-200 or FLORES+ spellings); None: all.
        splits: the splits to read ("dev", "devtest").
        config: the hub configuration, when reading from the hub.
        nfc: NFC-normalize the text.

    Returns:
        The parallel corpus.

    Raises:
        InputError: no local copy and no hub access (the line says how to point tokkit at a local copy), unknown
            language codes, or misaligned files.
    """
    source = _default_source() if source is None else os.fspath(source)
    splits = tuple(splits)
    for s in splits:
        if s not in SPLITS:
            raise InputError(f"FLORES split {s!r}: expected dev or devtest")
    if (folder := flores200_folder(source)) is not None:
        return _load_release(folder, languages=languages, splits=splits, nfc=nfc)
    local = os.path.isdir(source)
    require("datasets", "hf", purpose=f"to read FLORES+ from {source}; or {OFFLINE_HINT}")
    wanted = set(languages) if languages is not None else None
    rows: dict[tuple[str, str, str], dict[str, str]] = {}   # (iso, script, glottocode) -> unit id -> text
    meta: dict[str, dict] = {}
    order: list[str] = []
    seen: set[str] = set()
    for split in splits:
        try:
            ds = load_hf_split(source, config, split)
        except Exception as e:  # noqa: BLE001 - datasets/hub raise many types when offline or not found
            if isinstance(e, InputError) and e.__cause__ is None:  # tokkit's own finding (e.g. no such folder)
                raise
            # datasets could not load it (load_hf_split wraps its error): say how to use a local copy instead
            cause = e.__cause__ if isinstance(e, InputError) else e
            first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
            where = "read" if local else "reach the Hugging Face hub for"
            raise InputError(f"FLORES: cannot {where} {source} ({first}); {OFFLINE_HINT}") from None
        cols = set(ds.column_names)
        need = {"id", "iso_639_3", "iso_15924", "text"}
        if not need <= cols:
            raise InputError(f"{source} [{split}]: not FLORES+ (missing columns {', '.join(sorted(need - cols))})")
        for rec in ds:
            uid = f"{split}:{rec['id']}"
            text = rec["text"] or ""
            key = (rec["iso_639_3"], rec["iso_15924"], rec.get("glottocode") or "")
            rows.setdefault(key, {})[uid] = unicodedata.normalize("NFC", text) if nfc else text
            if uid not in seen:
                seen.add(uid)
                order.append(uid)
            if rec.get("url") and uid not in meta:
                meta[uid] = {"document": rec["url"]}
    # FLORES+ tells two pairs of languages apart by Glottocode only (apc_Arab, twi_Latn): those are keyed
    # iso_Script_glottocode, every other language iso_Script
    per_code: dict[str, int] = {}
    for iso, script, _ in rows:
        per_code[f"{iso}_{script}"] = per_code.get(f"{iso}_{script}", 0) + 1
    units: dict[str, dict[str, str]] = {}
    langs: dict[str, Language] = {}
    for (iso, script, glotto), us in rows.items():
        code = f"{iso}_{script}" + (f"_{glotto}" if per_code[f"{iso}_{script}"] > 1 and glotto else "")
        if wanted is not None and code not in wanted and not wanted & set(aliases(code)):
            continue
        units[code] = us
        langs[code] = Language(code=code, script=script, iso6393=iso, extra={"aliases": aliases(code)})
    _name_languages(langs)
    if not units:
        unknown = f" (unknown FLORES+ language code(s) {', '.join(sorted(wanted))})" if wanted else ""
        raise InputError(f"{source}: no FLORES+ rows" + unknown)
    if wanted is not None and (unknown := sorted(w for w in wanted if w not in units
                                                 and not any(w in lang.extra["aliases"] for lang in langs.values()))):
        raise InputError(f"{source}: unknown FLORES+ language code(s): {', '.join(unknown[:10])}")
    _check_complete(source, units, order)
    return ParallelCorpus("flores", langs, units, order, meta)


def _name_languages(langs: dict[str, Language]) -> None:
    """Fill in language names (flores_codes.language_name), naming the script where a language has several."""
    from dataclasses import replace

    n_scripts: dict[str, int] = {}
    for lang in langs.values():
        n_scripts[lang.iso6393] = n_scripts.get(lang.iso6393, 0) + 1
    for code, lang in langs.items():
        langs[code] = replace(lang, name=language_name(code, scripts_of_language=n_scripts[lang.iso6393]))


def resolve_language(corpus: ParallelCorpus, code: str) -> str:
    """The corpus's own key for a language code: the code itself, or the language that lists it among its
    aliases (a FLORES-200 code in a FLORES+ corpus and back); unknown codes come back unchanged, for the
    corpus's own error."""
    if code in corpus.units:
        return code
    for key, lang in corpus.languages.items():
        if key in corpus.units and code in (lang.extra or {}).get("aliases", ()):
            return key
    return code


def _check_complete(source: str, units: dict[str, dict[str, str]], order: list[str]) -> None:
    """Every language of FLORES+ translates every sentence: a language lacking a unit id the others have
    is an error naming the language and the first missing unit."""
    for code, us in units.items():
        if len(us) != len(order):
            first = next(u for u in order if u not in us)
            raise InputError(f"{source}: FLORES language {code} has {len(us)} of {len(order)} units; the first "
                             f"missing is {first}")


def _read_lines(path: str) -> list[str]:
    from .io import read_text

    lines = read_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [t[:-1] if t.endswith("\r") else t for t in lines]


def _metadata(folder: str, split: str) -> list[list[str]] | None:
    """The rows of the release's metadata_<split>.tsv (after its header line: URL, domain, topic, ...), one
    per sentence: the split's consistency data and each sentence's source article."""
    path = os.path.join(folder, f"metadata_{split}.tsv")
    if not os.path.isfile(path):
        return None
    return [line.split("\t") for line in _read_lines(path)[1:]]


def _load_release(folder: str, *, languages: Iterable[str] | None, splits: tuple[str, ...],
                  nfc: bool) -> ParallelCorpus:
    """FLORES-200 as released: <split>/<lang>.<split>, line n of every language the same sentence."""
    wanted = set(languages) if languages is not None else None
    units: dict[str, dict[str, str]] = {}
    langs: dict[str, Language] = {}
    order: list[str] = []
    meta: dict[str, dict] = {}
    for split in splits:
        d = os.path.join(folder, split)
        names = (sorted(f[: -len(split) - 1] for f in os.listdir(d) if f.endswith("." + split))
                 if os.path.isdir(d) else [])
        if not names:
            raise InputError(f"{d}: no <lang>.{split} files (FLORES-200 layout: {split}/eng_Latn.{split})")
        rows = _metadata(folder, split)
        expected = None if rows is None else len(rows)
        if rows is not None:
            meta.update((f"{split}:{i}", {"document": r[0]}) for i, r in enumerate(rows) if r and r[0])
        reference = "eng_Latn" if "eng_Latn" in names else names[0]
        if expected is None:
            expected = len(_read_lines(os.path.join(d, f"{reference}.{split}")))
            source = f"{reference}.{split}"
        else:
            source = f"metadata_{split}.tsv"
        order += [f"{split}:{i}" for i in range(expected)]
        for code in names:
            if wanted is not None and code not in wanted and not wanted & set(aliases(code)):
                continue
            m = _LANG_FILE.match(code)
            if not m:
                raise InputError(f"{os.path.join(d, code + '.' + split)}: not a FLORES language file name "
                                 "(expected e.g. eng_Latn)")
            lines = _read_lines(os.path.join(d, f"{code}.{split}"))
            if len(lines) != expected:
                raise InputError(f"{os.path.join(d, code + '.' + split)}: FLORES language {code} has {len(lines)} "
                                 f"lines where {source} has {expected}; the files are line-aligned, so from unit "
                                 f"{split}:{min(len(lines), expected)} on (or earlier) its sentences would be "
                                 "paired wrongly")
            if nfc:
                lines = [unicodedata.normalize("NFC", t) for t in lines]
            units.setdefault(code, {}).update((f"{split}:{i}", t) for i, t in enumerate(lines) if t.strip())
            langs.setdefault(code, Language(code=code, script=m.group(2), iso6393=m.group(1),
                                            extra={"aliases": aliases(code)}))
    if wanted is not None and (unknown := sorted(w for w in wanted if w not in units
                                                 and not any(w in aliases(c) for c in units))):
        raise InputError(f"{folder}: unknown FLORES language code(s): {', '.join(unknown[:10])}")
    if not units:
        raise InputError(f"{folder}: no FLORES language files")
    for code in units:  # a language present in one split only is misaligned across the corpus
        for split in splits:
            if not any(u.startswith(split + ":") for u in units[code]):
                raise InputError(f"{folder}: FLORES language {code} has no {split} file; "
                                 f"the first missing unit is {split}:0")
    _name_languages(langs)
    return ParallelCorpus("flores", langs, units, order, meta)
