"""`veribot evidence export --person ID -o FILE` and `veribot evidence verify FILE`.

export: the person's signed evidence bundle (bot/campaigns/people/evidence.py) as JSON; the signing
  key is `[evidence] key_path` (default <var_dir>/evidence/signing.key), made on first use.
verify: exit 0 and one line (entries, person, key fingerprint) when the bundle is intact;
  exit 1 and the reason on stderr when any byte changed. `--public-key PEM` also requires the
  bundle to be signed by that key (the desk's published `signing.pub`).
A missing file, bad config or unknown person is a user error (exit 2)."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from bot.cli import UserError


def register(sub: Any) -> None:
    ev = sub.add_parser("evidence", help="signed evidence bundles of the risk notice")
    esub = ev.add_subparsers(dest="evidence_cmd", metavar="ACTION", required=True)
    p = esub.add_parser("export", help="write one person's signed, hash-chained evidence bundle")
    p.add_argument("--person", required=True, type=_person_id, help="person id (as the console shows it)")
    p.add_argument("-o", "--output", required=True, type=Path, help="bundle file to write (JSON)")
    p.add_argument("--config", help="config.toml path (default ./config.toml or $VERIBOT_CONFIG)")
    p.set_defaults(func=cmd_export)
    p = esub.add_parser("verify", help="check a bundle: exit 0 intact, 1 with the reason otherwise")
    p.add_argument("file", type=Path, help="bundle file")
    p.add_argument("--public-key", type=Path, help="PEM public key the bundle must be signed with")
    p.add_argument("--config", help="config.toml: the bundle must be signed by this desk's key "
                                    "([evidence] key_path; ignored with --public-key)")
    p.set_defaults(func=cmd_verify)


def _person_id(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise argparse.ArgumentTypeError(f"{text!r} is not a person id")
    return int(text)


def key_path(config: Any) -> Path:
    return config.evidence.key_path or config.var_dir / "evidence" / "signing.key"


def cmd_export(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from bot.campaigns.people.evidence import SigningKeyError, build_bundle, canonical, signing_key
    from bot.config import load_config
    from storage.db import Database

    config = load_config(args.config)
    try:
        key = signing_key(key_path(config))
    except (SigningKeyError, OSError) as exc:
        raise UserError(f"signing key: {exc}") from None
    db = Database.from_config(config)
    try:
        db.upgrade()
        roots = [config.var_dir, *config.campaigns.audio_roots]
        bundle = db.run(lambda s: build_bundle(s, args.person, key, audio_roots=roots), write=False)
    except LookupError:
        raise UserError(f"no person {args.person}") from None
    except OperationalError as exc:
        raise UserError(f"database unavailable: {type(exc.orig).__name__ if exc.orig else exc}") from None
    finally:
        db.dispose()
    data = canonical(bundle) + b"\n"  # the one serialization verify accepts: no byte is free
    tmp = args.output.with_name(args.output.name + ".part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, args.output)
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"{args.output}: {len(bundle['entries'])} entries, head {bundle['head'][:16]}, "
          f"key {_fingerprint(bundle['header']['public_key'])}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from bot.campaigns.people.evidence import BundleError, verify_file

    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    expected = None
    if args.public_key is not None:
        try:
            expected = serialization.load_pem_public_key(args.public_key.read_bytes())
        except (OSError, ValueError) as exc:
            raise UserError(f"--public-key {args.public_key}: {exc}") from None
        if not isinstance(expected, Ed25519PublicKey):
            raise UserError(f"--public-key {args.public_key}: not an Ed25519 key")
    elif args.config is not None:
        expected = _desk_key(args.config)
    try:
        bundle, n = verify_file(raw, expected)
    except (ValueError, BundleError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = str(exc) if isinstance(exc, BundleError) else f"not valid JSON ({exc})"
        print(f"veribot evidence verify: {args.file}: NOT INTACT: {reason}", file=sys.stderr)
        return 1
    print(f"{args.file}: intact, {n} entries, person {bundle['header'].get('person_id')}, "
          f"key {_fingerprint(bundle['header']['public_key'])}")
    return 0


def _desk_key(config_path: str) -> Any:
    """The public half of the desk's signing key ([evidence] key_path of the config)."""
    from bot.campaigns.people.evidence import SigningKeyError, signing_key
    from bot.config import load_config

    path = key_path(load_config(config_path))
    if not path.exists():  # not made here: generating one now would prove nothing
        raise UserError(f"--config {config_path}: no signing key at {path} (this desk never exported a bundle)")
    try:
        return signing_key(path).public_key()
    except (SigningKeyError, OSError) as exc:
        raise UserError(f"signing key: {exc}") from None


def _fingerprint(public_b64: str) -> str:
    return hashlib.sha256(public_b64.encode()).hexdigest()[:16]
