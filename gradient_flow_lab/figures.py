"""The page's views as plotly Figures, for a `Run` or a `Training` in a notebook or a script.

Each view is drawn as the page's module of the same name draws it once a run has ended
(static/js/views/flow.js, heatmap.js, gates.js, layers.js, train-loss.js, train-flow.js): the
same colours (`gradient_flow_lab.style`: static/palette.json and the page's CSS variables), the
same words (static/i18n/<lang>.json) and the same treatment of the numbers a log axis or a colour
scale cannot show:

- on a log axis, a value that is not finite (null in the API, NaN here) is a ✕ at the top of the
  plot and an exact 0 (underflow) a ▽ at its bottom — markers on a hidden [0, 1] axis, so they
  never move the autorange — instead of a gap; the line itself breaks there;
- in a heatmap they are cells of their own colour (the page's --overflow and --underflow), on
  top of the colour scale.

Every trace carries its identity in `meta` ({"kind": …, "model": …}), as on the page.
"""

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gradient_flow_lab.style import Theme, theme, translator

HORIZON = 1e-3  # the memory horizon's level, relative to ‖∂L/∂h_T‖
LOG_CLIP = {"clipmin": 1e-320, "clipmax": 1e305}  # a padded log autorange stays inside float64
PATH_GATE = {"lstm": "forget", "gru": "update"}  # the gate that keeps the gradient along the cell's path
LAYER_DASH = ("solid", "dot", "dashdot", "longdash")  # by depth below the top (several models)


def _views(kind: str) -> dict:
    if kind == "run":
        return {
            "gradient_flow": flow,
            "jacobian": jacobian,
            "hidden": hidden,
            "gradients": gradients,
            "gates": gates,
            "layers": layers,
        }
    return {"loss": training_loss, "flow": training_flow}


def run_figure(run, view: str, *, lang: str = "en", theme: str = "light") -> go.Figure:
    views = _views("run")
    if view not in views:
        raise ValueError(f"view must be one of {list(views)}, not {view!r}")
    return views[view](run, Words(lang), _theme(theme))


def training_figure(training, view: str, *, lang: str = "en", theme: str = "light") -> go.Figure:
    views = _views("train")
    if view not in views:
        raise ValueError(f"view must be one of {list(views)}, not {view!r}")
    return views[view](training, Words(lang), _theme(theme))


def _theme(name: str) -> Theme:
    return theme(name)


class Words:
    """The page's words in one language, and a model's name in it."""

    def __init__(self, lang: str):
        self.lang = lang
        self.t = translator(lang)

    def __call__(self, key: str, **values) -> str:
        return self.t(key, **values)

    def model(self, m) -> str:
        """A run's model as the page names it: the catalogue's label; an uploaded network's id;
        "2 layers · bidirectional" for a stacked or bidirectional one."""
        from gradient_flow_lab.core.catalogue import MODELS

        parts = [MODELS[m.key].label if m.key in MODELS else m.cell.upper()]
        if getattr(m, "weights", None):
            parts.append(self("networks.unnamed", id=m.weights.removeprefix("sha256:")[:7]))
        if getattr(m, "num_layers", 1) > 1:
            parts.append(self("networks.layers", n=m.num_layers))
        if getattr(m, "bidirectional", False):
            parts.append(self("networks.bidirectional"))
        return " · ".join(parts)

    def unit(self, m, layer: int, direction: str, short: bool = False) -> str:
        key = f"networks.unit.{'short.' if short else ''}{direction}"
        return self(key, layer=layer, n=m.num_layers)


def fmt(x: float | None, digits: int = 3) -> str:
    """A number as the page writes it (static/js/format.js fmt)."""
    if x is None:
        return "—"
    if not math.isfinite(x):
        return "not finite"
    if x == 0:
        return "0"
    a = abs(x)
    if 1e-3 <= a < 1e5:
        return f"{float(f'{x:.{digits}g}'):g}"
    e = math.floor(math.log10(a))
    sup = str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{float(f'{x / 10**e:.{digits}g}'):g} × 10{sup}"


# --- styling shared by every figure (static/js/plot-style.js) --------------------------------


