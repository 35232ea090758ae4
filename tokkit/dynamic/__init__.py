"""Shortening sequences: batch merging, delete gates, token merging, boundary pooling."""

import importlib as _importlib

# batch merging (issue 6); resolved lazily so that importing tokkit.dynamic stays light (embeddings need torch)
_EXPORTS = {
    "merge_batch": "tokkit.dynamic.batch_merge",
    "unmerge": "tokkit.dynamic.batch_merge",
    "MergeResult": "tokkit.dynamic.batch_merge",
    "tokenize_with_words": "tokkit.dynamic.boundaries",
    "word_ids_from_offsets": "tokkit.dynamic.boundaries",
    "DynamicMergeCollator": "tokkit.dynamic.collate",
    "merge_map_function": "tokkit.dynamic.collate",
    "measure_reduction": "tokkit.dynamic.collate",
    "DynamicMergeModel": "tokkit.dynamic.embeddings",
    "MergedEmbedding": "tokkit.dynamic.embeddings",
    "fvt_embeddings": "tokkit.dynamic.embeddings",
    "segment_mean": "tokkit.dynamic.embeddings",
    "merge_similarity": "tokkit.dynamic.embeddings",
}


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'tokkit.dynamic' has no attribute {name!r}")
    value = getattr(_importlib.import_module(mod), name)
    globals()[name] = value
    return value
