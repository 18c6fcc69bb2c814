"""Uploaded image files: checked by their content (not only their name) and size, stored
under the configured folder (FASHIONISTAS_UPLOADS_DIR, default `.data/uploads`) by the
SHA-256 of their bytes, and named in the database as `upload://<file>`.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from core.config import Settings
from core.errors import ValidationError

SCHEME = "upload://"
# Pillow's format name -> the file extension stored, and the extensions people use for it.
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "JPEG": (".jpg", (".jpg", ".jpeg")),
    "PNG": (".png", (".png",)),
    "WEBP": (".webp", (".webp",)),
    "GIF": (".gif", (".gif",)),
}
ALLOWED_EXTENSIONS = tuple(e for _, names in FORMATS.values() for e in names)
MAX_PIXELS = 40_000_000


def uploads_dir() -> Path:
    return Settings.from_env().uploads_dir


def check_image(file_name: str, data: bytes, *, field: str = "image_file") -> str:
    """The stored extension for an acceptable image; ValidationError naming `field` and
    the rule otherwise: not empty, at most the configured size, a JPEG, PNG, WebP or GIF
    by its content, and a file name whose extension says the same."""
    limit = Settings.from_env().upload_max_bytes
    if not data:
        raise ValidationError(f"{field.replace('_', ' ')}: the file is empty", field=field)
    if len(data) > limit:
        raise ValidationError(
            f"{field.replace('_', ' ')}: {len(data) / 2**20:.1f} MB is more than the"
            f" {limit / 2**20:.0f} MB allowed",
            field=field,
        )
    extension = Path(file_name or "").suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            f"{field.replace('_', ' ')}: only {', '.join(ALLOWED_EXTENSIONS)} files are"
            f" accepted, not {extension or 'a file without extension'}",
            field=field,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                width, height = image.size
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            f"{field.replace('_', ' ')}: the content is not a JPEG, PNG, WebP or GIF image"
            f" (whatever its name says)",
            field=field,
        ) from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationError(
            f"{field.replace('_', ' ')}: the image has too many pixels", field=field
        ) from None
    if kind not in FORMATS:
        raise ValidationError(
            f"{field.replace('_', ' ')}: {kind or 'this'} images are not accepted; use JPEG,"
            " PNG, WebP or GIF",
            field=field,
        )
    stored, names = FORMATS[kind]
    if extension not in names:
        raise ValidationError(
            f"{field.replace('_', ' ')}: the file is named {extension} but its content is"
            f" {kind}; rename it to {stored}",
            field=field,
        )
    if width * height > MAX_PIXELS:
        raise ValidationError(
            f"{field.replace('_', ' ')}: {width}×{height} pixels is more than"
            f" {MAX_PIXELS // 1_000_000} megapixels",
            field=field,
        )
    return stored


def store(data: bytes, extension: str) -> str:
    """Write checked bytes once (same content, same file) and return their upload:// URL.

    Written to a temporary file and renamed, so a reader never sees half a file.
    """
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(data).hexdigest() + extension
    target = folder / name
    if not target.exists():
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return SCHEME + name


def resolve(url: str) -> Path | None:
    """The file behind an upload:// URL, if it is one and it exists."""
    if not url.startswith(SCHEME):
        return None
    name = Path(url[len(SCHEME) :]).name  # never a path outside the folder
    path = uploads_dir() / name
    return path if path.is_file() else None
