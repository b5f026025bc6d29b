"""The `[telephony]` settings. The class lives with the other sections in bot/settings.py
(config.toml is checked in one place); re-exported here for telephony code."""

from bot.privacy import Secret
from bot.settings import TelephonySettings

__all__ = ["Secret", "TelephonySettings"]
