"""The shared legal / financial / government corpora, split by document (bills by bill), for the benchmarks."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

from tokkit.corpora import read_documents
from tokkit.corpora.split import keep_sample, split_of

EVAL_FRACTION, SEED = 0.1, 0
_BILL = re.compile(r"BILLS-(\d+)([a-z]+?)(\d+)([a-z]+)")


def data_root() -> Path:
    env = os.environ.get("TOKKIT_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpora"
    if not (root / "domain").is_dir():
        raise SystemExit(f"{root}/domain not found: set TOKKIT_DATA to the shared corpora folder")
    return root / "domain"


def tokenizers_root() -> Path:
    env = os.environ.get("TOKKIT_TOKENIZERS")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "tokenizers"
    if not root.is_dir():
        raise SystemExit(f"{root} not found: set TOKKIT_TOKENIZERS to the shared tokenizers folder")
    return root


def sources() -> list[tuple[str, str, Path]]:
    """(domain, source, file) for every file, in a fixed order."""
    out = []
    for domain in ("legal", "financial", "government"):
        for f in sorted((data_root() / domain).glob("*.jsonl.gz")):
            out.append((domain, f.name.split(".")[0], f))
    return out


def _bill_key(doc_id: str) -> str:
    m = _BILL.match(doc_id)
    return "".join(m.group(1, 2, 3)) if m else doc_id


def documents(split: str, *, sample: float | None = None, domains=("legal", "financial", "government"),
              only: str | None = None) -> Iterator[tuple[str, str, str]]:
    """(domain, source, text) of one side of the split. Bills are deduplicated first (one version per bill,
    the longest) and split by bill, so no bill has versions on both sides."""
    for domain, source, path in sources():
        if domain not in domains or (only and source != only):
            continue
        docs = list(read_documents(path)) if source == "bills" else read_documents(path)
        if source == "bills":
            best: dict[str, object] = {}
            for d in docs:
                k = _bill_key(d.id)
                if k not in best or (len(d.text), d.id) > (len(best[k].text), best[k].id):
                    best[k] = d
            items = [(k, best[k]) for k in sorted(best)]
        else:
            items = [(d.id, d) for d in docs]
        for key, d in items:
            if split_of(key, EVAL_FRACTION, SEED) != split:
                continue
            if sample is not None and not keep_sample(key, sample, SEED):
                continue
            yield domain, source, d.text
