"""Shortening sequences: batch merging, delete gates, token merging, boundary pooling."""
