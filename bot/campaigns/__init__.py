"""Campaigns: people lists, the crash-safe dialer, results export/webhook, retention."""
