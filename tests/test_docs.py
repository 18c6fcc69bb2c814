"""docs/SCHEMA.md stays true: every table of the models is listed with its domain."""

from __future__ import annotations

import re

from core.config import PROJECT_ROOT
from core.models import Base


def test_schema_doc_lists_every_table() -> None:
    doc = (PROJECT_ROOT / "docs" / "SCHEMA.md").read_text()
    listed = set(re.findall(r"^\| [^|]+ \| `([a-z_]+)` \| `core\.models\.", doc, re.M))
    assert listed == set(Base.metadata.tables)
