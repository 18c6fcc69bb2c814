"""The personal-data registry: what a data category is, and the SQL every user of it reads.

Like pretix's data shredders (`pretix/base/shredder.py`: one class per kind of data, with
an export and an erase), each `Category` says once, for one table:

- which columns hold personal data and of what kind (`Field`), and what each becomes when
  the person is erased (`Field.erased`);
- how one person's rows are found (`find`, over the alias `{t}`, with the parameters
  `:u` (the account id), `:emails` (lower-case addresses) and `:terms`);
- how they are exported (`export`, default: the row as JSON without its secrets, which
  appear as `has_<column>`);
- how they are erased (`action`: anonymise the fields, delete the rows, or a SECURITY
  DEFINER function for rows row-level security hides);
- which fields the audit trail's entries of those rows have overwritten on erasure (the
  personal fields of an audited table that the audit trigger does not already mask);
- how long they are kept (`retention`), by the same anonymisation or a delete.

Discovery (`core.gdpr.discovery`), the export bundle, the erasure, the audit redaction,
the subject guard triggers (migration 0014) and retention (`core.retention.categories`)
read the categories in `core.gdpr.categories` and nothing else. Every table of the schema
is either covered by a category or declared not personal (`NotPersonal`), column by
column where it matters; `tests/test_gdpr_registry.py` fails for anything new that is
neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The values an erasure writes; never taken for the person's own.
ERASED_NAME = "Erased person"
ERASED_DOMAIN = "erased.invalid"
ERASED_MARK = "[erased]"
# Sentinels for Field.erased: overwrite the person's terms inside the value and keep the
# rest; leave the column as it is (a link the row cannot lose: a profile's account).
SCRUB = "scrub"
KEEP = "keep"


class Kind:
    """What a personal column holds. EMAIL, NAME and PHONE identify the person: their
    values are what the verification scan looks for. NAME_PART fields of one row together
    make one name (first and last name: either alone would match half the customers).
    TEXT and ADDRESS are personal free text, overwritten in audit entries too. SECRET is
    never exported (only whether there is one). LINK ties a row to the person's account."""

    EMAIL = "email"
    NAME = "name"
    # One part of a name (first, last): the parts of a row together are one NAME term.
    NAME_PART = "part of a name"
    PHONE = "phone"
    TEXT = "free text"
    ADDRESS = "address"
    DETAIL = "personal detail"
    NETWORK = "network identifier"
    SECRET = "secret"
    LINK = "account link"

    SCANNED = (EMAIL, NAME, PHONE)


@dataclass(frozen=True)
class Field:
    """One personal column and the SQL of its value after erasure (over the row's own
    columns; SCRUB overwrites the person's terms inside it)."""

    column: str
    kind: str
    erased: str = "NULL"


@dataclass(frozen=True)
class Retention:
    """How long a category's rows are kept: past `:cutoff` (the moment less the period of
    setting `key`), the rows `where` selects are treated by the category's own erasure
    (`anonymise`/`clear`) or deleted. Several categories may share a key (an inactive
    account's profile goes with it); their statements run by `position`, then in registry
    order, and the last one's rows are the key's count. `statements` replaces the
    generated ones when the rows need more than one statement of their own."""

    key: str
    label: str
    where: str
    period: str
    why: str
    # "delete", "anonymise" (the category's erasure) or "clear" (the same, of a secret).
    action: str
    drops_partitions: bool = False
    statements: tuple[str, ...] = ()
    position: int = 0