def axis(th: Theme, **extra) -> dict:
    title = {"font": {"color": th.muted, "size": 12}, "standoff": 8, **extra.pop("title", {})}
    return {
        "gridcolor": th.grid,
        "zerolinecolor": th.grid,
        "linecolor": th.axis,
        "tickcolor": th.axis,
        "showline": True,
        "ticks": "outside",
        "ticklen": 4,
        "tickfont": {"color": th.muted, "size": 11},
        **extra,
        "title": title,
    }


def heat_axis(th: Theme, **extra) -> dict:
    """An axis of a heatmap (units, layers or steps against time): no grid, no zero line."""
    return axis(th, showgrid=False, zeroline=False, **extra)


def base_layout(th: Theme, title: str, **extra) -> dict:
    return {
        "paper_bgcolor": th.surface,
        "plot_bgcolor": th.surface,
        "font": {"family": th.font, "size": 12, "color": th.text},
        "margin": {"l": 70, "r": 24, "t": 56, "b": 50},
        "title": {
            "text": title,
            "x": 0,
            "xanchor": "left",
            "xref": "paper",
            "y": 0.98,
            "yanchor": "top",
            "font": {"size": 15, "color": th.text},
        },
        "hoverlabel": {"bgcolor": th.hover_bg, "bordercolor": th.axis, "font": {"color": th.text}},
        # at the foot of the figure, however many lines it takes on a narrow screen (the margin
        # grows to hold it), so that it never runs into the title
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 0,
            "xanchor": "left",
            "yanchor": "bottom",
            "yref": "container",
            "bgcolor": "rgba(0,0,0,0)",
            "font": {"color": th.text, "size": 12},
        },
        "showlegend": True,
        "hovermode": "closest",
        **extra,
    }


def _hover(text: str) -> str:
    return f"{text}<extra></extra>"


def _drawable(values: np.ndarray) -> list:
    """A positive finite value, else None (a gap in the line)."""
    return [float(v) if math.isfinite(v) and v > 0 else None for v in values]


def _colour(th: Theme, run, i: int) -> str:
    """A run's model colour: the catalogue's, or for the k-th model from weights one of its own."""
    m = run.models[i]
    if m.weights is None:
        return th.model_colour(m.key)
    yours = sum(1 for other in run.models[:i] if other.weights is not None)
    return th.model_colour(m.key, yours)


def _need(run, m, field: str, include: str):
    value = getattr(m, field)
    if value is None or (isinstance(value, dict) and not value and m.cell != "rnn"):
        raise ValueError(
            f"this run has no {field!r}: run it with include=[…, {include!r}] "
            f"(it has {run.config['include']})"
        )
    return value


# --- gradient flow (static/js/views/flow.js) -------------------------------------------------


