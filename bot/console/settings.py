"""The `[console]` settings. The class lives with the other sections in bot/settings.py
(config.toml is checked in one place); re-exported here for console code."""

from bot.settings import ConsoleSettings

__all__ = ["ConsoleSettings"]
