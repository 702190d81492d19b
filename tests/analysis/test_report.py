import pytest

matplotlib = pytest.importorskip(
    "matplotlib", reason="the plots need the plots extra: pip install "
    "'keras-nas[plots]'")
import matplotlib.figure  # noqa: E402

from keras_nas import NASSearch
from keras_nas.strategies.pareto import pareto_front

from tests.conftest import tabular


def test_pareto_front_keeps_only_undominated_points():
    # (params, accuracy): the trade-off `plot_tradeoff` marks.
    points = [(100, 0.80), (200, 0.90), (300, 0.85), (50, 0.70), (400, 0.95),
              (200, 0.88)]
    assert pareto_front(points, ["min", "max"]) == [0, 1, 3, 4]
    losses = [(100, 0.5), (200, 0.4), (300, 0.45)]
    assert pareto_front(losses, ["min", "min"]) == [0, 1]


def test_plots_return_figures_and_save_pngs(tmp_path):
    x, y = tabular(100)
    search = NASSearch(max_trials=3, seed=0, directory=str(tmp_path))
    search.fit(x, y, epochs=1, verbose=0)
    fig = search.plot_history(tmp_path / "h.png")
    assert isinstance(fig, matplotlib.figure.Figure)
    scatter = fig.axes[0].collections[0]
    assert len(scatter.get_offsets()) == len(
        [r for r in search.results() if r.value is not None])
    fig = search.plot_tradeoff(tmp_path / "t.png")
    assert fig.axes[0].get_xscale() == "log"
    assert (tmp_path / "h.png").stat().st_size > 5000
    assert (tmp_path / "t.png").stat().st_size > 5000
