"""Metrics, premiums, vocabulary sweeps, domain comparisons, plots and the demo.

Submodules load on first use (numpy-only ones are light; plots import matplotlib only when called)."""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "evaluate": "metrics", "Metrics": "metrics", "renyi_entropy": "metrics", "renyi_efficiency": "metrics",
    "unreachable_entries": "metrics", "word_token_counts": "metrics",
    "gini": "inequality", "lorenz": "inequality",
    "premiums": "premium", "PremiumResult": "premium", "count_units": "premium",
    "sweep": "sweeps", "load_sweep": "sweeps", "run_cell": "sweeps", "fit_power_law": "sweeps",
    "solve_size": "sweeps", "register_algorithm": "sweeps", "SweepResult": "sweeps",
    "ResultsStore": "store", "cell_key": "store",
    "compare": "domains", "CompareResult": "domains",
    "plot_premiums": "plots", "plot_script_boxes": "plots", "plot_world": "plots", "plot_lorenz": "plots",
    "plot_sweep": "plots", "plot_compare": "plots",
    "run_demo": "demo",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = sorted(_EXPORTS)
