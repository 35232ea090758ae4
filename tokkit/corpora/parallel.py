"""Parallel corpora: the same units (articles, sentences) in many languages, aligned by unit id."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping

from ..errors import EmptyInputError, InputError
from .scripts import dominant_script


@dataclass(frozen=True)
class Language:
    """One language of a parallel corpus, with its metadata.

    Attributes:
        code: the corpus's own key (UDHR file stem, NTREX code, FLORES eng_Latn).
        name: the language's name.
        script: ISO 15924, from the source or the text's dominant script.
        direction: ltr, rtl or ttb.
        iso6393: the ISO 639-3 code.
        bcp47: the BCP 47 tag.
        latitude: where the language is spoken (for maps).
        longitude: where the language is spoken (for maps).
        extra: other metadata of the source.
    """
    code: str                       # the corpus's own key (UDHR file stem, NTREX code, FLORES eng_Latn)
    name: str = ""
    script: str = ""                # ISO 15924, from the source or the text's dominant script
    direction: str = "ltr"          # ltr | rtl | ttb
    iso6393: str = ""
    bcp47: str = ""
    latitude: float | None = None
    longitude: float | None = None
    extra: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class ParallelCorpus:
    """Units aligned across languages: `units[lang][unit_id] -> text`.

    Attributes:
        name: the corpus's name (udhr, ntrex, flores, ...).
        languages: code -> `Language` (every language with text gets one, at least with its script).
        units: code -> unit id -> text.
        unit_ids: the canonical order of units.
        unit_meta: unit id -> metadata, e.g. a document id for document-level sampling.
    """

    name: str
    languages: dict[str, Language]
    units: dict[str, dict[str, str]]
    unit_ids: list[str]
    unit_meta: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self):
        if not self.units:
            raise EmptyInputError(f"{self.name}: the parallel corpus has no languages")
        missing = [c for c in self.units if c not in self.languages]
        for code in missing:  # every language with text gets metadata, at least its script
            self.languages[code] = Language(code=code)
        for code, lang in list(self.languages.items()):
            if not lang.script and code in self.units:
                self.languages[code] = replace(lang, script=dominant_script("".join(self.units[code].values())))

    def __len__(self) -> int:
        return len(self.units)

    def __contains__(self, code: str) -> bool:
        return code in self.units

    def __iter__(self) -> Iterator[str]:
        return iter(self.units)

    @property
    def codes(self) -> list[str]:
        """The language codes, in corpus order."""
        return list(self.units)

    def check_language(self, code: str) -> None:
        """Check that a language is in the corpus.

        Args:
            code: the language code.

        Raises:
            InputError: the code is unknown (the message lists similar codes).
        """
        if code not in self.units:
            close = [c for c in self.units if c.startswith(code[:3])][:8]
            hint = f"; similar codes: {', '.join(close)}" if close else ""
            raise InputError(f"{self.name}: unknown language {code!r} ({len(self.units)} languages{hint})")

    def texts(self, code: str, unit_ids: Iterable[str] | None = None) -> list[str]:
        """Texts of one language in canonical unit order.

        Args:
            code: the language code.
            unit_ids: only these units, where present; None: all.

        Returns:
            The texts.
        """
        self.check_language(code)
        units = self.units[code]
        ids = self.unit_ids if unit_ids is None else unit_ids
        return [units[u] for u in ids if u in units]

    def common_units(self, *codes: str) -> list[str]:
        """Unit ids present (non-empty) in every given language, in canonical order.

        Args:
            *codes: the language codes.

        Returns:
            The unit ids.
        """
        for c in codes:
            self.check_language(c)
        return [u for u in self.unit_ids if all(self.units[c].get(u) for c in codes)]

    def select(self, codes: Iterable[str] | None = None, *, unit_ids: Iterable[str] | None = None,
               min_units: int = 1) -> "ParallelCorpus":
        """A sub-corpus: some languages, some units, languages with fewer than `min_units` units dropped.

        Args:
            codes: the languages to keep; None: all.
            unit_ids: the units to keep; None: all.
            min_units: drop languages with fewer units.

        Returns:
            A new `ParallelCorpus`.
        """
        codes = list(self.units) if codes is None else list(codes)
        for c in codes:
            self.check_language(c)
        keep_units = self.unit_ids if unit_ids is None else [u for u in self.unit_ids if u in set(unit_ids)]
        keep = set(keep_units)
        units = {c: {u: t for u, t in self.units[c].items() if u in keep} for c in codes}
        units = {c: us for c, us in units.items() if len(us) >= min_units}
        if not units:
            raise EmptyInputError(f"{self.name}: no language left after selection")
        return ParallelCorpus(self.name, {c: self.languages[c] for c in units}, units, keep_units,
                              {u: m for u, m in self.unit_meta.items() if u in keep})

    def normalized(self, form: str = "NFC") -> "ParallelCorpus":
        """The corpus with every text Unicode-normalized.

        Args:
            form: "NFC", "NFD", "NFKC" or "NFKD".

        Returns:
            A new `ParallelCorpus`.

        Raises:
            InputError: an unknown form.
        """
        if form not in ("NFC", "NFD", "NFKC", "NFKD"):
            raise InputError(f"unknown normalization form {form!r}")
        units = {c: {u: unicodedata.normalize(form, t) for u, t in us.items()} for c, us in self.units.items()}
        return ParallelCorpus(self.name, dict(self.languages), units, list(self.unit_ids), dict(self.unit_meta))

    def stats(self) -> list[dict]:
        """One row per language: code, name, script, units, characters, bytes.

        Returns:
            The rows, as dicts.
        """
        rows = []
        for code, units in self.units.items():
            lang = self.languages[code]
            chars = sum(len(t) for t in units.values())
            nbytes = sum(len(t.encode("utf-8", "surrogatepass")) for t in units.values())
            rows.append(dict(code=code, name=lang.name, script=lang.script, direction=lang.direction,
                             units=len(units), characters=chars, bytes=nbytes))
        return rows


def parallel_split(corpus: ParallelCorpus, languages: Iterable[str] | None = None, *, dev_fraction: float = 0.2,
                   test_fraction: float = 0.0) -> tuple[dict[str, list[str]], dict[str, list[str]],
                                                        dict[str, list[str]]]:
    """Split the units common to some languages into train / dev / test texts per language.

    The split is in unit order, so that every language's dev (and test) part holds the same content.

    Args:
        corpus: the parallel corpus.
        languages: the languages (default: all).
        dev_fraction: the share of common units in dev.
        test_fraction: the share in test (0: test is empty per language).

    Returns:
        (train, dev, test), each language -> texts.
    """
    langs = list(languages) if languages else list(corpus.codes)
    for code in langs:
        corpus.check_language(code)
    if not 0 < dev_fraction < 1 or not 0 <= test_fraction < 1 or dev_fraction + test_fraction >= 1:
        raise InputError(f"dev_fraction={dev_fraction}, test_fraction={test_fraction}: each in (0, 1), "
                         "summing under 1")
    units = corpus.common_units(*langs)
    if len(units) < 3:
        raise InputError(f"{len(units)} units common to all {len(langs)} languages: too few to split")
    # dev and test get their fractions rounded down, train the rest: no unit is left out of all three
    n_test = int(len(units) * test_fraction)
    n_dev = max(1, int(len(units) * dev_fraction))
    n_train = len(units) - n_dev - n_test
    if n_train < 1:
        raise InputError(f"{len(units)} common units: none left to train on after dev_fraction={dev_fraction} "
                         f"and test_fraction={test_fraction}")
    parts = [units[:n_train], units[n_train:n_train + n_dev], units[n_train + n_dev:]]
    train, dev, test = ({c: corpus.texts(c, p) for c in langs} for p in parts)
    return train, dev, test
