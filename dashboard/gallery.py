"""Drawing showcase pieces as an image gallery (drawing only: the page fetched the items)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

import streamlit as st

from core.showcase.images import image_source, placeholder_svg, svg_data_url
from core.showcase.items import ItemView
from dashboard.text import md

COLUMNS = 4


def item_gallery(items: Sequence[ItemView], *, key: str, all_images: bool = False) -> None:
    """Pieces in a grid, each with its primary image (or every image when `all_images`),
    name, type and price."""
    if not items:
        st.info("No pieces yet.")
        return
    grid = st.container(key=key)
    columns = grid.columns(COLUMNS)
    for index, item in enumerate(items):
        with columns[index % COLUMNS]:
            shown = item.images if all_images else tuple(filter(None, [item.primary_image]))
            if not shown:
                st.image(svg_data_url(placeholder_svg(item.name)), width="stretch")
            for image in shown:
                st.image(
                    image_source(image.image_url, item.name),
                    caption=("★ " if image.is_primary and all_images else "")
                    + md(image.alt_text or item.name),
                    width="stretch",
                )
            st.markdown(f"**{item.display_order}. {md(item.name)}**")
            st.caption(md(f"{item.item_type} · {item.price_text}"))


def palette(colors: Sequence[dict]) -> None:
    """Colour swatches with their names."""
    if not colors:
        return
    swatches = "".join(
        f"<span style='display:inline-block;margin:0 10px 6px 0'>"
        f"<span style='display:inline-block;width:18px;height:18px;border-radius:4px;"
        f"vertical-align:middle;border:1px solid #999;background:{c.get('hex', '#ccc')}'></span>"
        f" {escape(str(c.get('name', '')))}</span>"
        for c in colors
        if isinstance(c, dict) and re.fullmatch(r"#[0-9A-Fa-f]{6}", str(c.get("hex", "")))
    )
    st.html(f"<div>{swatches}</div>")
