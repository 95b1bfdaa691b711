"""Draws a `RunTimeline` as a PNG with Pillow: per Ollama host, model residency above the chats in flight.

Rectangles, lines and text in Pillow's bundled font, laid out by hand. The run's last step draws this on
its way out, so the drawing is on the run's critical path: Pillow imports in a few hundredths of a second
and draws a 900-posting run in about as long, where a plotting library took half a second to import (in a
thread competing with the chats for the interpreter) and as long again to draw.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from turing_dagster.report.canvas import (
    GREY,
    INK,
    LEFT,
    RIGHT,
    WIDTH,
    Canvas,
    Picture,
    font,
    rgb,
    tick_text,
    ticks,
    tint,
)
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
DPI = 110  # the full picture's resolution; `embed_dpi` scales the UI's copy from it

HEADER_ROWS, HEADER_ROW = 3, 15  # step names: short steps' names go on the next row, not over each other
RES_ROW, FLY_HEIGHT = 32, 210  # a residency row per model; the chats-in-flight plot
GRID, SHADE = "#e8e8e8", "#f4f4f4"


def model_colors(models: list[str]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}


def draw(timeline: RunTimeline, title: str) -> Picture:
    """The picture: a header row of step names, then per host a residency row over an in-flight row, the
    steps' boundaries across all of them, seconds since the run's start below, and a legend."""
    hosts = timeline.hosts()
    colors = model_colors(timeline.models())
    stays = residencies(timeline)
    chats = chats_by_host_and_model(timeline)
    resident = {h: sorted({s.model for s in stays if s.host == h}, key=list(colors).index) for h in hosts}
    t0 = timeline.start
    header_top = 70
    first_panel = header_top + HEADER_ROWS * HEADER_ROW + 14
    blocks = [26 + max(len(resident[h]), 1) * RES_ROW + 6 + FLY_HEIGHT for h in hosts] or [FLY_HEIGHT]
    height = first_panel + sum(blocks) + 34 * (len(blocks) - 1) + 56 + (44 if colors else 10)
    canvas = Canvas(height, timeline.end - t0)
    canvas.text("title", (15, 8), title, 20)
    canvas.text("caption", (15, 40), _caption(timeline), 13, fill="#444444")
    _step_labels(canvas, timeline, t0, header_top)
    y = first_panel
    bottom = y
    if not hosts:  # a run whose steps asked no model (or made before calls were recorded): its steps only
        box = (LEFT, y, WIDTH - RIGHT, y + FLY_HEIGHT)
        _frame_background(canvas, timeline, t0, box)
        canvas.text("note", ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), "no Ollama calls recorded in this run",
                    14, anchor="mm")
        canvas.draw.rectangle(box, outline=INK)
        bottom = box[3]
    for host in hosts:
        canvas.text("host", (LEFT, y), f"Ollama host {host}", 16)
        y += 26
        models = resident[host]
        res_box = (LEFT, y, WIDTH - RIGHT, y + max(len(models), 1) * RES_ROW)
        _frame_background(canvas, timeline, t0, res_box)
        _residency(canvas, [s for s in stays if s.host == host], models, colors, t0, timeline.end, res_box)
        canvas.vertical_text("axis", (LEFT - 136, (res_box[1] + res_box[3]) / 2), "resident", 13)
        fly_box = (LEFT, res_box[3] + 6, WIDTH - RIGHT, res_box[3] + 6 + FLY_HEIGHT)
        _frame_background(canvas, timeline, t0, fly_box)
        _chats(canvas, chats.get(host, {}), colors, t0, fly_box)
        _failures(canvas, [r for r in timeline.records if r.host == host and not r.ok], t0, fly_box)
        canvas.vertical_text("axis", (LEFT - 136, (fly_box[1] + fly_box[3]) / 2), "chats in flight", 13)
        bottom = fly_box[3]
        y = bottom + 34
    for value in ticks(canvas.x_max):
        x = canvas.x(value)
        canvas.draw.line([(x, bottom), (x, bottom + 5)], fill=INK)
        canvas.text("second", (x, bottom + 8), tick_text(value), 13, anchor="ma")
    canvas.text("axis", ((LEFT + WIDTH - RIGHT) / 2, bottom + 30), "seconds since run start", 14, anchor="ma")
    if colors:
        _legend(canvas, colors, bottom + 66)
    return Picture(canvas.image, canvas.labels)


def _frame_background(canvas: Canvas, timeline: RunTimeline, t0: float, box: tuple[float, float, float, float]) -> None:
    """A plot's background: every other step shaded, the seconds' grid, the steps' starts dotted."""
    left, top, right, bottom = box
    for n, step in enumerate(timeline.steps):
        if n % 2:
            canvas.draw.rectangle((canvas.x(step.start - t0), top, canvas.x(step.end - t0), bottom), fill=SHADE)
    for value in ticks(canvas.x_max):
        canvas.draw.line([(canvas.x(value), top), (canvas.x(value), bottom)], fill=GRID)
    for step in timeline.steps:
        canvas.dotted(canvas.x(step.start - t0), top, bottom)
    if timeline.steps:
        canvas.dotted(canvas.x(timeline.steps[-1].end - t0), top, bottom)


