"""Every option that more than one verb takes, defined once (docs/architecture.md, "One vocabulary").

A verb declares a shared option by annotating its parameter with the alias below (`out: Out`), so the flag
name, short name and help text are the same object everywhere; tests/test_cli_contract.py checks it. The
corpus reading options travel as one `ReadArgs` (the `@corpus_options` decorator adds the ten flags to a
verb and hands it `read=ReadArgs(...)`), and old spellings are hidden aliases added by `@deprecated(...)`
that print one line on stderr.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence

import typer
from typing_extensions import Annotated

# --- output and common behaviour ------------------------------------------------------------------------

Out = Annotated[str, typer.Option(
    "--out", "-o", help="Where the result goes, replaced atomically: the artifact folder (tokenizer files and "
    "their tokkit.json card); for count, the .parquet or .tsv table.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines on stdout (no bars, no table).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars and no table.")]

# --- training -------------------------------------------------------------------------------------------

VocabSize = Annotated[int, typer.Option(
    "--vocab-size", "-v", help="Total vocabulary size: special tokens, the base alphabet and merges.")]
ENGINES = ("native", "hf")
Engine = Annotated[Optional[str], typer.Option(
    "--engine", help="Merge learner: native (tokkit's numba kernels, the default) or hf (Hugging Face "
    "BpeTrainer).")]
PreTokenizer = Annotated[Optional[str], typer.Option(
    "--pre-tokenizer", help="Split applied before counting and training: gpt2 (default), gpt4o, whitespace "
    "or none.")]
MinFrequency = Annotated[int, typer.Option(
    "--min-frequency", help="Stop merging when the best pair is seen fewer times.")]
SpecialToken = Annotated[Optional[List[str]], typer.Option(
    "--special-token", help="A special token, at ids 0..n-1 in the order given (repeatable; default: the "
    "recipe's set; --special-token '' for none).")]
Term = Annotated[Optional[List[str]], typer.Option(
    "--term", help="A domain term made a single token (repeatable).")]
TermsFile = Annotated[Optional[str], typer.Option(
    "--terms-file", help="Domain terms, one per line, each made a single token.")]
MaxTokenWords = Annotated[int, typer.Option(
    "--max-token-words", help="Superword: most words one token may span.")]
MaxWords = Annotated[Optional[int], typer.Option(
    "--max-words", help="Bound memory: keep at most this many distinct words while counting.")]
Resume = Annotated[Optional[str], typer.Option(
    "--resume", help="A tokenizer.json (or its folder) whose merges come first; training continues to "
    "--vocab-size.")]
ExportSize = Annotated[Optional[List[int]], typer.Option(
    "--export-size", help="Also write tokenizer-<V>.json for a smaller V from the same run (repeatable).")]
AllowSmaller = Annotated[bool, typer.Option(
    "--allow-smaller", help="Accept fewer tokens than --vocab-size when the corpus runs out of pairs.")]
Transition = Annotated[Optional[int], typer.Option(
    "--transition", help="Superword: vocabulary size where stage 2 (merges across spaces) starts.")]
Threads = Annotated[Optional[int], typer.Option("--threads", min=1, help="Counting threads (default: all cores).")]

# training recipes' own switches
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace the folder at --out even if it is not a tokkit artifact (it is replaced whole).")]
Pow2 = Annotated[bool, typer.Option("--pow2", help="Round --vocab-size up to a power of two (by real merges).")]
Uncased = Annotated[bool, typer.Option("--uncased", help="Lowercase before training.")]
Normalizer = Annotated[Optional[str], typer.Option("--normalizer", help="none, NFC (default) or NFKC.")]
Counts = Annotated[Optional[str], typer.Option(
    "--counts", help="Train from a word-count table (.tsv or .parquet, e.g. from `tokkit count`).")]
Wordfreq = Annotated[Optional[str], typer.Option(
    "--wordfreq", help="Train from the wordfreq counts of this language (shipped, offline).")]
PrefixSpace = Annotated[bool, typer.Option(
    "--prefix-space", help="--counts/--wordfreq: put a space before each word, as in running text.")]
Unicode = Annotated[Optional[str], typer.Option(
    "--unicode", help="Native engine's character classes: regex (default; the regex module) or hf (as HF "
    "tokenizers' older Unicode tables: identical merges on any text).")]

# --- tokenizers and languages ---------------------------------------------------------------------------

SplitPattern = Annotated[Optional[str], typer.Option(
    "--split-pattern", help="Split regex of a tiktoken ranks file, or a known name: cl100k_base, o200k_base, "
    "r50k_base, llama3 (the public encodings are recognised from the file name).")]
Language = Annotated[Optional[List[str]], typer.Option(
    "--language", "-l", help="A language code (repeatable).")]
CORPUS_HELP = ("The text to measure on: a parallel corpus (udhr, ntrex, flores, or a folder in their layout) or, "
               "for eval, files, globs or folders (repeatable).")
NFC_HELP = "NFC-normalize the text first."
Nfc = Annotated[bool, typer.Option("--nfc", help=NFC_HELP)]
Plot = Annotated[Optional[str], typer.Option(
    "--plot", help="Write the verb's figure here (.png or .svg); premiums also writes <stem>-scripts, "
    "<stem>-lorenz and <stem>-map beside it.")]
Reference = Annotated[Optional[str], typer.Option(
    "--reference", "-r", help="Reference language: premiums and target sizes are relative to it.")]
NWords = Annotated[int, typer.Option("--n-words", min=1, help="wordfreq: the most frequent N words of each language.")]
Tokenizers = Annotated[List[str], typer.Argument(
    help="Tokenizers: tokenizer.json files or folders, SentencePiece .model, tiktoken ranks files, names under "
    "$TOKKIT_TOKENIZERS (o200k_base, gpt2, llama2, ...), or the built-ins bytes and chars.")]

# distributed work (count, sweep)
Backend = Annotated[str, typer.Option("--backend", help="Where tasks run: local (process pool), ray, or "
                                      "inline (this process; sweep only).")]
Address = Annotated[Optional[str], typer.Option(
    "--address", help="Address of an existing Ray cluster (default: start one).")]
Workers = Annotated[Optional[int], typer.Option(
    "--workers", min=1, help="Local processes / Ray CPUs (default: all cores).")]
Retries = Annotated[int, typer.Option("--retries", help="Extra attempts for a failed task.")]

# --- reading documents ----------------------------------------------------------------------------------

Format = Annotated[Optional[str], typer.Option(
    "--format", help="txt, jsonl or parquet (default: from the file name).")]
PerLine = Annotated[bool, typer.Option("--per-line", help="txt: a document per line, not per file.")]
TextField = Annotated[str, typer.Option("--text-field", help="jsonl field / parquet column with the text.")]
MaxDocuments = Annotated[Optional[int], typer.Option(
    "--max-documents", help="Read at most this many documents (0: all).")]
MaxBytes = Annotated[Optional[int], typer.Option("--max-bytes", help="Read at most this many bytes of text.")]
Sample = Annotated[Optional[float], typer.Option(
    "--sample", help="Keep this fraction of documents (chosen by a hash of the document id).")]
Seed = Annotated[int, typer.Option(
    "--seed", help="Random seed: document sampling and split, and the verb's own resampling or noise.")]
Split = Annotated[Optional[str], typer.Option(
    "--split", help="Only the 'train' or the 'eval' side of the document split (by id hash).")]
EvalFraction = Annotated[float, typer.Option("--eval-fraction", help="Share of documents in the eval split.")]
ReplaceInvalid = Annotated[bool, typer.Option(
    "--replace-invalid", help="Replace invalid UTF-8 with U+FFFD instead of stopping.")]


@dataclass(frozen=True)
class ReadArgs:
    """The corpus reading options of one command line, as `read_documents` keywords."""
    format: Optional[str] = None
    per_line: bool = False
    text_field: str = "text"
    max_documents: Optional[int] = None
    max_bytes: Optional[int] = None
    sample: Optional[float] = None
    seed: int = 0
    split: Optional[str] = None
    eval_fraction: float = 0.1
    replace_invalid: bool = False

    def kwargs(self) -> dict[str, Any]:
        """The `tokkit.corpora.read_documents` keywords that differ from its defaults (so they also suit
        readers that take only some of them, such as a Hugging Face dataset shard)."""
        given = dict(format=self.format, per="line" if self.per_line else None,
                     text_field=None if self.text_field == "text" else self.text_field,
                     max_documents=self.max_documents or None, max_bytes=self.max_bytes, sample=self.sample,
                     seed=self.seed or None, split=self.split,
                     eval_fraction=None if self.eval_fraction == 0.1 else self.eval_fraction,
                     errors="replace" if self.replace_invalid else None)
        return {k: v for k, v in given.items() if v is not None}


_CORPUS_PARAMS = [("format", Format, None), ("per_line", PerLine, False), ("text_field", TextField, "text"),
                  ("max_documents", MaxDocuments, None), ("max_bytes", MaxBytes, None), ("sample", Sample, None),
                  ("seed", Seed, 0), ("split", Split, None), ("eval_fraction", EvalFraction, 0.1),
                  ("replace_invalid", ReplaceInvalid, False)]
CORPUS_FLAGS = ("--format", "--per-line", "--text-field", "--max-documents", "--max-bytes", "--sample", "--seed",
                "--split", "--eval-fraction", "--replace-invalid")


def _extend(fn: Callable, extra: list[inspect.Parameter], drop: tuple[str, ...] = ()) -> inspect.Signature:
    """fn's signature (annotations evaluated, so typer sees the Annotated options) plus keyword-only extras."""
    sig = inspect.signature(fn, eval_str=True)
    params = [p for p in sig.parameters.values() if p.name not in drop]
    return sig.replace(parameters=params + extra)


