"""People of a campaign: list import, do-not-call suppression, follow-ups, retention, evidence bundles."""
