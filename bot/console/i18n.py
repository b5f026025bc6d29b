"""The console's languages: Chinese (zh-CN) first, English (en-US) second.

Every string a user reads is an English msgid marked for translation (`{% trans %}` /
`_()` in templates, `gettext()` here); the Chinese text lives in
`bot/console/locale/zh_CN/LC_MESSAGES/messages.po`. The .po source is compiled in memory
when the console starts (Babel's reader and writer), so no binary catalog is committed
or can go stale. The locale of a request: the `lang` cookie a user chose in the header,
else the browser's Accept-Language, else zh-CN.

After changing a message: `pybabel extract -F bot/console/babel.cfg -k N_ -k msg
-o /tmp/messages.pot bot/console bot/campaigns/dialing`, then `pybabel update -i /tmp/messages.pot -d
bot/console/locale` and translate the new entries (tests/console/test_i18n.py fails while
one is missing).
"""

from __future__ import annotations

import gettext
import io
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("zh-CN", "en-US")
DEFAULT = "zh-CN"
LANG_COOKIE = "lang"
DEFAULT_ZONE = "Asia/Shanghai"


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "messages.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of `locale` (English msgids: en-US needs none)."""
    path = catalog_path(locale)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale.replace("-", "_"))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def parse_accept_language(header: str) -> list[str]:
    """Language tags in the client's order of preference (q=0 left out). Hand-written:
    aiohttp has no parser and this is a few lines."""
    tags: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            tags.append((-q, i, tag.strip()))
    return [t for _, _, t in sorted(tags)]


def supported(tag: str) -> str | None:
    """The console locale for a language tag: any Chinese is zh-CN, any English en-US."""
    lang = tag.lower().replace("_", "-").split("-")[0]
    return {"zh": "zh-CN", "en": "en-US"}.get(lang)


def negotiate(accept_language: str, chosen: str = "") -> str:
    if chosen in LOCALES:
        return chosen
    for tag in parse_accept_language(accept_language):
        if (found := supported(tag)) is not None:
            return found
    return DEFAULT


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def local_time(t: datetime | None, tz: str | None = None, seconds: bool = False) -> str:
    """yyyy-mm-dd HH:MM in the given zone (stored times are UTC, naive ones too)."""
    if t is None:
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def zone_label(tz: str | None = None) -> str:
    """`Asia/Shanghai, UTC+08:00`: the zone times are shown in."""
    z = zone(tz)
    offset = datetime.now(z).strftime("%z")
    return f"{z.key}, UTC{offset[:3]}:{offset[3:]}"
