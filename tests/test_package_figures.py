"""The package's figures: the page's views drawn from a Run or a Training with the page's colours
(static/palette.json and the CSS variables of page.css, the same values the page's theme.js
reads in the browser), its words in English and Korean, and the numbers a log axis or a colour
scale cannot show drawn as marks and cells of their own (checked against the run's arrays)."""

import math

import numpy as np
import pytest

import gradient_flow_lab as gfl
from gradient_flow_lab import style
from gradient_flow_lab.app.catalogue import palette_css
from gradient_flow_lab.figures import HORIZON, gate_path

PALETTE = style.palette()
EN, KO = style.messages("en"), style.messages("ko")


@pytest.fixture(scope="module")
def run():
    return gfl.run(include=["hidden", "cell_state", "gates", "grads", "jacobian"])


@pytest.fixture(scope="module")
def exploding():
    return gfl.run(
        models=[{"cell": "rnn", "activation": "relu"}],
        seq_len=400,
        init={"scheme": "orthogonal", "sigma_max": 5.0},
        include=["hidden", "grads"],
    )


@pytest.fixture(scope="module")
def vanishing():
    return gfl.run(
        models=[{"cell": "rnn", "activation": "sigmoid"}, {"cell": "gru"}],
        seq_len=700,
        include=["grads", "gates"],
    )


@pytest.fixture(scope="module")
def training():
    return gfl.train(
        models=[{"cell": "rnn", "activation": "tanh"}, {"cell": "gru"}],
        seq_len=8,
        hidden_size=6,
        batch_size=8,
        steps=40,
        eval_every=20,
        eval_size=50,
        clip=0.05,
        progress=False,
    )


def by_kind(fig, kind):
    return [tr for tr in fig.data if (tr.meta or {}).get("kind") == kind]


def test_the_theme_is_the_palette_file_and_the_page_css():
    css = (style.STATIC / "css" / "page.css").read_text(encoding="utf-8")
    variables = style.css_variables(css)
    for scheme in style.SCHEMES:
        th = style.theme(scheme)
        assert th.models == PALETTE["models"][scheme] and list(th.yours) == PALETTE["yours"][scheme]
        assert (th.surface, th.text, th.overflow) == tuple(
            variables[scheme][k] for k in ("surface", "text", "overflow")
        )
        assert th.diverging[0][1] == PALETTE["diverging"][scheme][0]
    assert style.theme("light").surface != style.theme("dark").surface
    # the page's swatches (CSS variables written into its head from the palette file) show the
    # models in the palette's colours
    variables = style.css_variables(str(palette_css()))
    names = {
        "rnn-sigmoid": "c-sigmoid",
        "rnn-tanh": "c-tanh",
        "rnn-relu": "c-relu",
        "rnn-linear": "c-linear",
        "lstm": "c-lstm",
        "gru": "c-gru",
    }
    for scheme in style.SCHEMES:
        assert {k: variables[scheme][v].lower() for k, v in names.items()} == {
            k: c.lower() for k, c in PALETTE["models"][scheme].items()
        }


def test_css_variables_reads_light_and_dark_blocks():
    css = (
        ":root {\n /* --a: #000; a note; */ --a: #111; --b: x\n   y;\n}\n.c { --a: #999; }\n"
        "@media (prefers-color-scheme: dark) {\n  :root { --a: #222; }\n}"
    )
    assert style.css_variables(css) == {"light": {"a": "#111", "b": "x y"}, "dark": {"a": "#222", "b": "x y"}}


def test_gradient_flow_lines_bound_and_horizon_are_the_run_numbers(run):
    fig = run.figure("gradient_flow")
    lines = by_kind(fig, "line")
    assert [tr.name for tr in lines] == [m.label for m in run.models]
    for tr, m in zip(lines, run.models, strict=True):
        assert tr.line.color == PALETTE["models"]["light"][m.key]
        np.testing.assert_allclose(np.array(tr.y, dtype=float), m.grad_norm)
    bounds = by_kind(fig, "bound")
    assert [tr.meta["model"] for tr in bounds] == ["rnn-sigmoid", "rnn-tanh"]  # the RNNs, loss at T
    for tr, m in zip(bounds, run.models[:2], strict=True):
        expected = m.bound * m.grad_norm[-1]
        np.testing.assert_allclose(np.array(tr.y, dtype=float), np.where(expected > 0, expected, np.nan))
    for tr, m in zip(by_kind(fig, "horizon"), run.models, strict=True):
        assert list(tr.y) == [HORIZON * m.grad_norm[-1]] * 2
    assert fig.layout.yaxis.type == "log" and fig.layout.title.text == EN["explore.flow"]
    assert fig.layout.paper_bgcolor == style.theme("light").surface
    assert not by_kind(fig, "marks")[0].x  # nothing to mark in a healthy run


