"""Identifiers drawn from the demo's random stream: UUIDs, tokens and unique slugs."""

from __future__ import annotations

import re
import unicodedata
from random import Random

_BITS_128 = (1 << 128) - 1
# Version 4 and RFC 4122 variant bits, as uuid.UUID(int=..., version=4) sets them.
_CLEAR = _BITS_128 & ~((0xF000 << 64) | (0xC000 << 48))
_SET = (0x4000 << 64) | (0x8000 << 48)


def id_from_bits(bits: int) -> str:
    """str(uuid.UUID(int=bits, version=4)), without building the UUID object (twice as fast)."""
    h = f"{(bits & _CLEAR) | _SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id(rng: Random) -> str:
    """A version 4 UUID (as text) from the random stream, so references need no round trip."""
    return id_from_bits(rng.getrandbits(128))


def hex_token(rng: Random, nbytes: int) -> str:
    """`nbytes` random bytes from the stream, as hex."""
    return f"{rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def ascii_fold(text: str) -> str:
    """'Hélène' -> 'Helene': addresses and slugs stay ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slugify(text: str) -> str:
    """'Été à Paris!' -> 'ete-a-paris'."""
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_fold(text).lower()).strip("-")
    return slug or "item"


class UniqueNames:
    """Hands out unique strings: the second 'paris-gala' becomes 'paris-gala-2'."""

    def __init__(self, separator: str = "-"):
        self.separator = separator
        self.seen: dict[str, int] = {}

    def take(self, base: str) -> str:
        """`base`, or `base` with the next free numeric suffix."""
        n = self.seen.get(base)
        if n is None:
            self.seen[base] = 1
            return base
        while True:
            n += 1
            candidate = f"{base}{self.separator}{n}"
            if candidate not in self.seen:
                self.seen[base] = n
                self.seen[candidate] = 1
                return candidate

    def slug(self, text: str) -> str:
        """A unique slug for `text`."""
        return self.take(slugify(text))
