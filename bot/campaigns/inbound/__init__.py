"""Residents calling back: callbacks, call codes, their replies, and inbound SIP legs kept in storage."""
