"""plot_compare keeps a readable size however many document sets and tokenizers it shows."""

import pytest

from tokkit.analysis.domains import CompareResult


def table(n_sets, n_toks):
    sets = [f"set{i}" for i in range(n_sets)]
    names = [f"tok{j}" for j in range(n_toks)]
    rows = [dict(tokenizer=n, set=s, tokens_per_character=0.2 + 0.01 * j) for j, n in enumerate(names) for s in sets]
    return CompareResult(names, sets, names[0], rows)


@pytest.mark.slow
@pytest.mark.parametrize("n_sets,n_toks", [(1, 1), (3, 2), (13, 5), (40, 8)])
def test_compare_figure_width_is_bounded(tmp_path, n_sets, n_toks):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    from tokkit.analysis import plot_compare

    out = tmp_path / "c.png"
    plot_compare(table(n_sets, n_toks), out)
    h, w = imread(out).shape[:2]
    # saved at 150 dpi with a tight box: at most about 18 inches wide, never narrower than it is tall
    assert w <= 18 * 150 + 50
    assert w >= h
