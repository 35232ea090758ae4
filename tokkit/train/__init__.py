"""Training recipes (domain byte-level BPE, character-level BPE, superword, SentencePiece, native) and the
artifacts they write."""

from .api import RECIPES, train
from .bpe import train_bpe
from .char import train_char
from .common import DEFAULT_SPECIAL_TOKENS
from .spm import train_spm
from .superword import train_superword

__all__ = ["DEFAULT_SPECIAL_TOKENS", "RECIPES", "train", "train_bpe", "train_char", "train_spm", "train_superword"]


# `tokkit.train` is both this package and the function: importing a submodule (tokkit.train.bpe) binds the
# package to the name `train` on `tokkit`, so the package itself is made callable as `train(...)`
import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    def __call__(self, *args, **kwargs):
        return train(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
