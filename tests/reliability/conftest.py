"""Fixtures of the reliability tests."""

from __future__ import annotations

import pytest

from tests.reliability.smallfs import mounted


@pytest.fixture
def small_fs(tmp_path):
    """A 4 MB tmpfs (the tests run as root in CI, as scripts/test.sh does)."""
    with mounted(tmp_path / "fs") as mnt:
        yield mnt


from tests.telephony.conftest import make_endpoint  # noqa: E402,F401  (SIP endpoints on free loopback ports)