@dataclass(frozen=True)
class Category:
    """One kind of personal data in one table (a pretix shredder)."""

    key: str
    title: str
    table: str
    fields: tuple[Field, ...]
    # WHERE over the alias {t} selecting one person's rows; None: the table's rows belong to
    # no one in particular (a category for its retention only).
    find: str | None
    # "anonymise" (every field set to its erased value), "delete", "scrub" (a log: the
    # person's terms overwritten in every row holding them), "none" (kept as they are:
    # bookkeeping), "function" (`erase_sql`, for rows row-level security hides) or "audit"
    # (the audit trail: redacted last, by the audit trail's own functions).
    action: str = "anonymise"
    # The person's own data, part of the fingerprint an erasure compares with its export.
    # False for logs and for what working the request itself changes.
    fingerprinted: bool = True
    # A log: found by the person's terms, scrubbed wherever it holds them; no guard.
    log: bool = False
    # SELECT expression giving one jsonb per row (over {t}); default: the row without the
    # table's secrets, which appear as has_<column>. Personal fields keep their column
    # names in it: the person's terms are read from them.
    export: str | None = None
    # FROM clause (over {t}) when the rows come from a function (row-level security).
    source: str | None = None
    order_by: str = "{t}.id"
    limit: int | None = None
    key_column: str | None = "id"
    # The column tying the rows to the person's account: the subject guard's link.
    link: str | None = None
    # The table's "this row is anonymised" flag: once set, no personal data comes back.
    flag: str | None = None
    # Further assignments of the anonymisation (flags, key references, regenerated slugs).
    also: tuple[str, ...] = ()
    erase_sql: str | None = None
    # Text and JSON columns of the table that hold no personal data, and why.
    kept: Mapping[str, str] = field(default_factory=dict)
    retention: tuple[Retention, ...] = ()
    # A short description of one row, for the review of the scan's matches.
    label: Callable[[Mapping[str, Any]], str] | None = None

    def where(self, alias: str = "t") -> str:
        assert self.find is not None, self.key
        return self.find.format(t=alias)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.fields)

    def of_kind(self, *kinds: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind in kinds)

    @property
    def audit_fields(self) -> tuple[str, ...]:
        """The fields overwritten in the audit entries of this category's rows: every
        personal field but secrets (the audit trigger masks those) and the account link
        (an anonymised account's id identifies no one)."""
        return tuple(f.column for f in self.fields if f.kind not in (Kind.SECRET, Kind.LINK))

    def assignments(self) -> str:
        """The SET list of the anonymisation. SCRUB fields lose the person's terms
        (`:terms`) and the row's own identifying values, so one statement serves an
        erasure (terms given) and retention (none)."""
        own = ", ".join(f.column for f in self.of_kind(*Kind.SCANNED))
        row_terms = f" || ARRAY[{own}]::text[]" if own else ""
        parts = [
            f"{f.column} = "
            + (
                f"gdpr_scrub({f.column}, CAST(:terms AS text[]){row_terms})"
                if f.erased == SCRUB
                else f.erased
            )
            for f in self.fields
            if f.erased != KEEP
        ]
        return ", ".join([*parts, *self.also])

    def erase_statement(self, where: str) -> str:
        """The statement that erases the rows `where` selects (over the bare table)."""
        if self.action == "delete":
            return f"DELETE FROM {self.table} WHERE {where}"
        if self.action in ("anonymise", "scrub"):
            return f"UPDATE {self.table} SET {self.assignments()} WHERE {where}"
        raise ValueError(f"{self.key}: action {self.action} has no statement")

    def scrub_where(self) -> str:
        """A log's rows holding any of the terms (lower-case LIKE, see gdpr_like_patterns)."""
        likes = "gdpr_like_patterns(CAST(:terms AS text[]))"
        return " OR ".join(f"lower({c}::text) LIKE ANY ({likes})" for c in self.columns)


@dataclass(frozen=True)
class NotPersonal:
    """A table that holds no personal data, and why. `columns` names its columns that
    look personal (a link to an account, a contact or note field) and why they are not
    (a staff member's action, a company's contact, text about a product)."""

    reason: str
    columns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Guard:
    """What the subject guard trigger of one table watches (migration 0014): the account
    link and the e-mail columns (the lock keys), the other personal columns, the flag."""

    table: str
    link: str
    emails: tuple[str, ...]
    personal: tuple[str, ...]
    flag: str

    @property
    def watched(self) -> tuple[str, ...]:
        return tuple(c for c in (self.link, *self.emails, *self.personal, self.flag) if c)

    @property
    def arguments(self) -> tuple[str, str, str, str]:
        """The trigger function's arguments, as migration 0014 installs them."""
        return (self.link, ",".join(self.emails), ",".join(self.personal), self.flag)


