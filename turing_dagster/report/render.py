"""Draws a `RunTimeline` as a PNG: per Ollama host, model residency above the chats in flight.

matplotlib's object API with the Agg canvas (no pyplot): no global state, safe inside a run.
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from PIL import Image

from turing_dagster.report.timeline import (
    RunTimeline,
    chats_by_host_and_model,
    in_flight,
    residencies,
    summary,
)

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
FAILED = "#d62728"
EMBED_COLORS = 64  # the UI's copy: the picture has a few flat colours and antialiased edges


def model_colors(models: list[str]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}


def build_figure(timeline: RunTimeline, title: str) -> Figure:
    """The figure: a residency row and an in-flight row per host, step boundaries across all of them."""
    hosts = timeline.hosts()
    colors = model_colors(timeline.models())
    t0 = timeline.start
    span = max(timeline.end - t0, 1e-3)
    fig = Figure(figsize=(14, 2.2 + 3.1 * max(len(hosts), 1)), dpi=110)
    FigureCanvasAgg(fig)
    # a header row for the step names, then per host a residency row over an in-flight row
    rows = max(len(hosts), 1)
    grid = fig.add_gridspec(1 + rows, 1, height_ratios=[0.5] + [3.2] * rows, hspace=0.22)
    first = fig.add_subplot(grid[0])
    _step_labels(first, timeline, t0)
    if not hosts:  # a run whose steps asked no model (or made before calls were recorded): its steps only
        ax = fig.add_subplot(grid[1], sharex=first)
        _step_boundaries(ax, timeline, t0)
        ax.text(0.5, 0.5, "no Ollama calls recorded in this run", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    stays = residencies(timeline)
    chats = chats_by_host_and_model(timeline)
    for i, host in enumerate(hosts):
        lane = grid[1 + i].subgridspec(2, 1, height_ratios=[1, 2.2], hspace=0.06)
        res_ax = fig.add_subplot(lane[0], sharex=first)
        fly_ax = fig.add_subplot(lane[1], sharex=first)
        _residency(res_ax, [s for s in stays if s.host == host], colors, t0, timeline.end)
        res_ax.set_title(f"Ollama host {host}", loc="left", fontsize=11, fontweight="bold", pad=4)
        _chats(fly_ax, chats.get(host, {}), colors, t0)
        _failures(fly_ax, [r for r in timeline.records if r.host == host and not r.ok], t0)
        for ax in (res_ax, fly_ax):
            _step_boundaries(ax, timeline, t0)
            ax.tick_params(labelbottom=(ax is fly_ax and i == len(hosts) - 1))
    first.set_xlim(0, span * 1.01)
    fig.axes[-1].set_xlabel("seconds since run start")
    fig.suptitle(title, fontsize=13, x=0.01, y=0.995, ha="left", va="top")
    fig.text(0.01, 1 - 0.42 / fig.get_figheight(), _caption(timeline), fontsize=9, color="#444444", va="top")
    if not colors:
        fig.subplots_adjust(left=0.1, right=0.98, top=1 - 0.7 / fig.get_figheight(), bottom=0.7 / fig.get_figheight())
        return fig
    fig.legend(handles=_legend(colors), loc="lower center", ncol=len(colors) + 4, fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.1, right=0.98, top=1 - 0.7 / height, bottom=0.95 / height)
    return fig


def _residency(ax, stays, colors, t0: float, end: float) -> None:
    models = sorted({s.model for s in stays}, key=lambda m: list(colors).index(m))
    for row, model in enumerate(models):
        for s in (s for s in stays if s.model == model):
            color = colors[model]
            y = (row + 0.15, 0.7)
            ax.broken_barh([(s.load_start - t0, max(s.load_end - s.load_start, 0))], y,
                           facecolors="white", edgecolors=color, hatch="////", linewidth=0.8)
            until = s.unload_at if s.unload_at is not None else end
            ax.broken_barh([(s.load_end - t0, max(until - s.load_end, 0))], y, facecolors=color, alpha=0.55)
            if s.unload_at is not None:
                ax.plot([s.unload_at - t0] * 2, [y[0] - 0.05, y[0] + y[1] + 0.05], color="black", linewidth=2)
    ax.set_ylim(0, max(len(models), 1))
    ax.set_yticks([r + 0.5 for r in range(len(models))], models, fontsize=8)
    ax.set_ylabel("resident", fontsize=9)
    ax.grid(axis="x", alpha=0.25)


def _chats(ax, by_model, colors, t0: float) -> None:
    top = 1
    for model in (m for m in colors if m in by_model):
        times, counts = in_flight(by_model[model])
        xs = [0.0] + [t - t0 for t in times]
        ys = [0] + counts
        ax.fill_between(xs, ys, step="post", color=colors[model], alpha=0.45, linewidth=0)
        ax.step(xs, ys, where="post", color=colors[model], linewidth=0.6)
        top = max(top, max(counts, default=0))
    ax.set_ylim(0, top + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("chats in flight", fontsize=9)
    ax.grid(axis="x", alpha=0.25)


def _failures(ax, failed, t0: float) -> None:
    if failed:
        ax.scatter([r.end - t0 for r in failed], [0.15] * len(failed), marker="x", color=FAILED, s=18, zorder=5)


def _step_boundaries(ax, timeline: RunTimeline, t0: float) -> None:
    for n, step in enumerate(timeline.steps):
        if n % 2:
            ax.axvspan(step.start - t0, step.end - t0, color="#000000", alpha=0.04, linewidth=0)
        ax.axvline(step.start - t0, color="#555555", linewidth=0.7, linestyle=":")
    if timeline.steps:
        ax.axvline(timeline.steps[-1].end - t0, color="#555555", linewidth=0.7, linestyle=":")


def _step_labels(ax, timeline: RunTimeline, t0: float, rows: int = 3) -> None:
    """A header row naming each step at its start; short steps' names go on the next row, not over each other."""
    ax.set_axis_off()
    ax.set_ylim(0, 1)
    span = max(timeline.end - t0, 1e-3)
    per_char = 0.07 / (ax.figure.get_figwidth() * 0.88) * span  # ~width of one 8 pt character, in seconds
    row_end = [float("-inf")] * rows
    for step in timeline.steps:
        x = step.start - t0
        name = f"{step.execution_order}. {step.conversation}" if step.execution_order else step.conversation
        row = next((r for r in range(rows) if x > row_end[r]), min(range(rows), key=row_end.__getitem__))
        row_end[row] = x + len(name) * per_char
        y = 0.08 + 0.3 * row
        ax.plot([x, x], [0, y + 0.05], color="#999999", linewidth=0.6)
        ax.text(x, y, f" {name}", fontsize=8, color="#333333", ha="left", va="bottom")


