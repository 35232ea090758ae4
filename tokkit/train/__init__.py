"""Training recipes (domain byte-level BPE, character-level BPE, superword, SentencePiece, native) and the
artifacts they write."""
