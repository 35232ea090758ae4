"""Every option that more than one verb takes, defined once (docs/architecture.md, "One vocabulary").

A verb declares a shared option by annotating its parameter with the alias below (`out: Out`), so the flag
name, short name and help text are the same object everywhere; tests/test_cli_contract.py checks it.
Options that go together travel as one object, an option group (`ReadArgs`: the ten corpus reading flags;
`ArtifactArgs`: --out and --overwrite; `TrainingArgs`, `OutputArgs`, ...): a verb takes a parameter
annotated with the group, and `@option_groups` puts the group's flags at that place in the verb's signature
and hands the verb the group object. Old spellings are hidden aliases added by `@deprecated(...)` that print
one line on stderr.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence

import typer
from typing_extensions import Annotated, dataclass_transform


@dataclass_transform(frozen_default=True)
class OptionGroup:
    """Base of the option groups. A subclass is a frozen dataclass whose fields are annotated with the option
    aliases below (a field's default is the flag's default); `@option_groups` expands it into a verb's flags."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclass(frozen=True)(cls)

    @classmethod
    def flags(cls) -> dict[str, tuple[Any, Any]]:
        """Field name -> (Annotated option, default), in declaration order."""
        hints = typing.get_type_hints(cls, include_extras=True)
        return {f.name: (hints[f.name], f.default) for f in dataclasses.fields(cls)}

    def kwargs(self) -> dict[str, Any]:
        """The group as API keywords: by default its fields as they are."""
        return dataclasses.asdict(self)


# --- output and common behaviour ------------------------------------------------------------------------

Out = Annotated[str, typer.Option(
    "--out", "-o", help="Where the result goes, replaced atomically: the artifact folder (tokenizer files and "
    "their tokkit.json card); for count, the .parquet or .tsv table.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines on stdout (no bars, no table).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars and no table.")]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace the folder at --out even if it is not a tokkit artifact (it is replaced whole).")]


class OutputArgs(OptionGroup):
    """How a verb reports: --json (machine output) or --quiet (no bars, no table)."""
    as_json: Json = False
    quiet: Quiet = False

    @property
    def library_quiet(self) -> bool:
        return quiet_of(self.quiet, self.as_json)


class ArtifactArgs(OptionGroup):
    """Where a verb writes its result (--out), and whether it may replace a folder that is not a tokkit
    artifact (--overwrite)."""
    out: Out = ...
    overwrite: Overwrite = False

    def check(self, inputs: Sequence[Optional[str]] = ()) -> str:
        """Check --out before any work (not inside an input, writable): a bad --out must not cost a training
        first."""
        from .._atomic import check_out

        return check_out(self.out, inputs=[i for i in inputs if i], force=self.overwrite)


# --- training -------------------------------------------------------------------------------------------

VocabSize = Annotated[int, typer.Option(
    "--vocab-size", "-v", help="Total vocabulary size: special tokens, the base alphabet and merges.")]
ENGINES = ("native", "hf")
Engine = Annotated[Optional[str], typer.Option(
    "--engine", help="Merge learner: native (tokkit's numba kernels, the default) or hf (Hugging Face "
    "BpeTrainer).")]
Unicode = Annotated[Optional[str], typer.Option(
    "--unicode", help="Native engine's character classes: regex (default; the regex module) or hf (as HF "
    "tokenizers' older Unicode tables: identical merges on any text).")]
PreTokenizer = Annotated[Optional[str], typer.Option(
    "--pre-tokenizer", help="Split applied before counting and training: gpt2 (default), gpt4o, whitespace "
    "or none.")]
MaxTokenWords = Annotated[int, typer.Option(
    "--max-token-words", help="Superword: most words one token may span.")]
MaxWords = Annotated[Optional[int], typer.Option(
    "--max-words", help="Bound memory: keep at most this many distinct words while counting.")]
Resume = Annotated[Optional[str], typer.Option(
    "--resume", help="A tokenizer.json (or its folder) whose merges come first; training continues to "
    "--vocab-size.")]
ExportSize = Annotated[Optional[List[int]], typer.Option(
    "--export-size", help="Also write tokenizer-<V>.json for a smaller V from the same run (repeatable).")]
Transition = Annotated[Optional[int], typer.Option(
    "--transition", help="Superword: vocabulary size where stage 2 (merges across spaces) starts.")]

# what the merge learners share
MinFrequency = Annotated[int, typer.Option(
    "--min-frequency", help="Stop merging when the best pair is seen fewer times.")]
SpecialToken = Annotated[Optional[List[str]], typer.Option(
    "--special-token", help="A special token, at ids 0..n-1 in the order given (repeatable; default: the "
    "recipe's set; --special-token '' for none).")]
AllowSmaller = Annotated[bool, typer.Option(
    "--allow-smaller", help="Accept fewer tokens than --vocab-size when the corpus runs out of pairs.")]
Threads = Annotated[Optional[int], typer.Option("--threads", min=1, help="Counting threads (default: all cores).")]


class TrainingArgs(OptionGroup):
    """What the byte-level recipes' merge learners share (train bpe, superword, parity)."""
    min_frequency: MinFrequency = 2
    special_token: SpecialToken = None
    allow_smaller: AllowSmaller = False
    threads: Threads = None

    def kwargs(self) -> dict[str, Any]:
        return dict(min_frequency=self.min_frequency, special_tokens=specials(self.special_token),
                    allow_smaller=self.allow_smaller, threads=self.threads)


