"""FLORES language codes and names: the FLORES-200 release and FLORES+ 2.x name some languages differently,
and neither carries language names.

Codes: FLORES-200 keys languages `iso639-3_Script` (eng_Latn); FLORES+ 2.0 relabelled a few of them and
tells two pairs apart by Glottocode. RENAMED is that list, from the FLORES+ CHANGELOG
(https://github.com/openlanguagedata/flores/blob/main/CHANGELOG.md, releases 2.0-rc.1 and 2.0-rc.2). The
same CHANGELOG lists about 40 languages whose text changed, so FLORES-200 numbers (Petrov et al. 2023) are
reproduced from the FLORES-200 release, not from FLORES+.

Names: a small table below for codes whose ISO 639-3 name would be missing or misleading, then the names in
the NTREX-128 and UDHR indexes under $TOKKIT_DATA when they are there; a language written in several
scripts gets the script in brackets.
"""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

# FLORES-200 code -> FLORES+ 2.x key. FLORES+ splits ajp/apc and aka/twi by Glottocode; tokkit keys those
# rows iso_Script_glottocode (apc_Arab_sout3123), as the CHANGELOG writes them.
RENAMED = {
    "zho_Hans": "cmn_Hans", "zho_Hant": "cmn_Hant", "tgl_Latn": "fil_Latn", "tzm_Tfng": "zgh_Tfng",
    "est_Latn": "ekk_Latn", "grn_Latn": "gug_Latn", "kon_Latn": "ktu_Latn",
    "ajp_Arab": "apc_Arab_sout3123", "apc_Arab": "apc_Arab_nort3139",
    "aka_Latn": "twi_Latn_asan1239", "twi_Latn": "twi_Latn_akua1239",
}
RENAMED_BACK = {v: k for k, v in RENAMED.items()}

# names where the ISO code alone says too little (macrolanguage codes, dialects, relabelled data)
NAMES = {
    "cmn": "Mandarin Chinese", "zho": "Chinese", "yue": "Cantonese", "fil": "Filipino", "tgl": "Tagalog",
    "zgh": "Standard Moroccan Tamazight", "tzm": "Central Atlas Tamazight", "ekk": "Standard Estonian",
    "est": "Estonian", "gug": "Paraguayan Guaraní", "grn": "Guarani", "ktu": "Kituba", "kon": "Kikongo",
    "ajp": "South Levantine Arabic", "apc_Arab_sout3123": "South Levantine Arabic",
    "apc": "North Levantine Arabic", "apc_Arab_nort3139": "North Levantine Arabic",
    "aka": "Akan", "twi_Latn_asan1239": "Twi (Asante)", "twi": "Twi", "twi_Latn_akua1239": "Twi (Akuapem)",
    "arb": "Modern Standard Arabic", "arb_Latn": "Modern Standard Arabic (Romanized)",
    "acm": "Mesopotamian Arabic", "acq": "Ta'izzi-Adeni Arabic", "aeb": "Tunisian Arabic", "ars": "Najdi Arabic",
    "ary": "Moroccan Arabic", "arz": "Egyptian Arabic", "zsm": "Standard Malay", "swh": "Swahili",
    "pes": "Western Persian", "prs": "Dari", "npi": "Nepali", "ory": "Odia", "azj": "North Azerbaijani",
    "azb": "South Azerbaijani", "khk": "Halh Mongolian", "lvs": "Standard Latvian", "als": "Tosk Albanian",
    "uzn": "Northern Uzbek", "pbt": "Southern Pashto", "gaz": "West Central Oromo", "plt": "Plateau Malagasy",
    "quy": "Ayacucho Quechua", "kmr": "Northern Kurdish", "ckb": "Central Kurdish", "ydd": "Eastern Yiddish",
    "dik": "Southwestern Dinka", "knc": "Central Kanuri", "taq": "Tamasheq", "nus": "Nuer", "fuv": "Nigerian Fulfulde",
    "eng": "English", "deu": "German", "fra": "French", "spa": "Spanish", "rus": "Russian", "hin": "Hindi",
    "jpn": "Japanese", "kor": "Korean", "mya": "Burmese", "amh": "Amharic", "shn": "Shan",
}
SCRIPT_NAMES = {"Latn": "Latin", "Arab": "Arabic", "Cyrl": "Cyrillic", "Deva": "Devanagari", "Beng": "Bengali",
                "Hans": "Simplified", "Hant": "Traditional", "Tfng": "Tifinagh", "Mtei": "Meitei", "Olck": "Ol Chiki",
                "Tibt": "Tibetan", "Hebr": "Hebrew", "Ethi": "Ge'ez", "Nkoo": "N'Ko"}


def flores200_code(code: str) -> str:
    """The FLORES-200 code of a FLORES+ key (itself where FLORES+ kept it)."""
    return RENAMED_BACK.get(code, code)


def flores_plus_code(code: str) -> str:
    """The FLORES+ key of a FLORES-200 code (itself where FLORES+ kept it)."""
    return RENAMED.get(code, code)


def aliases(code: str) -> tuple[str, ...]:
    """Other spellings of a FLORES key that should find it: its FLORES-200 / FLORES+ counterpart, and for a
    Glottocode-qualified FLORES+ key its iso_Script form."""
    out = {flores200_code(code), flores_plus_code(code)}
    parts = code.split("_")
    if len(parts) == 3 and code not in RENAMED_BACK:  # the listed ones map to FLORES-200's meaning
        out.add("_".join(parts[:2]))
    out.discard(code)
    return tuple(sorted(out))


@lru_cache(maxsize=4)
def _index_names(data: str) -> dict[str, str]:
    """ISO 639-3 -> name from the NTREX and UDHR indexes under the data folder (empty where they are absent)."""
    names: dict[str, str] = {}
    if not data:
        return names
    root = Path(data)
    udhr = root / "udhr" / "index.json"
    try:
        with open(udhr, encoding="utf-8") as fh:
            recs = json.load(fh)
        # the declaration named by its ISO code first (fra over 068), then the first one seen
        for r in sorted(recs, key=lambda r: r.get("code") != r.get("iso6393")):
            iso, name = r.get("iso6393"), r.get("name")
            if iso and name and iso not in names:
                names[iso] = name
    except (OSError, ValueError, AttributeError):
        pass
    ntrex = root / "ntrex" / "LANGUAGES.tsv"
    try:
        with open(ntrex, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if len(row) >= 2 and row[0] and "-" not in row[0]:
                    names[row[0]] = row[1]   # NTREX's names are plain ("Afrikaans"); UDHR's carry variants
    except OSError:
        pass
    return names


def language_name(code: str, *, scripts_of_language: int = 1) -> str:
    """The name of a FLORES key (eng_Latn, cmn_Hans, apc_Arab_nort3139); "" when unknown.
    scripts_of_language: how many scripts the corpus has for this ISO code (more than one: the script is
    named in brackets)."""
    if code in NAMES:
        return NAMES[code]
    parts = code.split("_")
    iso = parts[0]
    from .._paths import data_root

    root = data_root(required=False)
    name = NAMES.get(iso) or _index_names(str(root) if root is not None else "").get(iso, "")
    if name and scripts_of_language > 1 and len(parts) > 1:
        name = f"{name} ({SCRIPT_NAMES.get(parts[1], parts[1])})"
    return name
