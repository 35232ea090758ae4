"""tokkit: tokenizer and sequence-length engineering.

The public surface is small and imported lazily, so `import tokkit` stays light (no torch, triton, ray,
datasets, transformers or matplotlib until a function that needs them is called).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> module that defines it; resolved on first access (PEP 562)
_EXPORTS = {
    "corpora": "tokkit.corpora",
    "read_documents": "tokkit.corpora",
    "load_udhr": "tokkit.corpora",
    "load_ntrex": "tokkit.corpora",
    "load_flores": "tokkit.corpora",
    "wordfreq_counts": "tokkit.corpora",
    "read_word_counts": "tokkit.corpora",
    "corpus_stats": "tokkit.corpora",
    "ParallelCorpus": "tokkit.corpora",
    "WordCounts": "tokkit.corpora",
    "TokkitError": "tokkit.errors",
    "InputError": "tokkit.errors",
    # learnt sequence gates (torch; imported on first use)
    "DeleteGate": "tokkit.dynamic.delete_gate",
    "insert_delete_gate": "tokkit.dynamic.delete_gate",
    "remove_delete_gate": "tokkit.dynamic.delete_gate",
    "TokenMerge": "tokkit.dynamic.tome",
    "BoundaryPooler": "tokkit.dynamic.pooling",
}


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'tokkit' has no attribute {name!r}")
    module = importlib.import_module(mod)
    value = module if mod.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = sorted(_EXPORTS) + ["__version__"]
