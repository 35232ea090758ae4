"""Where the shared corpora live: $TOKKIT_DATA, else ../shared/corpora beside the working directory or
the source checkout. The resolver is `tokkit._paths` (shared with the tokenizer layer's
$TOKKIT_TOKENIZERS); this module is the corpora layer's name for it."""

from __future__ import annotations

from .._paths import data_path, data_root

__all__ = ["data_path", "data_root"]
