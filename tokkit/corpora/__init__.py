"""The one way text enters tokkit: documents, parallel corpora and word-count tables."""

from .documents import Document, Documents, from_hf_dataset, from_texts, read_documents
from .flores import load_flores
from .ntrex import load_ntrex
from .parallel import Language, ParallelCorpus, parallel_split
from .paths import data_path, data_root
from .scripts import dominant_script, script_counts
from .split import keep_sample, split_documents, split_of
from .stats import corpus_stats, load_parallel, open_corpus
from .udhr import load_udhr
from .wordcounts import WordCounts, read_word_counts, wordfreq_counts

__all__ = [
    "Document", "Documents", "Language", "ParallelCorpus", "WordCounts", "corpus_stats", "data_path",
    "data_root", "dominant_script", "from_hf_dataset", "from_texts", "keep_sample", "load_flores",
    "load_ntrex", "load_parallel", "load_udhr", "open_corpus", "parallel_split", "read_documents",
    "read_word_counts", "script_counts", "split_documents", "split_of", "wordfreq_counts",
]