@dataclass(frozen=True)
class Registry:
    """Every category and every table declared not personal."""

    categories: tuple[Category, ...]
    not_personal: Mapping[str, NotPersonal]

    def __post_init__(self) -> None:
        for category in self.categories:
            for rule in category.retention:
                assert rule.action in ("delete", "anonymise", "clear"), rule.key
                assert rule.action == "delete" or category.action == "anonymise", rule.key
        keys = [c.key for c in self.categories]
        assert len(keys) == len(set(keys)), "category keys must be unique"
        overlap = {c.table for c in self.categories} & set(self.not_personal)
        assert not overlap, f"declared not personal but covered: {overlap}"

    def by_key(self, key: str) -> Category:
        return next(c for c in self.categories if c.key == key)

    def on_table(self, table: str) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c.table == table)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.table for c in self.categories))

    @property
    def titles(self) -> dict[str, str]:
        return {c.key: c.title for c in self.categories}

    def secrets(self, table: str) -> tuple[str, ...]:
        return tuple(
            f.column for c in self.on_table(table) for f in c.fields if f.kind == Kind.SECRET
        )

    def classified(self, table: str) -> dict[str, str]:
        """Column -> what it is: the kind of a personal field, or why it is kept."""
        out: dict[str, str] = {}
        for c in self.on_table(table):
            out.update(c.kept)
            out.update({f.column: f.kind for f in c.fields})
        if table in self.not_personal:
            out.update(self.not_personal[table].columns)
        return out

    def export_sql(self, category: Category) -> str:
        """One jsonb per row: the category's export, or the row less the table's secrets."""
        if category.export is not None:
            return category.export.format(t="t")
        expr = "to_jsonb(t)"
        secrets = self.secrets(category.table)
        for column in secrets:
            expr += f" - '{column}'"
        mine = [f.column for f in category.of_kind(Kind.SECRET)]
        if mine:
            flags = ", ".join(f"'has_{c}', t.{c} IS NOT NULL" for c in mine)
            expr += f" || jsonb_build_object({flags})"
        return expr

    def discovery_sql(self, category: Category) -> str:
        """The person's rows of `category`, one jsonb each, in a stable order."""
        source = (category.source or f"{category.table} t").format(t="t")
        return (
            f"SELECT {self.export_sql(category)} FROM {source}"
            f" WHERE {category.where()} ORDER BY {category.order_by.format(t='t')}"
            + (f" LIMIT {category.limit}" if category.limit else "")
        )

    def aggregate_sql(self, category: Category) -> str:
        """The same rows as discovery_sql, as one jsonb array in the same order: a scalar
        sub-select, so many categories go in one statement."""
        assert category.limit is None, category.key
        source = (category.source or f"{category.table} t").format(t="t")
        return (
            f"(SELECT coalesce(jsonb_agg({self.export_sql(category)}"
            f" ORDER BY {category.order_by.format(t='t')}), '[]'::jsonb)"
            f" FROM {source} WHERE {category.where()})"
        )

    @staticmethod
    def keys_sql(category: Category, *, lock: bool) -> str:
        """The keys of the person's rows, locked FOR UPDATE when `lock` (rows of the
        table itself; a function's rows cannot be locked through it)."""
        assert category.key_column is not None, category.key
        source = (category.source or f"{category.table} t").format(t="t")
        suffix = " ORDER BY 1 FOR UPDATE OF t" if lock and category.source is None else ""
        return f"SELECT t.{category.key_column} FROM {source} WHERE {category.where()}{suffix}"

    def guards(self) -> dict[str, Guard]:
        """One subject guard per table whose categories find the person by account or
        e-mail: the union of their personal columns."""
        found: dict[str, dict[str, Any]] = {}
        for category in self.categories:
            if category.find is None or category.log:
                continue
            emails = [f.column for f in category.of_kind(Kind.EMAIL)]
            if not category.link and not emails:
                continue
            spec = found.setdefault(
                category.table, {"link": "", "emails": [], "personal": [], "flag": ""}
            )
            if category.link:
                assert spec["link"] in ("", category.link), category.table
                spec["link"] = category.link
            spec["flag"] = spec["flag"] or (category.flag or "")
            for f in category.fields:
                if f.column == category.link:
                    continue
                bucket = spec["emails"] if f.kind == Kind.EMAIL else spec["personal"]
                if f.column not in bucket:
                    bucket.append(f.column)
        return {
            table: Guard(table, s["link"], tuple(s["emails"]), tuple(s["personal"]), s["flag"])
            for table, s in found.items()
        }

    def retention_rules(self) -> list[tuple[Category, Retention]]:
        """(category, rule) for every retention rule, by key in first-seen order, then by
        position, then in registry order."""
        rules = [(c, r) for c in self.categories for r in c.retention]
        first = {r.key: i for i, (_, r) in reversed(list(enumerate(rules)))}
        return sorted(rules, key=lambda cr: (first[cr[1].key], cr[1].position))

    def label(self, table: str, row: Mapping[str, Any] | None, key: str) -> str:
        """A short description of one row for the review (the first category's label)."""
        if row is None:
            return f"{table} {key} (not visible)"
        for category in self.on_table(table):
            if category.label is not None:
                return category.label(row)
        return f"{table} {key}"