def flow(run, w: Words, th: Theme, mode: str = "grad") -> go.Figure:
    """‖∂L/∂h_t‖ (mode "grad") or ‖∂s_T/∂s_t‖₂ ("jac") against t on a log axis, per model; for
    each RNN the bound (γσ_max)^(T−t) dashed (scaled by ‖∂L/∂h_T‖ for the loss gradient, when the
    loss is at the last step only), for each model the horizon 10⁻³·‖∂L/∂h_T‖ dotted."""
    T = run.T
    xs = list(range(1, T + 1))
    what = "‖∂L/∂h_t‖" if mode == "grad" else "‖∂s_T/∂s_t‖"
    traces, marks = [], []
    size = 9 if T <= 100 else 7 if T <= 400 else 6
    for i, m in enumerate(run.models):
        label = w.model(m)
        values = m.grad_norm if mode == "grad" else _need(run, m, "jacobian_norm", "jacobian")
        colour = _colour(th, run, i)
        group = f"m{i}"
        traces.append(
            go.Scatter(
                x=xs,
                y=_drawable(values),
                mode="lines",
                name=label,
                legendgroup=group,
                connectgaps=False,
                line={"color": colour, "width": 2.4},
                meta={"kind": "line", "model": m.key},
                hovertemplate=_hover(f"{label}<br>t = %{{x}}<br>{what} = %{{y:.3e}}"),
            )
        )
        gT = float(m.grad_norm[-1])
        if m.cell == "rnn" and m.bound is not None and (mode == "jac" or run.config["loss"]["at"] == "last"):
            scale = gT if mode == "grad" else 1.0
            with np.errstate(all="ignore"):
                bound = m.bound * scale
            scaled = "‖∂L/∂h_T‖·" if mode == "grad" else ""
            traces.append(
                go.Scatter(
                    x=xs,
                    y=_drawable(bound),
                    mode="lines",
                    name=w("explore.flow.trace.bound", label=label),
                    legendgroup=group,
                    showlegend=False,
                    connectgaps=False,
                    opacity=0.9,
                    line={"color": colour, "width": 1.5, "dash": "dash"},
                    meta={"kind": "bound", "model": m.key},
                    hovertemplate=_hover(
                        f"{w('explore.flow.hover.bound', label=label, scaled=scaled)}"
                        "<br>t = %{x}<br>%{y:.3e}"
                    ),
                )
            )
        if mode == "grad" and math.isfinite(gT) and gT > 0:
            traces.append(
                go.Scatter(
                    x=[1, T],
                    y=[HORIZON * gT] * 2,
                    mode="lines",
                    name=w("explore.flow.trace.horizon", label=label),
                    legendgroup=group,
                    showlegend=False,
                    opacity=0.8,
                    line={"color": colour, "width": 1, "dash": "dot"},
                    meta={"kind": "horizon", "model": m.key},
                    hovertemplate=_hover(f"{label}: 10⁻³ × ‖∂L/∂h_T‖ = %{{y:.2e}}"),
                )
            )
        # what a log axis cannot draw: ✕ overflow at the top, ▽ underflow to 0 at the bottom
        for k, v in enumerate(values):
            if not math.isfinite(v):
                marks.append(
                    (
                        k + 1,
                        0.975 - 0.022 * i,
                        colour,
                        "x-thin-open",
                        m.key,
                        f"{label}<br>{w('explore.flow.mark.overflow', t=k + 1)}",
                    )
                )
            elif v == 0:
                marks.append(
                    (
                        k + 1,
                        0.025 + 0.022 * i,
                        colour,
                        "triangle-down-open",
                        m.key,
                        f"{label}<br>{w('explore.flow.mark.underflow', t=k + 1)}",
                    )
                )
    traces.append(
        go.Scatter(
            x=[mk[0] for mk in marks],
            y=[mk[1] for mk in marks],
            yaxis="y2",
            mode="markers",
            cliponaxis=False,
            name=w("explore.flow.trace.marks"),
            showlegend=False,
            text=[mk[5] for mk in marks],
            customdata=[{"t": mk[0], "model": mk[4]} for mk in marks],
            hovertemplate=_hover("%{text}"),
            marker={
                "color": [mk[2] for mk in marks],
                "symbol": [mk[3] for mk in marks],
                "size": size,
                "line": {"width": 1.8, "color": [mk[2] for mk in marks]},
            },
            meta={"kind": "marks"},
        )
    )
    if mode == "jac":
        traces.append(
            go.Scatter(
                x=[1, T],
                y=[HORIZON, HORIZON],
                mode="lines",
                name=w("explore.flow.trace.horizon_jac"),
                showlegend=False,
                line={"color": th.muted, "width": 1, "dash": "dot"},
                hoverinfo="skip",
                meta={"kind": "horizon"},
            )
        )
    pad = max(0.6, T * 0.012)
    layout = base_layout(
        th,
        w("explore.flow") if mode == "grad" else w("explore.flow.y.jac").split("   ")[0],
        xaxis=axis(th, range=[1 - pad, T + pad], zeroline=False, title={"text": w("explore.axis.t")}),
        yaxis=axis(
            th,
            type="log",
            autorange=True,
            exponentformat="power",
            zeroline=False,
            autorangeoptions=LOG_CLIP,
            title={"text": w("explore.flow.y.grad" if mode == "grad" else "explore.flow.y.jac")},
        ),
        yaxis2={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
    )
    return go.Figure(traces, layout)


def jacobian(run, w: Words, th: Theme) -> go.Figure:
    return flow(run, w, th, mode="jac")


# --- heatmaps of units × time (static/js/views/heatmap.js) -----------------------------------


def _rows_figure(n: int, titles: list[str], th: Theme, title: str, row_px: int, foot_px: int = 60):
    fig = make_subplots(
        rows=n, cols=1, shared_xaxes=True, vertical_spacing=min(0.3 / max(n, 1), 0.12), subplot_titles=titles
    )
    for a in fig.layout.annotations:  # the rows' titles, left-aligned as the page's labels
        a.update(x=0, xanchor="left", font={"size": 12, "color": th.text})
    fig.update_layout(base_layout(th, title, height=90 + n * row_px + foot_px, showlegend=False))
    return fig


def _colorbar(fig, row: int, th: Theme, **extra) -> dict:
    name = "yaxis" if row == 1 else f"yaxis{row}"
    lo, hi = fig.layout[name].domain
    return {
        "thickness": 10,
        "len": hi - lo,
        "y": (lo + hi) / 2,
        "yanchor": "middle",
        "x": 1.01,
        "xanchor": "left",
        "outlinewidth": 0,
        "nticks": 4,
        "tickfont": {"size": 10, "color": th.muted},
        **extra,
    }


def _special_trace(codes: np.ndarray, xs, th: Theme, words: list[str], meta: dict, hover: str):
    """Cells a colour scale cannot show, in their own colours: code 0 underflow, 1 overflow."""
    text = [[words[int(c)] if not math.isnan(c) else "" for c in row] for row in codes]
    return go.Heatmap(
        x=xs,
        y=list(range(1, codes.shape[0] + 1)),
        z=np.where(np.isnan(codes), None, codes).tolist(),
        text=text,
        hoverongaps=False,
        zmin=0,
        zmax=1,
        showscale=False,
        colorscale=[[0, th.underflow], [0.5, th.underflow], [0.5, th.overflow], [1, th.overflow]],
        hovertemplate=_hover(f"{hover}<br>%{{text}}"),
        meta=meta,
    )


def _heat_rows(run, w: Words, th: Theme, kind: str) -> go.Figure:
    from gradient_flow_lab.core.catalogue import MODELS

    T = run.T
    xs = list(range(1, T + 1))
    rows = []  # (model index, field, label, values [T, H])
    for i, m in enumerate(run.models):
        label = w.model(m)
        if kind == "hidden":
            rows.append((i, "hidden", f"{label} · h<sub>t</sub>", _need(run, m, "hidden", "hidden")))
            if m.cell == "lstm" and m.cell_state is not None:
                cell = (
                    w("explore.heat.cell")
                    if label == MODELS["lstm"].label
                    else w("explore.heat.cell.of", label=label)
                )
                rows.append((i, "cell_state", cell, m.cell_state))
        else:
            rows.append((i, "grads", f"{label} · ∂L/∂h<sub>t</sub>", _need(run, m, "grads", "grads")))
    words = [w("explore.heat.underflow"), w("explore.heat.overflow")]
    hover = w("explore.heat.hover")
    fig = _rows_figure(
        len(rows),
        [r[2] for r in rows],
        th,
        w("explore.hidden" if kind == "hidden" else "explore.grads"),
        row_px=max(70, min(130, 4 * max(r[3].shape[1] for r in rows))),
    )
    if kind == "grads":  # one colour range for every row, so that models compare
        with np.errstate(all="ignore"):
            logs = [np.log10(np.abs(r[3])) for r in rows]
        finite = np.concatenate([v[np.isfinite(v)] for v in logs]) if logs else np.array([])
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1
    for n, (i, field, _label, values) in enumerate(rows, start=1):
        m = run.models[i]
        v = values.T  # [H, T]: units down, time across
        meta = {"model": m.key, "field": field}
        special = np.full(v.shape, np.nan)
        special[~np.isfinite(v)] = 1
        bar = {}
        if kind == "grads":
            special[v == 0] = 0
            with np.errstate(all="ignore"):
                z = np.where(np.isfinite(v) & (v != 0), np.log10(np.abs(v)), np.nan)
            what = "log₁₀|∂L/∂h|"
            scale = {"colorscale": th.sequential, "zmin": lo, "zmax": hi}
            bar = (
                {
                    "title": {
                        "text": "log<sub>10</sub>|∂L/∂h|",
                        "side": "right",
                        "font": {"size": 10, "color": th.muted},
                    }
                }
                if n == 1
                else {}
            )
        elif m.activation == "relu":  # unbounded states: log10(1 + h), h ≥ 0
            with np.errstate(all="ignore"):
                z = np.where(np.isfinite(v), np.log10(1 + np.maximum(v, 0)), np.nan)
            what = "log₁₀(1 + h)"
            scale = {"colorscale": [[0, th.surface], [1, th.diverging[2][1]]], "zmin": 0}
            bar = {
                "title": {
                    "text": "log<sub>10</sub>(1+h)",
                    "side": "right",
                    "font": {"size": 10, "color": th.muted},
                }
            }
        else:
            z = np.where(np.isfinite(v), v, np.nan)
            what = "c" if field == "cell_state" else "h"
            bounded = MODELS[m.key].bounded if m.key in MODELS and field == "hidden" else False
            scale = {
                "colorscale": [list(s) for s in th.diverging],
                **({"zmin": -1, "zmax": 1} if bounded else {"zmid": 0}),
            }
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=list(range(1, v.shape[0] + 1)),
                z=np.where(np.isnan(z), None, z).tolist(),
                hoverongaps=False,
                **scale,
                colorbar=_colorbar(fig, n, th, **bar),
                showscale=kind != "grads" or n == 1,
                hovertemplate=_hover(f"{hover}<br>{what} = %{{z:.3g}}"),
                meta={"kind": "values", **meta},
            ),
            row=n,
            col=1,
        )
        if (~np.isnan(special)).any():
            fig.add_trace(
                _special_trace(special, xs, th, words, {"kind": "special", **meta}, hover), row=n, col=1
            )
        fig.update_yaxes(
            heat_axis(
                th,
                autorange="reversed",
                ticks="",
                nticks=3,
                title={"text": w("explore.heat.unit"), "font": {"size": 10}, "standoff": 4},
            ),
            row=n,
            col=1,
        )
        fig.update_xaxes(
            heat_axis(
                th,
                range=[0.5, T + 0.5],
                showticklabels=n == len(rows),
                title={"text": w("explore.axis.t") if n == len(rows) else ""},
            ),
            row=n,
            col=1,
        )
    if kind == "grads" and rows:  # the shared scale's bar spans every row
        fig.data[0].colorbar.update(len=1, y=0.5)
    return fig


