"""The document split is deterministic, disjoint, complete and independent of input order."""

import random

from hypothesis import given
from hypothesis import strategies as st

from tokkit.corpora import Document, split_documents, split_of

ids = st.lists(st.text(min_size=1, max_size=20), min_size=0, max_size=200, unique=True)


@given(ids, st.floats(0, 1), st.integers(0, 2**31))
def test_split_deterministic_disjoint_complete(doc_ids, frac, seed):
    docs = [Document(i, "t") for i in doc_ids]
    train, evals = split_documents(docs, frac, seed)
    assert {d.id for d in train}.isdisjoint(d.id for d in evals)
    assert {d.id for d in train} | {d.id for d in evals} == set(doc_ids)
    shuffled = docs[:]
    random.Random(seed).shuffle(shuffled)
    train2, evals2 = split_documents(shuffled, frac, seed)
    assert {d.id for d in train2} == {d.id for d in train}
    assert {d.id for d in evals2} == {d.id for d in evals}


def test_split_fraction_is_close():
    n = sum(split_of(f"doc-{i}", 0.1) == "eval" for i in range(20000))
    assert 1800 < n < 2200
    assert split_of("x", 0.0) == "train" and split_of("x", 1.0) == "eval"
