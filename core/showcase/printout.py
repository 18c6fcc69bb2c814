"""The running order as a printable HTML page: one table per segment, large type, page
breaks between segments, nothing that needs the network."""

from __future__ import annotations

from html import escape

from core.showcase.runway import RunningOrder

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5cm; color: #111; }
h1 { font-size: 22pt; margin: 0 0 4pt; }
.meta { font-size: 11pt; margin-bottom: 14pt; }
h2 { font-size: 15pt; border-bottom: 2px solid #111; padding-bottom: 2pt; margin-top: 18pt; }
.cues { font-size: 10pt; margin: 4pt 0 8pt; }
table { width: 100%; border-collapse: collapse; font-size: 11pt; }
th, td { border: 1px solid #555; padding: 4pt 6pt; text-align: left; vertical-align: top; }
th { background: #eee; }
td.n { width: 3em; text-align: right; font-weight: bold; }
td.tick { width: 2.5em; }
@media print { h2 { break-before: auto; } section { break-inside: avoid; } }
"""


def running_order_html(order: RunningOrder) -> str:
    """The whole running order of a show as one self-contained HTML document."""
    show = order.show
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Running order · {escape(show.collection_name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Running order · {escape(show.collection_name)}</h1>",
        "<div class='meta'>",
        f"{escape(show.designer_name)} · {escape(show.event_title)} · {escape(show.venue_name)}",
        f"{' · ' + escape(order.venue_address) if order.venue_address else ''}<br>",
        f"{show.show_date:%A %d %B %Y, %H:%M} UTC · status {escape(show.status)}",
        f"{' · ' + str(show.duration_minutes) + ' min' if show.duration_minutes else ''}",
        f" · {sum(len(s.looks) for s in order.segments)} looks",
        "</div>",
    ]
    if order.notes:
        parts.append(f"<p class='cues'><b>Notes:</b> {escape(order.notes)}</p>")
    if not order.segments:
        parts.append("<p>No segments yet.</p>")
    for segment in order.segments:
        start = f"{segment.starts_at:%H:%M}" if segment.starts_at else "—"
        length = f", {segment.duration_minutes} min" if segment.duration_minutes else ""
        parts.append(
            f"<section><h2>{segment.order}. {escape(segment.name)}"
            f" <small>({start}{length})</small></h2><div class='cues'>"
        )
        for label, value in (
            ("Theme", segment.theme),
            ("Music", segment.music),
            ("Lighting", segment.lighting_notes),
        ):
            if value:
                parts.append(f"<b>{label}:</b> {escape(value)}<br>")
        parts.append("</div>")
        if not segment.looks:
            parts.append("<p>No looks in this segment.</p></section>")
            continue
        parts.append(
            "<table><thead><tr><th>Look</th><th>Slot</th><th>Model</th><th>Agency</th>"
            "<th>Piece</th><th>Notes</th><th>✓</th></tr></thead><tbody>"
        )
        for look in segment.looks:
            parts.append(
                f"<tr><td class='n'>{look.look}</td><td>{segment.order}.{look.slot}</td>"
                f"<td>{escape(look.model_name)}</td><td>{escape(look.agency or '')}</td>"
                f"<td>{escape(look.item_name or '—')}</td><td>{escape(look.notes or '')}</td>"
                "<td class='tick'></td></tr>"
            )
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "".join(parts)