def hidden(run, w: Words, th: Theme) -> go.Figure:
    """h_t (and the LSTM's c_t) of batch item 0, units × time, one heatmap per model: blue
    negative, the surface colour 0, vermillion positive; relu RNNs as log10(1 + h)."""
    return _heat_rows(run, w, th, "hidden")


def gradients(run, w: Words, th: Theme) -> go.Figure:
    """log10 |∂L/∂h_t| of batch item 0, units × time, one heatmap per model on one scale."""
    return _heat_rows(run, w, th, "grads")


# --- gates and the gradient-keeping path (static/js/views/gates.js) --------------------------


def gate_path(gate: np.ndarray) -> np.ndarray:
    """mean_u Π_{k=t+1..T} gate_k,u for t = 1..T (index t − 1), from gate values [T, H]: 1 at T;
    NaN from a step whose gate was not finite back (the page's gradient-math.js gateProduct)."""
    T, H = gate.shape
    out = np.empty(T)
    prod = np.ones(H)
    with np.errstate(all="ignore"):
        for k in range(T - 1, -1, -1):
            if k < T - 1:
                prod = prod * gate[k + 1]
            out[k] = prod.mean()
    return out


def gates(run, w: Words, th: Theme) -> go.Figure:
    """Per gated model (LSTM, GRU) its mean gate values over t; below, the path that keeps the
    gradient: the LSTM's forget gates multiplied back from T (∂c_T/∂c_t along the cell state),
    the GRU's update gates, on a log axis."""
    gated = [(i, m) for i, m in enumerate(run.models) if m.cell in PATH_GATE]
    if not gated:
        raise ValueError(w("explore.gates.empty"))
    T = run.T
    xs = list(range(1, T + 1))
    n = len(gated) + 1
    titles = [w("explore.gates.title", label=w.model(m)) for _, m in gated] + [w("explore.path.title")]
    fig = make_subplots(rows=n, cols=1, vertical_spacing=0.32 / n, subplot_titles=titles)
    for a in fig.layout.annotations:
        a.update(x=0, xanchor="left", font={"size": 13, "color": th.text})
    for r, (i, m) in enumerate(gated, start=1):
        a = fig.layout.annotations[r - 1]
        a.font.color = _colour(th, run, i)
        gate_values = _need(run, m, "gates", "gates")
        label = w.model(m)
        for name, values in gate_values.items():
            style = th.gate(name)
            gate_label = w(f"explore.gate.{name}")
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[float(v) if math.isfinite(v) else None for v in values.mean(axis=1)],
                    mode="lines",
                    name=gate_label,
                    legendgroup=f"gates{r}",
                    legendgrouptitle_text=label if len(gated) > 1 else None,
                    line={"color": style["colour"], "dash": style["dash"], "width": style.get("width", 1.8)},
                    hovertemplate=_hover(w("explore.gates.hover", label=label, gate=gate_label)),
                    meta={"kind": "gate", "model": m.key, "gate": name},
                ),
                row=r,
                col=1,
            )
        fig.update_yaxes(
            axis(th, range=[-1.05, 1.05], zeroline=True, title={"text": w("explore.gates.y")}), row=r, col=1
        )
        fig.update_xaxes(axis(th, range=[0.5, T + 0.5], zeroline=False), row=r, col=1)
    for i, m in gated:
        path = gate_path(m.gates[PATH_GATE[m.cell]])
        text = [
            fmt(float(v))
            if math.isfinite(v) and v > 0
            else w("explore.path.underflow")
            if v == 0
            else w("explore.not_finite")
            for v in path
        ]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=_drawable(path),
                customdata=text,
                mode="lines",
                connectgaps=False,
                name=w("explore.path.lstm" if m.cell == "lstm" else "explore.path.gru"),
                legendgroup="path",
                line={"color": _colour(th, run, i), "width": 2.4},
                hovertemplate=_hover(w("explore.path.hover", label=w.model(m))),
                meta={"kind": "path", "model": m.key},
            ),
            row=n,
            col=1,
        )
    fig.update_yaxes(
        axis(
            th,
            type="log",
            autorange=True,
            exponentformat="power",
            autorangeoptions=LOG_CLIP,
            title={"text": w("explore.path.y")},
        ),
        row=n,
        col=1,
    )
    fig.update_xaxes(
        axis(th, range=[0.5, T + 0.5], zeroline=False, title={"text": w("explore.axis.t")}), row=n, col=1
    )
    fig.update_layout(
        base_layout(
            th,
            w("explore.gates"),
            height=140 + 260 * n,
            legend={
                "orientation": "v",
                "x": 1.02,
                "y": 1,
                "xanchor": "left",
                "yanchor": "top",
                "bgcolor": "rgba(0,0,0,0)",
                "font": {"color": th.text, "size": 11},
            },
            margin={"l": 70, "r": 24, "t": 78, "b": 50},
        )
    )
    return fig