def test_the_bound_is_left_out_when_the_loss_is_at_every_step():
    r = gfl.run(models=[{"cell": "rnn", "activation": "tanh"}], seq_len=10, loss={"at": "all"}, include=[])
    assert not by_kind(r.figure("gradient_flow"), "bound")
    assert by_kind(gfl.run(models=[{"cell": "rnn"}], seq_len=10).figure("jacobian"), "bound")


def test_overflow_and_underflow_are_markers_at_the_axis_edges_not_gaps(exploding, vanishing):
    for r, symbol, side in ((exploding, "x-thin-open", "top"), (vanishing, "triangle-down-open", "bottom")):
        fig = r.figure("gradient_flow")
        g = r.models[0].grad_norm
        unmarkable = [t + 1 for t, v in enumerate(g) if not math.isfinite(v) or v == 0]
        assert unmarkable, "the run must have values a log axis cannot draw"
        marks = by_kind(fig, "marks")[0]
        assert list(marks.x) == unmarkable
        assert set(marks.marker.symbol) == {symbol}
        assert all((y > 0.9) if side == "top" else (y < 0.1) for y in marks.y)
        assert (
            marks.yaxis == "y2" and fig.layout.yaxis2.range == (0, 1) and fig.layout.yaxis2.visible is False
        )
        line = by_kind(fig, "line")[0]
        assert all(line.y[t - 1] is None for t in unmarkable)  # the line breaks, the mark shows


def test_heatmaps_have_a_cell_colour_for_what_the_scale_cannot_show(exploding, vanishing, run):
    fig = exploding.figure("gradients")
    special = by_kind(fig, "special")
    g = exploding.models[0].grads
    assert special and np.sum(np.array(special[0].z, dtype=float) == 1) == np.sum(~np.isfinite(g)) > 0
    assert special[0].colorscale[-1][1] == style.theme("light").overflow
    grads = vanishing.figure("gradients")
    values = by_kind(grads, "values")
    assert len({(tr.zmin, tr.zmax) for tr in values}) == 1  # one scale for every model
    zeros = np.sum(vanishing.models[0].grads == 0)
    assert zeros and np.sum(np.array(by_kind(grads, "special")[0].z, dtype=float) == 0) == zeros
    rows = [tr.meta["field"] for tr in by_kind(run.figure("hidden"), "values")]
    assert rows == ["hidden", "hidden", "hidden", "cell_state"]


def test_gates_and_the_forget_gate_product(run, vanishing):
    fig = run.figure("gates")
    lstm = run.models[2]
    assert [tr.meta["gate"] for tr in by_kind(fig, "gate")] == list(lstm.gates)
    forget = by_kind(fig, "gate")[1]
    assert forget.line.color == PALETTE["gates"]["forget"]["colour"]
    np.testing.assert_allclose(np.array(forget.y, dtype=float), lstm.gates["forget"].mean(axis=1))
    path = by_kind(fig, "path")[0]
    f = lstm.gates["forget"]
    expected = [np.prod(f[t:], axis=0).mean() for t in range(1, run.T)] + [1.0]  # Π_{k=t+1..T} f_k
    np.testing.assert_allclose(np.array(path.y, dtype=float), expected, rtol=1e-12)
    gru_path = gate_path(vanishing.models[1].gates["update"])
    assert gru_path[-1] == 1.0 and np.all(np.diff(gru_path) >= 0)


def test_layers_has_a_row_per_unit_top_layer_first():
    r = gfl.run(models=[{"cell": "gru", "num_layers": 2, "bidirectional": True}], seq_len=10, include=[])
    fig = r.figure("layers")
    rows = by_kind(fig, "depth")[0].meta["rows"]
    assert [(x["layer"], x["direction"]) for x in rows] == [
        (2, "forward"),
        (2, "backward"),
        (1, "forward"),
        (1, "backward"),
    ]
    lines = by_kind(fig, "depth-line")
    assert [tr.line.color for tr in lines] == [PALETTE["layers"]["colours"][1]] * 2 + [
        PALETTE["layers"]["colours"][0]
    ] * 2
    np.testing.assert_allclose(np.array(lines[3].y, dtype=float), r.models[0].unit(1, "backward").grad_norm)