def _residency(canvas: Canvas, stays, models: list[str], colors: dict[str, str], t0: float, end: float,
               box: tuple[float, float, float, float]) -> None:
    left, top, right, bottom = box
    for row, model in enumerate(models):  # the first model at the bottom, as the plan reads upwards
        row_bottom = bottom - row * RES_ROW
        y0, y1 = row_bottom - RES_ROW * 0.85, row_bottom - RES_ROW * 0.15
        canvas.text("resident", (left - 8, (y0 + y1) / 2), model, 12, anchor="rm")
        color = colors[model]
        for s in (s for s in stays if s.model == model):
            _hatched(canvas, (canvas.x(s.load_start - t0), y0, max(canvas.x(s.load_end - t0), canvas.x(s.load_start - t0) + 1), y1), color)
            until = s.unload_at if s.unload_at is not None else end
            if until > s.load_end:
                canvas.draw.rectangle((canvas.x(s.load_end - t0), y0, canvas.x(until - t0), y1), fill=tint(color, 0.55))
            if s.unload_at is not None:
                x = canvas.x(s.unload_at - t0)
                canvas.draw.line([(x, y0 - 2), (x, y1 + 2)], fill=INK, width=3)
    canvas.draw.rectangle(box, outline=INK)


def _hatched(canvas: Canvas, box: tuple[float, float, float, float], color: str) -> None:
    """A loading: white, outlined and hatched in the model's colour."""
    left, top, right, bottom = (round(v) for v in box)
    width, height = max(right - left, 1), max(bottom - top, 1)
    stamp = Image.new("RGB", (width + 1, height + 1), "white")
    pen = ImageDraw.Draw(stamp)
    for start in range(-height, width + 1, 6):
        pen.line([(start, height), (start + height, 0)], fill=color, width=1)
    pen.rectangle((0, 0, width, height), outline=color)
    canvas.image.paste(stamp, (left, top))


