"""Deterministic, order-independent sampling and train/eval splits, keyed by a hash of the document id."""

from __future__ import annotations

import hashlib
from typing import Iterable, TypeVar

T = TypeVar("T")
_SCALE = float(1 << 64)


def unit_hash(key: str, seed: int = 0, salt: str = "") -> float:
    """A number in [0, 1) fixed by (key, seed, salt): the same on every machine and in every order."""
    h = hashlib.blake2b(f"{seed}\x00{salt}\x00{key}".encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(h.digest(), "little") / _SCALE


def split_of(doc_id: str, eval_fraction: float = 0.1, seed: int = 0) -> str:
    """The side of the train/eval split a document falls on, by a hash of its id.

    Args:
        doc_id: the document's id.
        eval_fraction: the share of ids on the eval side.
        seed: the seed of the hash.

    Returns:
        "eval" for about `eval_fraction` of ids, "train" for the rest.
    """
    if not 0.0 <= eval_fraction <= 1.0:
        raise ValueError(f"eval_fraction must lie in [0, 1], got {eval_fraction}")
    return "eval" if unit_hash(doc_id, seed, "split") < eval_fraction else "train"


def keep_sample(doc_id: str, fraction: float, seed: int = 0) -> bool:
    """Whether a document is in a sample, chosen by hash so that the choice ignores input order.

    Args:
        doc_id: the document's id.
        fraction: the share of ids to keep.
        seed: the seed of the hash.

    Returns:
        True for about `fraction` of ids.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"sample fraction must lie in (0, 1], got {fraction}")
    return unit_hash(doc_id, seed, "sample") < fraction


def split_documents(docs: Iterable[T], eval_fraction: float = 0.1, seed: int = 0,
                    key=lambda d: d.id) -> tuple[list[T], list[T]]:
    """Split documents into train and eval, each placed by its id alone.

    Args:
        docs: the documents.
        eval_fraction: the share on the eval side.
        seed: the seed of the hash.
        key: the id of a document.

    Returns:
        (train, eval) lists: disjoint and together complete.
    """
    train: list[T] = []
    evals: list[T] = []
    for d in docs:
        (evals if split_of(key(d), eval_fraction, seed) == "eval" else train).append(d)
    return train, evals