def test_words_follow_the_language_and_colours_the_theme(run):
    fig = run.figure("gradient_flow", lang="ko", theme="dark")
    dark = style.theme("dark")
    assert fig.layout.title.text == KO["explore.flow"] and fig.layout.xaxis.title.text == KO["explore.axis.t"]
    assert fig.layout.paper_bgcolor == dark.surface and fig.layout.font.color == dark.text
    assert [tr.line.color for tr in by_kind(fig, "line")] == [
        PALETTE["models"]["dark"][m.key] for m in run.models
    ]
    assert by_kind(fig, "bound")[0].name == KO["explore.flow.trace.bound"].replace("{label}", "RNN (sigmoid)")
    gates = run.figure("gates", lang="ko")
    assert {tr.name for tr in by_kind(gates, "gate")} == {
        KO[f"explore.gate.{g}"] for g in run.models[2].gates
    }


def test_training_loss_and_flow(training):
    loss = training.figure("loss")
    for tr, m in zip(by_kind(loss, "loss"), training.models, strict=True):
        assert tr.line.color == PALETTE["models"]["light"][m.key]
        np.testing.assert_array_equal(np.array(tr.y, dtype=float), m.loss)
    assert by_kind(loss, "baseline")[0].y == (training.baseline, training.baseline)
    clipped = by_kind(loss, "clipped")
    assert (
        list(clipped[0].x)
        == training.models[0]
        .step[training.models[0].clipped | (training.models[0].clipped_fraction > 0)]
        .tolist()
    )
    assert loss.layout.title.text == EN["train.loss.heading"]
    flow = training.figure("flow", lang="ko")
    maps = by_kind(flow, "flow-map")
    assert len(maps) == 2 and len({(tr.zmin, tr.zmax) for tr in maps}) == 1
    np.testing.assert_allclose(np.array(maps[1].z, dtype=float), np.log10(training.models[1].grad_norm).T)
    assert flow.layout.title.text == KO["train.flow.heading"]


def test_a_view_that_does_not_exist_or_was_not_asked_for_is_said_in_words(run):
    with pytest.raises(ValueError, match="view must be one of"):
        run.figure("nothing")
    plain = gfl.run(seq_len=5, include=[])
    with pytest.raises(ValueError, match=r"include=.*'hidden'"):
        plain.figure("hidden")
    with pytest.raises(ValueError, match="lang must be one of"):
        run.figure(lang="fr")
    with pytest.raises(ValueError, match="theme must be one of"):
        run.figure(theme="blue")


# --- in the browser: the page reads the same colours; the figures, seen ----------------------


@pytest.mark.browser
def test_the_page_theme_is_the_python_theme(context, live_server):
    from browser_helpers import offline_page

    page, _ = offline_page(context)
    page.goto(live_server.url + "/")
    for scheme in style.SCHEMES:
        page.emulate_media(color_scheme=scheme)
        got = page.evaluate("async () => (await import('/static/js/theme.js')).readTheme()")
        th = style.theme(scheme)
        assert got["dark"] == (scheme == "dark")
        for js, py in (
            ("text", "text"),
            ("muted", "muted"),
            ("surface", "surface"),
            ("grid", "grid"),
            ("axis", "axis"),
            ("hoverBg", "hover_bg"),
            ("overflow", "overflow"),
            ("underflow", "underflow"),
        ):
            assert got[js].lower() == getattr(th, py).lower(), (scheme, js)
        assert got["models"] == th.models and got["layers"] == list(th.layers)
        assert got["diverging"] == [list(s) for s in th.diverging]
    page.close()


@pytest.mark.browser
def test_screenshots_of_the_figures(context, run, exploding, vanishing, training, artifacts, tmp_path):
    """Each figure rendered by plotly.js (the plotly package's own copy) in Chromium, in English and
    Korean, light and dark, at a desktop's width and a phone's: one page per width."""
    from plotly.offline import get_plotlyjs

    screens = {
        (1280, 800): {
            "flow-vanishing-en-light": vanishing.figure("gradient_flow"),
            "flow-exploding-ko-dark": exploding.figure("gradient_flow", lang="ko", theme="dark"),
            "gates-ko-light": run.figure("gates", lang="ko"),
        },
        (390, 844): {"training-loss-ko-dark": training.figure("loss", lang="ko", theme="dark")},
    }
    (tmp_path / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    for (width, height), figures in screens.items():
        html = {
            name: fig.to_html(include_plotlyjs=False, full_html=False, config={"responsive": True})
            for name, fig in figures.items()
        }
        divs = "".join(f'<div id="{name}">{h}</div>' for name, h in html.items())
        path = tmp_path / f"figures-{width}.html"
        path.write_text(
            f'<!doctype html><meta charset="utf-8"><script src="plotly.min.js"></script>'
            f'<body style="margin:0">{divs}</body>',
            encoding="utf-8",
        )
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        errors = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function(f"document.querySelectorAll('.main-svg').length >= {2 * len(figures)}")
        for name in figures:
            page.locator(f"#{name}").screenshot(path=str(artifacts / f"package-{name}.png"))
        page.close()
        assert not errors, (width, errors)
