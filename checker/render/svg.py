"""Small helpers for writing SVG by hand: escaping, ids, colours, the document wrapper."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

# Colours for Gs, in G index order (the Tableau 10 palette).
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac"]
FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""


def g_colour(g: int) -> str:
    return PALETTE[g % len(PALETTE)]


def ident(text: str) -> str:
    """Turn a name such as ``sleeper#0`` into an XML id fragment: letters, digits, - and _ only."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


def text(s: str) -> str:
    return escape(str(s))


def attr(value) -> str:
    """Quote and escape an attribute value."""
    return quoteattr(str(value))


def element(tag: str, body: str = "", **attrs) -> str:
    """Write one element.  Attribute names use _ for - (``data_g`` becomes ``data-g``), and a trailing _ is dropped."""
    parts = [tag]
    for k, v in attrs.items():
        if v is None:
            continue
        parts.append(f"{k.rstrip('_').replace('_', '-')}={attr(v)}")
    head = " ".join(parts)
    return f"<{head}>{body}</{tag}>" if body else f"<{head}/>"


def document(width: float, height: float, body: list[str], title: str, css: str = "") -> str:
    """Wrap elements in a standalone SVG document of the given size in px."""
    style = f"<style>{css}</style>\n" if css else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" {FONT} font-size="12">\n'
            f"<title>{text(title)}</title>\n{style}" + "\n".join(body) + "\n</svg>\n")


def strip_prolog(svg: str) -> str:
    """Remove the XML declaration, for inlining the SVG in HTML."""
    return svg.split("?>", 1)[1].lstrip() if svg.startswith("<?xml") else svg
