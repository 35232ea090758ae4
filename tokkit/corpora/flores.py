"""FLORES+ (openlanguagedata/flores_plus) through Hugging Face `datasets`: dev + devtest, `text` column."""

from __future__ import annotations

import unicodedata
from typing import Iterable

from .._extras import require
from ..errors import InputError
from .documents import load_hf_split
from .parallel import Language, ParallelCorpus

HUB_NAME = "openlanguagedata/flores_plus"


def load_flores(source: str = HUB_NAME, *, languages: Iterable[str] | None = None,
                splits: Iterable[str] = ("dev", "devtest"), config: str | None = None,
                nfc: bool = False) -> ParallelCorpus:
    """FLORES+ as a ParallelCorpus keyed 'eng_Latn'-style (iso_639_3 + '_' + iso_15924).

    source: the hub name (needs the network or a filled cache) or a local dataset folder of the same schema
    (columns id, iso_639_3, iso_15924, text, ...). Unit ids are '<split>:<id>'.
    """
    require("datasets", "hf", purpose="to read FLORES+")
    wanted = set(languages) if languages is not None else None
    units: dict[str, dict[str, str]] = {}
    langs: dict[str, Language] = {}
    order: list[str] = []
    seen: set[str] = set()
    for split in splits:
        ds = load_hf_split(source, config, split)
        cols = set(ds.column_names)
        need = {"id", "iso_639_3", "iso_15924", "text"}
        if not need <= cols:
            raise InputError(f"{source} [{split}]: not FLORES+ (missing columns {', '.join(sorted(need - cols))})")
        for rec in ds:
            code = f"{rec['iso_639_3']}_{rec['iso_15924']}"
            if wanted is not None and code not in wanted:
                continue
            uid = f"{split}:{rec['id']}"
            text = rec["text"] or ""
            units.setdefault(code, {})[uid] = unicodedata.normalize("NFC", text) if nfc else text
            if code not in langs:
                langs[code] = Language(code=code, script=rec["iso_15924"], iso6393=rec["iso_639_3"])
            if uid not in seen:
                seen.add(uid)
                order.append(uid)
    if not units:
        raise InputError(f"{source}: no FLORES+ rows" + (f" (unknown FLORES+ language code(s) {', '.join(sorted(wanted))}" if wanted else ""))
    if wanted is not None and (unknown := sorted(wanted - set(units))):
        raise InputError(f"{source}: unknown FLORES+ language code(s): {', '.join(unknown[:10])}")
    return ParallelCorpus("flores", langs, units, order)
