"""A picture drawn with Pillow: labelled text (kept, so a test can read what the picture says), ticks,
colours, dotted lines and a seconds axis mapped onto the plots' width."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, LEFT, RIGHT = 1540, 152, 40  # the plots span LEFT .. WIDTH - RIGHT
INK, GREY = "#000000", "#555555"


@dataclass(frozen=True)
class Label:
    """A text drawn on the picture, by what it is: title, caption, step, host, resident, axis, second (the x axis's
    ticks), count (the chats-in-flight axis's), legend, note."""

    role: str
    text: str
    x: float
    y: float


@dataclass
class Picture:
    image: Image.Image
    labels: list[Label] = field(default_factory=list)

    def texts(self, role: str) -> list[str]:
        return [label.text for label in self.labels if label.role == role]


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def tint(color: str, alpha: float) -> tuple[int, int, int]:
    """`color` at `alpha` over white."""
    return tuple(round(255 * (1 - alpha) + c * alpha) for c in rgb(color))  # type: ignore[return-value]


def ticks(top: float, most: int = 12) -> list[float]:
    """Round tick values from 0 to `top`: steps of 1, 2 or 5 times a power of ten, at most about `most`."""
    raw = max(top, 1e-9) / most
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(top / step + 1e-9) + 1)]


def tick_text(value: float) -> str:
    return f"{value:g}"


class Canvas:
    """The picture being drawn, its labels recorded as they are written."""

    def __init__(self, height: int, t_span: float) -> None:
        self.image = Image.new("RGB", (WIDTH, height), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.labels: list[Label] = []
        self.x_max = max(t_span, 1e-3) * 1.01

    def x(self, seconds: float) -> float:
        return LEFT + min(max(seconds, 0.0), self.x_max) / self.x_max * (WIDTH - LEFT - RIGHT)

    def text(self, role: str, xy: tuple[float, float], text: str, size: int, fill: str = INK,
             anchor: str = "la") -> float:
        """Write `text` (anchor as Pillow's: la = left/top, ra = right/top, mm = centre); returns its width."""
        self.draw.text(xy, text, font=font(size), fill=fill, anchor=anchor)
        self.labels.append(Label(role, text, *xy))
        return self.draw.textlength(text, font=font(size))

    def vertical_text(self, role: str, centre: tuple[float, float], text: str, size: int) -> None:
        width = math.ceil(self.draw.textlength(text, font=font(size))) + 4
        stamp = Image.new("RGB", (width, size + 6), "white")
        ImageDraw.Draw(stamp).text((2, 1), text, font=font(size), fill=INK)
        stamp = stamp.rotate(90, expand=True)
        self.image.paste(stamp, (round(centre[0] - stamp.width / 2), round(centre[1] - stamp.height / 2)))
        self.labels.append(Label(role, text, *centre))

    def dotted(self, x: float, top: float, bottom: float, fill: str = GREY) -> None:
        y = top
        while y < bottom:
            self.draw.line([(x, y), (x, min(y + 2, bottom))], fill=fill, width=1)
            y += 4