def _chats(canvas: Canvas, by_model, colors: dict[str, str], t0: float, box: tuple[float, float, float, float]) -> None:
    left, top, right, bottom = box
    lines = {model: in_flight(by_model[model]) for model in colors if model in by_model}
    peak = max((max(counts, default=0) for _, counts in lines.values()), default=0)
    y_max = max(peak, 1) + 0.5

    def y(value: float) -> float:
        return bottom - value / y_max * (bottom - top)

    for value in ticks(y_max - 0.5, most=8) if peak > 8 else range(int(y_max) + 1):
        canvas.draw.line([(left - 5, y(value)), (left, y(value))], fill=INK)
        canvas.text("count", (left - 8, y(value)), tick_text(value), 13, anchor="rm")
    layer = Image.new("RGBA", canvas.image.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    for model, (times, counts) in lines.items():
        points = _steps([canvas.x(t - t0) for t in times], [y(c) for c in counts], y(0), left)
        pen.polygon(points + [(points[-1][0], y(0))], fill=(*rgb(colors[model]), 115))
        pen.line(points, fill=(*rgb(colors[model]), 255), width=1)
    canvas.image.paste(Image.alpha_composite(canvas.image.convert("RGBA"), layer).convert("RGB"))
    canvas.draw.rectangle(box, outline=INK)


def _steps(xs: list[float], ys: list[float], zero: float, left: float) -> list[tuple[float, float]]:
    """A step function's outline: each value holds from its time to the next one's."""
    points = [(left, zero)]
    level = zero
    for x, value in zip(xs, ys, strict=True):
        points += [(x, level), (x, value)]
        level = value
    return points


def _failures(canvas: Canvas, failed, t0: float, box: tuple[float, float, float, float]) -> None:
    y = box[3] - 12
    for r in failed:
        x = canvas.x(r.end - t0)
        canvas.draw.line([(x - 4, y - 4), (x + 4, y + 4)], fill=FAILED, width=2)
        canvas.draw.line([(x - 4, y + 4), (x + 4, y - 4)], fill=FAILED, width=2)


def _step_labels(canvas: Canvas, timeline: RunTimeline, t0: float, top: int) -> None:
    """A header row naming each step at its start; short steps' names go on the next row, not over each other."""
    base = top + HEADER_ROWS * HEADER_ROW
    row_end = [float("-inf")] * HEADER_ROWS
    for step in timeline.steps:
        x = canvas.x(step.start - t0)
        name = f"{step.execution_order}. {step.conversation}" if step.execution_order else step.conversation
        row = next((r for r in range(HEADER_ROWS) if x > row_end[r]), min(range(HEADER_ROWS), key=row_end.__getitem__))
        y = base - row * HEADER_ROW
        canvas.draw.line([(x, base + 8), (x, y)], fill="#999999")
        row_end[row] = x + 4 + canvas.text("step", (x + 3, y), name, 12, fill="#333333", anchor="ls")


def _legend(canvas: Canvas, colors: dict[str, str], y: float) -> None:
    entries: list[tuple[str, str]] = [(m, c) for m, c in colors.items()]
    entries += [("loading", "hatch"), ("unload", "unload"), ("step start", "dotted"), ("failed call", "failed")]
    widths = [34 + canvas.draw.textlength(name, font=font(13)) + 26 for name, _ in entries]
    x = (WIDTH - sum(widths)) / 2
    for (name, kind), width in zip(entries, widths, strict=True):
        swatch = (x, y - 6, x + 26, y + 6)
        if kind == "hatch":
            _hatched(canvas, swatch, GREY)
        elif kind == "unload":
            canvas.draw.line([(x, y), (x + 26, y)], fill=INK, width=3)
        elif kind == "dotted":
            for dx in range(0, 26, 4):
                canvas.draw.line([(x + dx, y), (x + dx + 2, y)], fill=GREY)
        elif kind == "failed":
            canvas.draw.line([(x + 9, y - 4), (x + 17, y + 4)], fill=FAILED, width=2)
            canvas.draw.line([(x + 9, y + 4), (x + 17, y - 4)], fill=FAILED, width=2)
        else:
            canvas.draw.rectangle(swatch, fill=tint(kind, 0.6))
        canvas.text("legend", (x + 34, y), name, 13, anchor="lm")
        x += width


def _caption(timeline: RunTimeline) -> str:
    parts = [
        f"{m}: {c['load']} load(s), {c['chat']} chats" + (f", {c['failed']} failed" if c["failed"] else "")
        for m, c in summary(timeline).items()
    ]
    return "; ".join([f"{timeline.end - timeline.start:.1f} s, {len(timeline.steps)} steps", *parts])


def write_png(timeline: RunTimeline, path: str | Path, title: str, embed_dpi: int | None = None) -> bytes | None:
    """Draw once and write the PNG (folders created); with `embed_dpi`, also return the same picture
    scaled to that resolution (60: a dozen KB) to embed in a materialization's metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = draw(timeline, title).image
    image.save(path, format="png")
    if embed_dpi is None:
        return None
    return small_png(image, embed_dpi / DPI)


def small_png(image: Image.Image, scale: float) -> bytes:
    """The picture scaled down and reduced to a palette: the rendered pixels, not a second drawing."""
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BOX)
    buffer = io.BytesIO()
    small.quantize(EMBED_COLORS).save(buffer, format="png")
    return buffer.getvalue()

