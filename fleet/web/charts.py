"""Small SVG line charts rendered on the server: no chart library, no JavaScript."""

from datetime import datetime
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 320, 120, 28


def line_chart(points: list[tuple[datetime, float | None]], label: str) -> Markup:
    """A polyline of the non-empty points, with the minimum and maximum marked on the left."""
    present = [(t, v) for t, v in points if v is not None]
    head = f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">'
    title = f'<text x="{PAD}" y="12" class="label">{escape(label)}</text>'
    if len(present) < 2:
        return Markup(head + title + f'<text x="{PAD}" y="60">-</text></svg>')
    t0, t1 = present[0][0].timestamp(), present[-1][0].timestamp()
    low, high = min(v for _, v in present), max(v for _, v in present)
    span_t, span_v = (t1 - t0) or 1, (high - low) or 1

    def xy(t: datetime, v: float) -> str:
        x = PAD + (t.timestamp() - t0) / span_t * (WIDTH - PAD - 4)
        y = HEIGHT - 14 - (v - low) / span_v * (HEIGHT - 34)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(t, v) for t, v in present)
    axis = (
        f'<text x="2" y="24" class="tick">{high:g}</text><text x="2" y="{HEIGHT - 12}" class="tick">{low:g}</text>'
        f'<line x1="{PAD}" y1="{HEIGHT - 14}" x2="{WIDTH - 4}" y2="{HEIGHT - 14}" class="axis"/>'
    )
    return Markup(f'{head}{title}{axis}<polyline points="{line}" class="series"/></svg>')