# --- depth × time (static/js/views/layers.js) ------------------------------------------------


def layers(run, w: Words, th: Theme) -> go.Figure:
    """‖∂L/∂h_t‖ of every unit — every (layer, direction) of every model — as a heatmap (a row
    per unit, the top layer first; log10 colour) and as lines on a log axis."""
    T = run.T
    xs = list(range(1, T + 1))
    one = len(run.models) == 1
    rows = [
        (i, m, u)
        for i, m in enumerate(run.models)
        for layer in range(m.num_layers, 0, -1)
        for u in [m.unit(layer, d) for d in (("forward", "backward") if m.bidirectional else ("forward",))]
    ]
    stacked = any(m.num_layers > 1 or m.bidirectional for m in run.models)

    def row_label(m, u, short=True):
        if one and stacked:
            return w.unit(m, u.layer, u.direction)
        base = w.model(m) if not short else w.model(m).split(" · ")[0]
        return (
            base
            if not (m.num_layers > 1 or m.bidirectional)
            else f"{base} · {w.unit(m, u.layer, u.direction, short=short)}"
        )

    with np.errstate(all="ignore"):
        z = np.array([np.log10(u.grad_norm) for _, _, u in rows]).reshape(len(rows), T)
    g = np.array([u.grad_norm for _, _, u in rows]).reshape(len(rows), T)
    special = np.full(g.shape, np.nan)
    special[~np.isfinite(g)] = 1
    special[g == 0] = 0
    z = np.where(np.isfinite(z), z, np.nan)
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ticks = list(
        range(math.floor(lo), math.ceil(hi) + 1, max(1, math.ceil((math.ceil(hi) - math.floor(lo)) / 5)))
    )
    labels = [row_label(m, u) for _, m, u in rows]
    full = [[row_label(m, u, short=False)] * T for _, m, u in rows]
    ys = list(range(len(rows)))
    fig = make_subplots(
        rows=2, cols=1, vertical_spacing=0.12, row_heights=[max(0.25, min(0.6, 0.08 * len(rows))), 0.6]
    )
    fig.add_trace(
        go.Heatmap(
            x=xs,
            y=ys,
            z=np.where(np.isnan(z), None, z).tolist(),
            customdata=full,
            hoverongaps=False,
            text=[[fmt(float(v)) for v in row] for row in g],
            colorscale=th.sequential,
            zmin=lo,
            zmax=hi if hi > lo else lo + 1,
            colorbar=_colorbar(
                fig,
                1,
                th,
                tickvals=ticks,
                ticktext=[f"10<sup>{v}</sup>" for v in ticks],
                title={
                    "text": "‖∂L/∂h<sub>t</sub>‖",
                    "side": "right",
                    "font": {"size": 10, "color": th.muted},
                },
            ),
            hovertemplate=_hover("%{customdata}<br>t = %{x}<br>‖∂L/∂h<sub>t</sub>‖ = %{text}"),
            meta={
                "kind": "depth",
                "rows": [{"model": m.key, "layer": u.layer, "direction": u.direction} for _, m, u in rows],
            },
        ),
        row=1,
        col=1,
    )
    if (~np.isnan(special)).any():
        words = [w("explore.heat.underflow"), w("explore.heat.overflow")]
        trace = _special_trace(special, xs, th, words, {"kind": "depth-special"}, "%{customdata}<br>t = %{x}")
        trace.update(y=ys, customdata=full)
        fig.add_trace(trace, row=1, col=1)
    for _, m, u in rows:
        i = run.models.index(m)
        below = m.num_layers - u.layer  # 0: the top layer
        colour = th.layers[(u.layer - 1) % len(th.layers)] if one else _colour(th, run, i)
        dash = (
            ("dash" if u.direction == "backward" else "solid") if one else LAYER_DASH[below % len(LAYER_DASH)]
        )
        name = row_label(m, u)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=_drawable(u.grad_norm),
                mode="lines",
                name=name,
                connectgaps=False,
                line={"color": colour, "dash": dash, "width": 2.4 if below == 0 else 1.8},
                opacity=0.6 if not one and u.direction == "backward" else 1,
                hovertemplate=_hover(
                    f"{row_label(m, u, short=False)}<br>t = %{{x}}<br>‖∂L/∂h<sub>t</sub>‖ = %{{y:.3e}}"
                ),
                meta={"kind": "depth-line", "model": m.key, "layer": u.layer, "direction": u.direction},
            ),
            row=2,
            col=1,
        )
    fig.update_layout(
        base_layout(
            th,
            w("explore.depth"),
            height=140 + 28 * len(rows) + 320,
        )
    )
    fig.update_yaxes(
        heat_axis(
            th,
            autorange="reversed",
            ticks="",
            tickvals=ys,
            ticktext=labels,
            automargin=True,
            tickfont={"size": 11, "color": th.text},
        ),
        row=1,
        col=1,
    )
    fig.update_xaxes(heat_axis(th, range=[0.5, T + 0.5]), row=1, col=1)
    fig.update_yaxes(
        axis(
            th,
            type="log",
            autorange=True,
            exponentformat="power",
            zeroline=False,
            autorangeoptions=LOG_CLIP,
            title={"text": w("explore.depth.y")},
        ),
        row=2,
        col=1,
    )
    fig.update_xaxes(
        axis(th, range=[0.5, T + 0.5], zeroline=False, title={"text": w("explore.axis.t")}), row=2, col=1
    )
    return fig


