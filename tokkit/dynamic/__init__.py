"""Shortening sequences: batch merging, delete gates, token merging, boundary pooling."""

from .._lazy import lazy_exports

# batch merging (issue 6); resolved lazily so that importing tokkit.dynamic stays light (embeddings need torch)
_EXPORTS = {
    "merge_batch": "tokkit.dynamic.batch_merge",
    "unmerge": "tokkit.dynamic.batch_merge",
    "MergeResult": "tokkit.dynamic.batch_merge",
    "tokenize_with_words": "tokkit.dynamic.boundaries",
    "word_ids_from_offsets": "tokkit.dynamic.boundaries",
    "DynamicBPERule": "tokkit.dynamic.boundaries",
    "DynamicMergeCollator": "tokkit.dynamic.collate",
    "merge_map_function": "tokkit.dynamic.collate",
    "measure_reduction": "tokkit.dynamic.collate",
    "DynamicMergeModel": "tokkit.dynamic.embeddings",
    "MergedEmbedding": "tokkit.dynamic.embeddings",
    "fvt_embeddings": "tokkit.dynamic.embeddings",
    "segment_mean": "tokkit.dynamic.embeddings",
    "merge_similarity": "tokkit.dynamic.embeddings",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
