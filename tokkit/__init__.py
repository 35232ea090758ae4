"""tokkit: tokenizer and sequence-length engineering.

The public surface is small and imported lazily, so `import tokkit` stays light (no torch, triton, ray,
datasets, transformers or matplotlib until a function that needs them is called).
"""

from __future__ import annotations

from ._lazy import lazy_exports

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
    "merge_batch": "tokkit.dynamic",
    "unmerge": "tokkit.dynamic",
    "tokenize_with_words": "tokkit.dynamic",
    "DynamicMergeCollator": "tokkit.dynamic",
    "DynamicMergeModel": "tokkit.dynamic",
    "load_tokenizer": "tokkit.tokenizer",
    "Tokenizer": "tokkit.tokenizer",
    "analysis": "tokkit.analysis",
    "evaluate": "tokkit.analysis.metrics",
    "premiums": "tokkit.analysis.premium",
    "sweep": "tokkit.analysis.sweeps",
    "compare": "tokkit.analysis.domains",
    "gini": "tokkit.analysis.inequality",
    "train": "tokkit.train.api",
    "train_bpe": "tokkit.train.bpe",
    "train_char": "tokkit.train.char",
    "train_superword": "tokkit.train.superword",
    "train_spm": "tokkit.train.spm",
    "boundary_stability": "tokkit.analysis.boundary",
    "ocr_noise": "tokkit.analysis.boundary",
    "train_native": "tokkit.train.native",
    "NativeBPE": "tokkit.train.native",
    "train_parity": "tokkit.train.parity",
    "extend": "tokkit.train.extension",
    "extend_model": "tokkit.train.embeddings",
    "bits_per_byte": "tokkit.analysis.judge",
    "train_parity_native": "tokkit.train.parity",  # deprecated name of train_parity, kept one release
    # learnt sequence gates (torch; imported on first use)
    "DeleteGate": "tokkit.dynamic.delete_gate",
    "insert_delete_gate": "tokkit.dynamic.delete_gate",
    "remove_delete_gate": "tokkit.dynamic.delete_gate",
    "TokenMerge": "tokkit.dynamic.tome",
    "BoundaryPooler": "tokkit.dynamic.pooling",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = sorted(_EXPORTS) + ["__version__"]
