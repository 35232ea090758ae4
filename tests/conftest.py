import os
from pathlib import Path

import pytest
from hypothesis import settings

# hypothesis budgets live here, not on each test: `ci` (bounded, the default) and `dev` (more examples), chosen by
# HYPOTHESIS_PROFILE. deadline=None: a busy machine must not turn a slow example into a failure.
settings.register_profile("ci", max_examples=50, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")

# triton kernels run on the CPU interpreter in tests; must be set before triton is imported
os.environ.setdefault("TRITON_INTERPRET", "1")

ROOT = Path(__file__).resolve().parents[1]


def _find(env: str, sub: str) -> Path | None:
    if os.environ.get(env):
        p = Path(os.environ[env])
        return p if p.is_dir() else None
    for base in (Path.cwd(), ROOT):
        p = base.parent / "shared" / sub
        if p.is_dir():
            return p
    return None


DATA = _find("TOKKIT_DATA", "corpora")
TOKENIZERS = _find("TOKKIT_TOKENIZERS", "tokenizers")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if DATA is None:
        pytest.skip("shared corpora not found: set TOKKIT_DATA to the folder holding udhr/, ntrex/, domain/")
    return DATA


@pytest.fixture(scope="session")
def tokenizers_dir() -> Path:
    if TOKENIZERS is None:
        pytest.skip("shared tokenizers not found: set TOKKIT_TOKENIZERS to ../shared/tokenizers")
    return TOKENIZERS


@pytest.fixture(scope="session")
def udhr(data_dir):
    from tokkit.corpora import load_udhr

    return load_udhr(data_dir / "udhr")


@pytest.fixture(scope="session")
def gpt2(tokenizers_dir):
    """GPT-2's byte-level BPE as a `tokenizers.Tokenizer` (shared: copy it before changing its settings)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tokenizers_dir / "gpt2" / "tokenizer.json"))


@pytest.fixture(scope="session")
def mbert(tokenizers_dir):
    """Multilingual BERT's WordPiece as a `tokenizers.Tokenizer` (shared: copy it before changing its settings)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tokenizers_dir / "bert-base-multilingual-cased" / "tokenizer.json"))