# --- training (static/js/views/train-loss.js, train-flow.js) ----------------------------------


def training_loss(tr, w: Words, th: Theme) -> go.Figure:
    """The training loss per model on a log axis, the task's baseline dashed, and under it a
    strip with a tick for every report whose gradient was clipped."""
    clip_on = tr.config.get("clip") is not None
    n = len(tr.models)
    baseline = fmt(tr.baseline)
    traces = []
    for m in tr.models:
        traces.append(
            go.Scatter(
                x=m.step.tolist(),
                y=[float(v) if math.isfinite(v) else None for v in m.loss],
                mode="lines",
                name=m.label,
                line={"color": th.model_colour(m.key), "width": 2},
                hovertemplate=_hover(w("train.loss.hover", model=m.label, step="%{x}", loss="%{y:.4g}")),
                meta={"kind": "loss", "model": m.key},
            )
        )
    traces.append(
        go.Scatter(
            x=[0, tr.steps],
            y=[tr.baseline] * 2,
            mode="lines",
            name=w("train.loss.baseline", value=baseline),
            line={"color": th.muted, "width": 1.5, "dash": "dash"},
            hovertemplate=_hover(w("train.loss.baseline.hover", value=baseline)),
            meta={"kind": "baseline"},
        )
    )
    for i, m in enumerate(tr.models):
        steps = m.step[m.clipped | (m.clipped_fraction > 0)].tolist()
        traces.append(
            go.Scatter(
                x=steps,
                y=[i] * len(steps),
                yaxis="y2",
                mode="markers",
                showlegend=False,
                name=w("train.loss.clipped.name", model=m.label),
                marker={
                    "symbol": "line-ns-open",
                    "size": 9,
                    "color": th.model_colour(m.key),
                    "line": {"width": 1.2},
                },
                hovertemplate=_hover(w("train.loss.clipped.hover", model=m.label, step="%{x}")),
                meta={"kind": "clipped", "model": m.key},
            )
        )
    layout = base_layout(
        th,
        w("train.loss.heading"),
        xaxis=axis(
            th,
            range=[0, tr.steps],
            zeroline=False,
            anchor="free",
            position=0,
            title={"text": w("train.axis.step")},
        ),
        yaxis=axis(
            th,
            type="log",
            autorange=True,
            exponentformat="power",
            domain=[0.2, 1] if clip_on else [0, 1],
            title={"text": w("train.loss.axis")},
        ),
        yaxis2=heat_axis(
            th,
            domain=[0, 0.12],
            range=[n - 0.5, -0.5],
            showline=False,
            fixedrange=True,
            anchor="x",
            showticklabels=False,
            ticks="",
            visible=clip_on,
            title={"text": w("train.loss.clipped.axis"), "font": {"size": 10}, "standoff": 4},
        ),
    )
    return go.Figure(traces, layout)


