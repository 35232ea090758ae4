"""Figures (matplotlib, Agg): premiums with CI bars, premium against vocabulary size with fitted curves,
per-script box plots, a lon/lat scatter of premiums, the Lorenz curve with its Gini. Each function writes
the figure atomically to every path given (the format follows the suffix: .png, .svg, .pdf)."""

from __future__ import annotations

import math
import os
from typing import Sequence

from .._atomic import atomic_path
from .._extras import require
from ..errors import InputError


def _plt():
    matplotlib = require("matplotlib", "plot", purpose="for plots")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, paths: str | Sequence[str]) -> list[str]:
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out = []
    for p in paths:
        p = os.fspath(p)
        ext = os.path.splitext(p)[1].lower().lstrip(".")
        if ext not in ("png", "svg", "pdf"):
            raise InputError(f"{p}: a figure must end in .png, .svg or .pdf")
        with atomic_path(p) as tmp:
            fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight")
        out.append(p)
    fig.clf()
    _plt().close(fig)
    return out


def _ok(rows):
    return [r for r in rows if not r.get("masked") and r.get("premium") is not None and math.isfinite(r["premium"])]


def plot_premiums(result, paths, *, top: int | None = None, log: bool = True) -> list[str]:
    """Premiums sorted per language, one panel per tokenizer, with bootstrap CI bars.

    Args:
        result: a `PremiumResult`.
        paths: the image file(s) to write (.png, .svg, .pdf).
        top: only the top N languages; None: all.
        log: a log-scaled premium axis.

    Returns:
        The paths written.
    """
    plt = _plt()
    names = [s["tokenizer"] for s in result.summary]
    fig, axes = plt.subplots(len(names), 1, figsize=(max(8, min(22, 0.04 * len(result.rows) / len(names) + 6)),
                                                       3.2 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        rows = sorted(_ok(result.for_tokenizer(name)), key=lambda r: r["premium"])
        if top:
            rows = rows[-top:]
        x = range(len(rows))
        y = [r["premium"] for r in rows]
        # no interval (None: one unit or document per language, or bootstrap=0): no error bar
        lo = [max(0.0, r["premium"] - r["ci_low"]) if r["ci_low"] is not None else 0 for r in rows]
        hi = [max(0.0, r["ci_high"] - r["premium"]) if r["ci_high"] is not None else 0 for r in rows]
        ax.bar(x, y, color="#4C72B0", width=0.85)
        ax.errorbar(x, y, yerr=[lo, hi], fmt="none", ecolor="#333", elinewidth=0.6, capsize=0)
        ax.axhline(1.0, color="#C44E52", lw=0.8)
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(f"token premium vs {result.reference}")
        ax.set_title(f"{name}: {len(rows)} languages of {result.corpus}")
        if len(rows) <= 80:
            ax.set_xticks(list(x))
            ax.set_xticklabels([r["language"] for r in rows], rotation=90, fontsize=6)
        else:
            ax.set_xticks([])
            ax.set_xlabel("languages, sorted by premium")
    fig.tight_layout()
    return _save(fig, paths)


def plot_script_boxes(result, paths) -> list[str]:
    """Box plots of premiums per script, one panel per tokenizer, scripts with 2+ languages.

    Args:
        result: a `PremiumResult`.
        paths: the image file(s) to write.

    Returns:
        The paths written.
    """
    plt = _plt()
    names = [s["tokenizer"] for s in result.summary]
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        groups: dict[str, list[float]] = {}
        for r in _ok(result.for_tokenizer(name)):
            groups.setdefault(r["script"] or "?", []).append(r["premium"])
        groups = {k: v for k, v in groups.items() if len(v) >= 2}
        order = sorted(groups, key=lambda k: sorted(groups[k])[len(groups[k]) // 2])
        ax.boxplot([groups[k] for k in order])
        ax.set_xticks(range(1, len(order) + 1))
        ax.set_xticklabels([f"{k} ({len(groups[k])})" for k in order], rotation=90, fontsize=7)
        ax.set_yscale("log")
        ax.set_title(name)
        ax.set_ylabel(f"token premium vs {result.reference}")
    fig.tight_layout()
    return _save(fig, paths)


def plot_world(result, paths, *, tokenizer: str | None = None) -> list[str]:
    """Premiums at each language's coordinates (plain longitude/latitude axes, colour = log premium).

    Args:
        result: a `PremiumResult`.
        paths: the image file(s) to write.
        tokenizer: the tokenizer shown; None: the first.

    Returns:
        The paths written.
    """
    import numpy as np

    plt = _plt()
    name = tokenizer or result.summary[0]["tokenizer"]
    rows = [r for r in _ok(result.for_tokenizer(name))
            if r.get("latitude") is not None and r.get("longitude") is not None]
    if not rows:
        raise InputError(f"{result.corpus}: no coordinates for a map (UDHR carries them; other corpora do not)")
    fig, ax = plt.subplots(figsize=(11, 5.5))
    sc = ax.scatter([r["longitude"] for r in rows], [r["latitude"] for r in rows],
                    c=np.log2([r["premium"] for r in rows]), cmap="viridis", s=14, edgecolors="none")
    cb = fig.colorbar(sc, ax=ax)
    cb.set_label(f"log2 token premium vs {result.reference}")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{name}: token premiums of {len(rows)} languages ({result.corpus})")
    ax.grid(alpha=0.3)
    return _save(fig, paths)


def plot_lorenz(result, paths) -> list[str]:
    """Lorenz curves of token counts over languages, one per tokenizer, with the Gini in the legend.

    Args:
        result: a `PremiumResult`.
        paths: the image file(s) to write.

    Returns:
        The paths written.
    """
    from .inequality import gini, lorenz

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    for s in result.summary:
        vals = [r["premium"] for r in _ok(result.for_tokenizer(s["tokenizer"]))]
        if not vals:
            continue
        x, y = lorenz(vals)
        ax.plot(x, y, label=f"{s['tokenizer']} (Gini {gini(vals):.3f})")
    ax.plot([0, 1], [0, 1], color="#999", lw=0.8, ls="--", label="equality")
    ax.set_xlabel("share of languages (cheapest first)")
    ax.set_ylabel("share of total tokens")
    ax.legend(fontsize=8)
    ax.set_title(f"Lorenz curve of premiums ({result.corpus})")
    return _save(fig, paths)


def plot_sweep(result, paths) -> list[str]:
    """Premium (CTC over the reference's CTC at the same size) against vocabulary size, with the fitted power laws.

    The fitted curves are a * V^b divided by the reference's fit.

    Args:
        result: a `SweepResult`.
        paths: the image file(s) to write.

    Returns:
        The paths written.
    """
    import numpy as np

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    fits = {f["language"]: f for f in result.fits}
    ref = fits[result.reference]
    sizes = sorted({c["vocab_size"] for c in result.cells})
    grid = np.geomspace(sizes[0], sizes[-1], 64)
    for k, (lang, f) in enumerate(fits.items()):
        cs = sorted((c for c in result.cells if c["language"] == lang), key=lambda c: c["vocab_size"])
        color = f"C{k % 10}"
        axes[0].plot([c["vocab_size"] for c in cs], [c["ctc"] for c in cs], "o", color=color, ms=4)
        axes[0].plot(grid, f["a"] * grid ** f["b"], "-", color=color, lw=1, label=f"{lang} (b={f['b']:.2f})")
        axes[1].plot([c["vocab_size"] for c in cs], [c["premium"] for c in cs], "o", color=color, ms=4)
        axes[1].plot(grid, (f["a"] * grid ** f["b"]) / (ref["a"] * grid ** ref["b"]), "-", color=color, lw=1,
                     label=lang)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("vocabulary size")
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("corpus token count")
    axes[0].axhline(ref["target_ctc"], color="#999", ls="--", lw=0.8)
    axes[1].set_ylabel(f"premium vs {result.reference} at the same size")
    axes[0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _save(fig, paths)


def plot_compare(table, paths) -> list[str]:
    """Grouped bars of tokens per character: document sets on x, one bar per tokenizer.

    Args:
        table: a `CompareResult`.
        paths: the image file(s) to write.

    Returns:
        The paths written.
    """
    import numpy as np

    plt = _plt()
    sets = table.sets
    names = table.tokenizers
    # about a quarter inch per bar, within a page's width: 13 sets x 5 tokenizers was 39 inches wide
    fig, ax = plt.subplots(figsize=(min(18.0, max(6.0, 0.22 * len(sets) * max(1, len(names)) + 2)), 4.5))
    w = 0.8 / max(1, len(names))
    for k, n in enumerate(names):
        ax.bar(np.arange(len(sets)) + k * w, [table.value(n, s) for s in sets], width=w, label=n)
    ax.set_xticks(np.arange(len(sets)) + 0.4 - w / 2)
    ax.set_xticklabels(sets, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("tokens per character (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, paths)
