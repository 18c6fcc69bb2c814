"""Small pools of Faker-made values, drawn once; rows pick from them instead of calling Faker.

Faker costs tens of microseconds a call, far too slow for a million orders; a pool of a few
hundred names combined at random gives enough variety at list-index speed.
"""

from __future__ import annotations

from dataclasses import dataclass

from faker import Faker

from core.demo.ids import ascii_fold

# One Faker per locale, each seeded with the demo's seed: a multi-locale Faker picks its
# locale with the global `random` module, which would make the pools differ between runs.
LOCALES = ("en_US", "en_GB", "fr_FR", "it_IT", "es_ES", "de_DE")


@dataclass(frozen=True)
class Pools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    # ASCII forms of the names at the same index, for e-mail addresses.
    first_ascii: tuple[str, ...]
    last_ascii: tuple[str, ...]
    companies: tuple[str, ...]
    streets: tuple[str, ...]
    phones: tuple[str, ...]
    sentences: tuple[str, ...]
    paragraphs: tuple[str, ...]
    jobs: tuple[str, ...]
    ipv4: tuple[str, ...]


def build_pools(seed: int, size: int) -> Pools:
    """Pools of roughly `size` entries each (names get more), deterministic for `seed`."""
    fakers = []
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        fakers.append(fake)
    per_locale = max(size // len(LOCALES), 8)

    def unique(make, count: int) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for fake in fakers:
            for _ in range(count):
                seen.setdefault(make(fake), None)
        return tuple(seen)

    first = unique(lambda f: f.first_name(), per_locale * 2)
    last = unique(lambda f: f.last_name(), per_locale * 3)
    english = fakers[0]
    return Pools(
        first_names=first,
        last_names=last,
        first_ascii=tuple(_email_part(n) for n in first),
        last_ascii=tuple(_email_part(n) for n in last),
        companies=unique(lambda f: f.company(), per_locale),
        streets=unique(lambda f: f.street_address().replace("\n", ", "), per_locale),
        phones=tuple(
            f"+1 {english.numerify('###')} 555 {english.numerify('####')}" for _ in range(size)
        ),
        sentences=tuple(english.sentence(nb_words=12) for _ in range(size)),
        paragraphs=tuple(english.paragraph(nb_sentences=4) for _ in range(max(size // 4, 10))),
        jobs=tuple(english.job() for _ in range(max(size // 4, 10))),
        ipv4=tuple(english.ipv4_public() for _ in range(size)),
    )


def _email_part(name: str) -> str:
    folded = "".join(c for c in ascii_fold(name).lower() if c.isalnum())
    return folded or "guest"
