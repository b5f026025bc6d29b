"""The dialer: claims, scheduling policy, test calls, and why a campaign is (not) dialling."""
