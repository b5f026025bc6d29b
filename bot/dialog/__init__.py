"""The dialog core: script loading, lint, state machine. Pure: no audio, network or database."""