# domain terms
Term = Annotated[Optional[List[str]], typer.Option(
    "--term", help="A domain term made a single token (repeatable).")]
TermsFile = Annotated[Optional[str], typer.Option(
    "--terms-file", help="Domain terms, one per line, each made a single token.")]


class TermsArgs(OptionGroup):
    """Domain terms made single tokens (train bpe, extend): repeatable --term and a --terms-file."""
    term: Term = None
    terms_file: TermsFile = None

    def kwargs(self) -> dict[str, Any]:
        return dict(terms=list(self.term) if self.term else None, terms_file=self.terms_file)


# the recipes' own switches
Pow2 = Annotated[bool, typer.Option("--pow2", help="Round --vocab-size up to a power of two (by real merges).")]
Uncased = Annotated[bool, typer.Option("--uncased", help="Lowercase before training.")]
Normalizer = Annotated[Optional[str], typer.Option("--normalizer", help="none, NFC (default) or NFKC.")]


class RecipeArgs(OptionGroup):
    """The byte-level recipes' vocabulary rounding and text normalization (train bpe, superword)."""
    pow2: Pow2 = False
    uncased: Uncased = False
    normalizer: Normalizer = None


# train bpe's sources besides text
Counts = Annotated[Optional[str], typer.Option(
    "--counts", help="Train from a word-count table (.tsv or .parquet, e.g. from `tokkit count`).")]
Wordfreq = Annotated[Optional[str], typer.Option(
    "--wordfreq", help="Train from the wordfreq counts of this language (shipped, offline).")]
PrefixSpace = Annotated[bool, typer.Option(
    "--prefix-space", help="--counts/--wordfreq: put a space before each word, as in running text.")]


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


class RunnerArgs(OptionGroup):
    """Where a verb's tasks run (tokkit.dist), as the `backend`, `address`, `workers`, `retries` keywords."""
    backend: Backend = "local"
    address: Address = None
    workers: Workers = None
    retries: Retries = 2


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


class ReadArgs(OptionGroup):
    """The corpus reading options of one command line, as `read_documents` keywords."""
    format: Format = None
    per_line: PerLine = False
    text_field: TextField = "text"
    max_documents: MaxDocuments = None
    max_bytes: MaxBytes = None
    sample: Sample = None
    seed: Seed = 0
    split: Split = None
    eval_fraction: EvalFraction = 0.1
    replace_invalid: ReplaceInvalid = False

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


CORPUS_FLAGS = ("--format", "--per-line", "--text-field", "--max-documents", "--max-bytes", "--sample", "--seed",
                "--split", "--eval-fraction", "--replace-invalid")


def _extend(fn: Callable, extra: list[inspect.Parameter]) -> inspect.Signature:
    """fn's signature (annotations evaluated, so typer sees the Annotated options) plus keyword-only extras."""
    sig = inspect.signature(fn, eval_str=True)
    return sig.replace(parameters=list(sig.parameters.values()) + extra)


def option_groups(fn: Callable | None = None, **defaults):
    """Give a verb its option groups: each parameter annotated with an `OptionGroup` class becomes that group's
    flags, at the same place in the signature, and the verb receives the group object. Keyword arguments
    override a flag's default for this verb (compare reads 100 documents per set; parity merges from count 0)."""
    def deco(fn):
        sig = inspect.signature(fn, eval_str=True)
        groups = {p.name: p.annotation for p in sig.parameters.values()
                  if isinstance(p.annotation, type) and issubclass(p.annotation, OptionGroup)}
        unknown = set(defaults) - {f for g in groups.values() for f in g.flags()}
        if unknown:
            raise TypeError(f"{fn.__name__}: no option group has {', '.join(sorted(unknown))}")
        params = []
        for p in sig.parameters.values():
            if p.name not in groups:
                params.append(p)
                continue
            params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                         default=defaults.get(name, default))
                       for name, (annotation, default) in groups[p.name].flags().items()]

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            for name, group in groups.items():
                kw[name] = group(**{flag: kw.pop(flag) for flag in group.flags()})
            return fn(*a, **kw)

        wrapper.__signature__ = sig.replace(parameters=params)
        return wrapper

    return deco(fn) if fn is not None else deco


# the reading verbs' name for it (their one group is `read: ReadArgs`)
corpus_options = option_groups


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


def verb(app: typer.Typer, name: str, *aliases: Alias, **defaults):
    """Declare the verb `name` of app: its option groups (defaults: flag defaults of this verb, as for
    `option_groups`), the old spellings `aliases` as hidden flags, and tokkit's errors as one line, exit 2."""
    from ._common import guarded

    def deco(fn):
        return app.command(name)(guarded(deprecated(*aliases)(option_groups(fn, **defaults))))

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


def training_documents(corpus: Optional[List[str]], read: ReadArgs, artifact: ArtifactArgs, quiet: bool, *,
                       inputs: Sequence[Optional[str]] = (), required: bool = False):
    """The training documents, once --out is known to be writable and not inside an input (checked before
    any work). required: the verb trains on documents only (no --counts / --wordfreq)."""
    from ..corpora import read_documents
    from ..errors import InputError

    if required and not corpus:
        raise InputError("give training text: files, globs or folders")
    artifact.check(list(corpus or []) + list(inputs))
    return read_documents(corpus, **read.kwargs(), quiet=quiet) if corpus else None