def corpus_options(fn: Callable | None = None, **defaults):
    """Add the ten corpus reading flags to a verb; it receives them as one `read: ReadArgs`.
    Keyword arguments override a flag's default for this verb (compare reads 100 documents per set)."""
    def deco(fn):
        extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann,
                                   default=defaults.get(name, default)) for name, ann, default in _CORPUS_PARAMS]

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            kw["read"] = ReadArgs(**{name: kw.pop(name) for name, _, _ in _CORPUS_PARAMS})
            return fn(*a, **kw)

        wrapper.__signature__ = _extend(fn, extra, drop=("read",))
        return wrapper

    return deco(fn) if fn is not None else deco


# --- old spellings --------------------------------------------------------------------------------------

def commas(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


@dataclass(frozen=True)
class Alias:
    """An old flag kept one release: hidden, prints one deprecation line, feeds the new parameter."""
    flag: str                  # the old spelling, e.g. "--special-tokens"
    target: str                # the verb's parameter it feeds, e.g. "special_token"
    new: str                   # the new spelling, for the message
    convert: Callable[[Any], Any] = lambda v: v
    annotation: Any = Optional[str]

    @property
    def param(self) -> str:
        return "deprecated_" + self.flag.lstrip("-").replace("-", "_")


def _warn(old: str, new: str) -> None:
    typer.secho(f"warning: {old} is deprecated and will be removed in the next release; use {new}",
                fg=typer.colors.YELLOW, err=True)


def deprecated(*aliases: Alias):
    """Add hidden old flags to a verb. A given old flag prints one line on stderr and its (converted) value
    is added to a list parameter, or fills a scalar one that was left at its default."""
    def deco(fn):
        extra = [inspect.Parameter(a.param, inspect.Parameter.KEYWORD_ONLY, default=None,
                                   annotation=Annotated[a.annotation, typer.Option(a.flag, hidden=True)])
                 for a in aliases]
        sig = _extend(fn, extra)

        @functools.wraps(fn)
        def wrapper(*args, **kw):
            for a in aliases:
                value = kw.pop(a.param)
                if value is None:
                    continue
                _warn(a.flag, a.new)
                value = a.convert(value)
                current = kw.get(a.target)
                if isinstance(value, list):
                    kw[a.target] = list(current or []) + value
                elif current is None or current == sig.parameters[a.target].default:
                    kw[a.target] = value
            return fn(*args, **kw)

        wrapper.__signature__ = sig
        return wrapper

    return deco


def warn_deprecated(old: str, new: str) -> None:
    """The deprecation line for something other than a flag (the hidden `train native` verb)."""
    _warn(old, new)


# --- small helpers the verbs share ----------------------------------------------------------------------

def specials(values: Optional[List[str]]) -> Optional[List[str]]:
    """--special-token values: None when not given (the recipe's default set), [] for --special-token ''."""
    if values is None or values == []:
        return None
    return [v for v in values if v != ""]


def check_engine(engine: Optional[str]) -> Optional[str]:
    from ..errors import InputError

    if engine is not None and engine not in ENGINES:
        raise InputError(f"--engine {engine!r}: expected one of {', '.join(ENGINES)}")
    return engine


def quiet_of(quiet: bool, as_json: bool) -> bool:
    """Library calls run quiet when the CLI is quiet or prints JSON."""
    return quiet or as_json

# --- extension ------------------------------------------------------------------------------------------

Add = Annotated[int, typer.Option(
    "--add", help="Extension: how many new tokens to learn after the base's merges (their ids follow the "
    "whole base vocabulary).")]


def training_documents(corpus: Optional[List[str]], read: ReadArgs, quiet: bool, *, out: str, overwrite: bool,
               inputs: Sequence[str] = (), required: bool = False):
    """The training documents, once --out is known to be writable and not inside an input (checked before
    any work: a bad --out must not cost a whole training first). required: the verb trains on documents
    only (no --counts / --wordfreq)."""
    from .._atomic import check_out
    from ..corpora import read_documents
    from ..errors import InputError

    if required and not corpus:
        raise InputError("give training text: files, globs or folders")
    check_out(out, inputs=list(corpus or []) + [i for i in inputs if i], force=overwrite)
    return read_documents(corpus, **read.kwargs(), quiet=quiet) if corpus else None