def _legend(colors) -> list:
    handles: list = [Patch(facecolor=c, alpha=0.6, label=m) for m, c in colors.items()]
    handles += [
        Patch(facecolor="white", edgecolor="#555555", hatch="////", label="loading"),
        Line2D([], [], color="black", linewidth=2, label="unload"),
        Line2D([], [], color="#555555", linewidth=0.7, linestyle=":", label="step start"),
        Line2D([], [], color=FAILED, marker="x", linestyle="", label="failed call"),
    ]
    return handles


def _caption(timeline: RunTimeline) -> str:
    parts = [
        f"{m}: {c['load']} load(s), {c['chat']} chats" + (f", {c['failed']} failed" if c["failed"] else "")
        for m, c in summary(timeline).items()
    ]
    return "; ".join([f"{timeline.end - timeline.start:.1f} s, {len(timeline.steps)} steps", *parts])


def write_png(timeline: RunTimeline, path: str | Path, title: str, embed_dpi: int | None = None) -> bytes | None:
    """Render once and write the PNG (folders created); with `embed_dpi`, also return the same picture
    scaled to that resolution (60: a dozen KB) to embed in a materialization's metadata.

    The small copy is the rendered pixels scaled down and reduced to a palette, not a second render: the
    render is most of the cost, and it happens at the end of a run."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = build_figure(timeline, title)
    fig.canvas.draw()
    width, height = fig.canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    image.save(path, format="png")
    if embed_dpi is None:
        return None
    scale = embed_dpi / fig.dpi
    small = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)
    buffer = io.BytesIO()
    small.quantize(EMBED_COLORS).save(buffer, format="png")
    return buffer.getvalue()

