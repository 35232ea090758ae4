"""Small corpora and tokenizers for the analysis tests (not collected: no test_ prefix)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Sequence

from tokkit.tokenizer import Tokenizer


def mini_udhr(root: Path, languages: dict[str, dict[str, str]], coords: bool = True) -> Path:
    """A folder in the UDHR layout: languages = {code: {unit: text}}; unit '0' is the preamble."""
    (root / "declaration").mkdir(parents=True, exist_ok=True)
    index = []
    for k, (code, units) in enumerate(languages.items()):
        index.append(dict(code=code, name=f"Lang {code}", bcp47=code[:2], iso6393=code, direction="ltr", stage=4,
                          latitude=10.0 * k if coords else None, longitude=20.0 * k if coords else None))
        parts = ["<html><body>"]
        if "0" in units:
            parts.append(f"<header><h2>Preamble</h2><p>{escape(units['0'])}</p></header>")
        for u, text in units.items():
            if u != "0":
                parts.append(f'<article data-number="{u}"><h2>Article {u}</h2><p>{escape(text)}</p></article>')
        parts.append("</body></html>")
        (root / "declaration" / f"{code}.html").write_text("".join(parts), encoding="utf-8")
    (root / "index.json").write_text(json.dumps(index), encoding="utf-8")
    return root


class WordTokenizer(Tokenizer):
    """Whitespace words and single spaces as tokens over a fixed vocabulary; anything else is UNK (id 0)."""

    kind = "test"

    def __init__(self, vocab: Sequence[str], name: str = "words"):
        self.vocab = ["<unk>", " "] + list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.name = name

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def unk_id(self):
        return 0

    def encode_with_offsets(self, text):
        import re

        ids, offs = [], []
        for m in re.finditer(r"\S+|\s", text):
            ids.append(self.index.get(m.group(), 0))
            offs.append(m.span())
        return ids, offs

    def encode_ordinary(self, text):
        return self.encode_with_offsets(text)[0]

    def decode(self, ids):
        return "".join(self.vocab[i] for i in ids)

    def id_to_token(self, i):
        return self.vocab[i]
