"""Evidence that a person was given the risk notice: a per-person bundle, hash-chained and signed.

    key = signing_key(config.evidence.key_path or var_dir / "evidence" / "signing.key")  # made on first use, 0600
    bundle = db.run(lambda s: build_bundle(s, person_id, key, audio_roots=[var_dir]), write=False)
    verify_bundle(bundle)            # raises BundleError(reason) if any byte changed

A bundle is JSON: a `header` (format, person, when, the signer's public key), `entries` in
order — the person, each attempt (times, outcome, dialog version, call code), the script
version it ran (its YAML text, when published), every turn (text, who, step, wall time
`at`, line-clock time `line_at`), the audio clips of the notice steps' turns (bytes, base64,
with SHA-256), the whole call's stereo recording when the campaign keeps one (`recording`:
bot left, resident right, on the line clock; named by SHA-256 and size, not embedded), the
answers, and the callbacks — each entry carrying the hash of the one before
(`prev`) and its own (`hash`, SHA-256 of its canonical JSON); `head` is the last hash, and
`signature` is Ed25519 over the header and head. Changing, dropping or reordering anything breaks
a hash or the signature.

Times are the line's: `line_at` of a caller turn is when their answer ended on the line; of a
bot turn, when the line started playing it (`played`: from, to, complete — bot/pipeline/
playback.py), not when the dialog queued it. The bot's notice audio is the exact PCM the line
carried (kept by the pipeline as `bot-NN-notice.wav`); a call made before that was recorded, or
a prompt the line never reached, has `line_at`/`audio` null.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, col, select

from audio.call_recording import recording_path
from storage.models import Attempt, Campaign, DialogVersion, InboundCall, Person, Result, Turn, utcnow

FORMAT = "veribot-evidence/1"
NOTICE_STEPS = ("notice",)
MAX_CLIP_BYTES = 8 * 1024 * 1024


class BundleError(ValueError):
    """The bundle is not intact; the message says where."""


class SigningKeyError(ValueError):
    """The signing key cannot be used (unreadable, not Ed25519, readable by others)."""


# ------------------------------------------------------------ the key
def signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key at `path`, generated on first use (mode 0600, folder 0700); a public copy
    is written beside it as `<name>.pub` (PEM) for whoever checks bundles."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by another process a moment ago
            return signing_key(path)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        path.with_suffix(".pub").write_bytes(public_pem(key.public_key()))
        return key
    if path.stat().st_mode & 0o077:
        raise SigningKeyError(f"{path}: the signing key is readable by others (chmod 600 it)")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path}: not a usable private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _raw_public(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


# ------------------------------------------------------------ the chain
def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def chain(header: dict[str, Any], bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prev = _digest(header)
    out = []
    for body in bodies:
        entry = {**body, "prev": prev}
        entry["hash"] = prev = _digest(entry)
        out.append(entry)
    return out


def sign(header: dict[str, Any], bodies: list[dict[str, Any]], key: Ed25519PrivateKey) -> dict[str, Any]:
    header = {**header, "format": FORMAT, "public_key": _raw_public(key.public_key())}
    entries = chain(header, bodies)
    head = entries[-1]["hash"] if entries else _digest(header)
    signature = key.sign(canonical({"header": header, "head": head}))
    return {"header": header, "entries": entries, "head": head, "signature": base64.b64encode(signature).decode()}


def verify_bundle(bundle: Any, expected_key: Ed25519PublicKey | None = None) -> int:
    """Number of entries of an intact bundle; BundleError naming the first fault otherwise.
    With `expected_key`, the bundle must also be signed by that key (not just any key)."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("header"), dict) \
            or not isinstance(bundle.get("entries"), list):
        raise BundleError("not an evidence bundle (header and entries missing)")
    header = bundle["header"]
    if header.get("format") != FORMAT:
        raise BundleError(f"unknown format {header.get('format')!r} (expected {FORMAT})")
    prev = _digest(header)
    for i, entry in enumerate(bundle["entries"]):
        if not isinstance(entry, dict):
            raise BundleError(f"entry {i}: not an object")
        if entry.get("prev") != prev:
            raise BundleError(f"entry {i} ({entry.get('kind')}): does not follow entry {i - 1} (chain broken)")
        body = {k: v for k, v in entry.items() if k != "hash"}
        if _digest(body) != entry.get("hash"):
            raise BundleError(f"entry {i} ({entry.get('kind')}): content changed (hash mismatch)")
        _check_audio(i, entry)
        prev = entry["hash"]
    if bundle.get("head") != prev:
        raise BundleError("head does not match the last entry (entries added or removed)")
    try:
        raw = base64.b64decode(str(header.get("public_key", "")), validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        public.verify(base64.b64decode(str(bundle.get("signature", "")), validate=True),
                      canonical({"header": header, "head": prev}))
    except (ValueError, InvalidSignature):
        raise BundleError("signature does not verify") from None
    if expected_key is not None and _raw_public(expected_key) != header["public_key"]:
        raise BundleError("signed by another key than the one expected")
    return len(bundle["entries"])


def verify_file(raw: bytes, expected_key: Ed25519PublicKey | None = None) -> tuple[dict[str, Any], int]:
    """A bundle file as `veribot evidence export` wrote it: canonical JSON and a newline, so
    that every byte counts (a changed space is a fault too). ValueError / BundleError."""
    bundle = json.loads(raw)
    if raw.rstrip(b"\n") != canonical(bundle) or not raw.endswith(b"\n") or raw.endswith(b"\n\n"):
        raise BundleError("the file is not in the exported form (bytes changed outside the entries)")
    return bundle, verify_bundle(bundle, expected_key)


def _check_audio(i: int, entry: dict[str, Any]) -> None:
    audio = entry.get("audio")
    if isinstance(audio, dict) and "data" in audio:
        try:
            data = base64.b64decode(str(audio["data"]), validate=True)
        except ValueError:
            raise BundleError(f"entry {i}: audio is not base64") from None
        if hashlib.sha256(data).hexdigest() != audio.get("sha256"):
            raise BundleError(f"entry {i}: audio does not match its SHA-256")


# ------------------------------------------------------------ collecting
def build_bundle(s: Session, person_id: int, key: Ed25519PrivateKey, *, audio_roots: list[Path] = (),
                 notice_steps: tuple[str, ...] = NOTICE_STEPS) -> dict[str, Any]:
    """The signed bundle of one person; LookupError if there is no such person (or purged)."""
    person = s.get(Person, person_id)
    if person is None or person.purged:
        raise LookupError(f"no person {person_id}")
    camp = s.get(Campaign, person.campaign_id)
    bodies: list[dict[str, Any]] = [{
        "kind": "person", "person_id": person.id, "campaign_id": person.campaign_id,
        "campaign": camp.name if camp else None, "name": person.name, "phone": person.phone,
        "risk_category": person.risk_category, "state": person.state,
    }]
    attempts = s.exec(select(Attempt).where(Attempt.person_id == person_id).order_by(col(Attempt.id))).all()
    scripts_done: set[tuple[str, str]] = set()
    for att in attempts:
        bodies.append({
            "kind": "attempt", "attempt_id": att.id, "claimed_at": _iso(att.claimed_at),
            "started_at": _iso(att.started_at), "ended_at": _iso(att.ended_at), "outcome": att.outcome,
            "network_outcome": att.network_outcome, "dialog": att.dialog_name, "dialog_version": att.dialog_version,
            "call_code": att.call_code, "detail": att.detail,
        })
        if att.dialog_name and att.dialog_version and (att.dialog_name, att.dialog_version) not in scripts_done:
            scripts_done.add((att.dialog_name, att.dialog_version))
            bodies.append(_script_entry(s, att.dialog_name, att.dialog_version))
        roots = [Path(r).resolve() for r in (*audio_roots, att.audio_dir) if r]
        for t in s.exec(select(Turn).where(Turn.attempt_id == att.id).order_by(col(Turn.seq))).all():
            bodies.append({
                "kind": "turn", "attempt_id": att.id, "seq": t.seq, "speaker": t.speaker, "step": t.step,
                "turn_kind": t.kind, "text": t.text, "at": _iso(t.at), "line_at": t.line_at,
                "played": (t.parse or {}).get("played") if t.kind == "prompt" else None,
                "audio": _clip(t.audio_path, roots) if t.step in notice_steps and t.audio_path else None,
            })
        whole = recording_path(att.audio_dir)
        if whole is not None and whole.is_file():  # the campaign kept the whole call (record_calls)
            bodies.append({"kind": "recording", "attempt_id": att.id, "channels": ["bot", "resident"],
                           "audio": _clip(str(whole), roots, embed=False)})
    for r in s.exec(select(Result).where(Result.person_id == person_id).order_by(col(Result.id))).all():
        bodies.append({"kind": "result", "attempt_id": r.attempt_id, "slot": r.slot, "value": r.value,
                       "dialog_version": r.dialog_version, "source": r.source, "at": _iso(r.created_at)})
    for c in s.exec(select(InboundCall).where(InboundCall.person_id == person_id).order_by(col(InboundCall.id))).all():
        bodies.append({"kind": "callback", "at": _iso(c.at), "verified": c.verified, "outcome": c.outcome,
                       "code_attempt_id": c.code_attempt_id})
    header = {"person_id": person_id, "created_at": _iso(utcnow()), "notice_steps": list(notice_steps)}
    return sign(header, bodies, key)


def _script_entry(s: Session, name: str, version: str) -> dict[str, Any]:
    row = s.exec(select(DialogVersion).where(DialogVersion.name == name, DialogVersion.version == version)).first()
    text = row.yaml_text if row else None
    return {"kind": "script", "dialog": name, "version": version, "yaml": text,
            "yaml_sha256": hashlib.sha256(text.encode()).hexdigest() if text is not None else None}


def _clip(path: str, roots: list[Path], embed: bool = True) -> dict[str, Any]:
    """The clip's bytes when the file is inside an allowed root; else why it is not there.
    `embed=False` (the whole call, up to tens of MB): named by its SHA-256 and size only."""
    real = Path(path).resolve()
    if not any(real.is_relative_to(r) for r in roots):
        return {"file": Path(path).name, "missing": "outside the audio folders"}
    if not real.is_file():
        return {"file": real.name, "missing": "file not found (purged?)"}
    if not embed:
        with real.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        return {"file": real.name, "sha256": digest, "bytes": real.stat().st_size}
    data = real.read_bytes()
    if len(data) > MAX_CLIP_BYTES:
        return {"file": real.name, "missing": f"larger than {MAX_CLIP_BYTES} bytes",
                "sha256": hashlib.sha256(data).hexdigest()}
    return {"file": real.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "data": base64.b64encode(data).decode()}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