def training_flow(tr, w: Words, th: Theme) -> go.Figure:
    """log10 ‖∂L/∂h_t‖ over (training step × t), one heatmap per model, one colour scale."""
    with np.errstate(all="ignore"):
        logs = [np.where(m.grad_norm > 0, np.log10(m.grad_norm), np.nan) for m in tr.models]
    finite = np.concatenate([v[np.isfinite(v)] for v in logs]) if logs else np.array([])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    fig = _rows_figure(len(tr.models), [m.label for m in tr.models], th, w("train.flow.heading"), row_px=150)
    ys = tr.profile_t.tolist()
    for n, (m, z) in enumerate(zip(tr.models, logs, strict=True), start=1):
        fig.add_trace(
            go.Heatmap(
                x=m.step.tolist(),
                y=ys,
                z=np.where(np.isfinite(z.T), z.T, None).tolist(),
                hoverongaps=False,
                colorscale=th.sequential,
                zmin=lo,
                zmax=hi if hi > lo else lo + 1,
                showscale=n == 1,
                colorbar=_colorbar(
                    fig,
                    n,
                    th,
                    len=1,
                    y=0.5,
                    title={
                        "text": "log<sub>10</sub>‖∂L/∂h<sub>t</sub>‖",
                        "side": "right",
                        "font": {"size": 10, "color": th.muted},
                    },
                ),
                hovertemplate=_hover(w("train.flow.hover", step="%{x}", t="%{y}", value="%{z:.2f}")),
                meta={"kind": "flow-map", "model": m.key},
            ),
            row=n,
            col=1,
        )
        last = n == len(tr.models)
        fig.update_xaxes(
            heat_axis(
                th,
                range=[0, tr.steps],
                showticklabels=last,
                title={"text": w("train.axis.step") if last else ""},
            ),
            row=n,
            col=1,
        )
        fig.update_yaxes(
            heat_axis(th, nticks=4, title={"text": "t", "standoff": 4}),
            row=n,
            col=1,
        )
    return fig
