"""Whisper's decoding batched across calls whose turns end together.

The recognition pool (audio/scheduler.py) hands a thread every queued turn end of the same
Whisper model at once (`RecognitionPool(batch=…)`); each is worked on as alone (its own
recognizer, its own choice among its n-best), each on a thread of its own, but their `generate`
calls meet here and run as one batch per window size: CTranslate2 decodes a batch of equal-shaped
encoder outputs for less CPU per answer than one by one (benchmarks/whisper_cost.py), while the
encoder gains nothing from batching and runs per answer as before.

`BatchingModel` wraps the process's `ctranslate2.models.Whisper` (PhoneWhisper.model): outside a
batch it is the model; inside one (a thread joined to a `Meeting`) `generate` waits until every
member of the meeting has either handed in its decoding or left without one (an answer that
needed none: silence, or the words settled at the pause), then one member decodes for all.
Hand-written: a barrier whose size shrinks as members leave is not what threading.Barrier is."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

_local = threading.local()


class Meeting:
    """`size` threads, each decoding at most once, whose generate calls are run as batches."""

    def __init__(self, size: int, timeout: float = 120.0) -> None:
        self.size = size
        self.timeout = timeout
        self._cv = threading.Condition()
        self._requests: list[dict[str, Any]] = []
        self._left = 0
        self._running = False

    def join(self) -> _Member:
        return _Member(self)

    def _ready(self) -> bool:
        return len(self._requests) + self._left >= self.size

    def _leave(self) -> None:
        with self._cv:
            self._left += 1
            self._cv.notify_all()

    def decode(self, model, features, prompt: list[int], kwargs: dict) -> Any:
        """One member's generate(features [1, …], [prompt], **kwargs): its own result, decoded in a
        batch with the others of the same shape and options."""
        req = {"features": np.array(features), "prompt": prompt, "kwargs": kwargs, "done": False}
        with self._cv:
            self._requests.append(req)
            self._cv.notify_all()
            if not self._cv.wait_for(lambda: req["done"] or (self._ready() and not self._running), self.timeout):
                raise TimeoutError("batched Whisper decoding: the other members never came")
            if not req["done"]:  # this member decodes everything still waiting
                self._running = True
                todo = [r for r in self._requests if not r["done"]]
        if not req["done"]:
            try:
                _run_batches(model, todo)
            finally:
                with self._cv:
                    for r in todo:
                        r["done"] = True
                    self._running = False
                    self._cv.notify_all()
        if "error" in req:
            raise req["error"]
        return req["result"]


class _Member:
    def __init__(self, meeting: Meeting) -> None:
        self.meeting = meeting

    def __enter__(self) -> _Member:
        _local.meeting, _local.decoded = self.meeting, False
        return self

    def __exit__(self, *exc: object) -> None:
        decoded = getattr(_local, "decoded", False)
        _local.meeting = None
        if not decoded:
            self.meeting._leave()


def _run_batches(model, requests: list[dict[str, Any]]) -> None:
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in requests:  # CTranslate2 batches equal shapes, and prompts of one length (its start token
        # must be at the same position in all): in a call centre, calls at the same question
        key = (r["features"].shape, len(r["prompt"]),
               tuple(sorted((k, v) for k, v in r["kwargs"].items() if k != "max_length")))
        groups.setdefault(key, []).append(r)
    for group in groups.values():
        try:
            _decode(model, group)
        except Exception:  # decoded one by one: each member gets its own result or error
            if len(group) == 1:
                group[0]["error"] = sys.exc_info()[1]
                continue
            for r in group:
                try:
                    _decode(model, [r])
                except Exception as exc:
                    r["error"] = exc


def _decode(model, group: list[dict[str, Any]]) -> None:
    import ctranslate2

    kwargs = dict(group[0]["kwargs"])
    kwargs["max_length"] = max(r["kwargs"].get("max_length", 448) for r in group)
    feats = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.concatenate([r["features"] for r in group])))
    results = model.generate(feats, [r["prompt"] for r in group], **kwargs)
    for r, res in zip(group, results, strict=True):
        r["result"] = [_Trimmed(res, r["kwargs"].get("max_length", 448) - len(r["prompt"]))]


class _Trimmed:
    """A batch member's result cut to its own length limit (the batch ran to the longest)."""

    def __init__(self, result, max_new: int) -> None:
        self._result = result
        self.sequences_ids = [ids[:max_new] for ids in result.sequences_ids]
        self.scores = list(result.scores) if result.scores else []

    def __getattr__(self, name: str):
        return getattr(self._result, name)


BATCHED_OPTIONS = frozenset({"beam_size", "num_hypotheses", "max_length", "return_scores", "suppress_blank",
                             "patience", "length_penalty"})  # a generate with other options runs alone


class BatchingModel:
    """The Whisper model, with generate() batched inside a Meeting (see the module's text)."""

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def generate(self, features, prompts, **kwargs):
        meeting: Meeting | None = getattr(_local, "meeting", None)
        if (meeting is None or len(prompts) != 1 or getattr(_local, "decoded", False)
                or not BATCHED_OPTIONS.issuperset(kwargs)):
            return self._model.generate(features, prompts, **kwargs)
        _local.decoded = True
        return meeting.decode(self._model, features, list(prompts[0]), kwargs)


def together(jobs: list[Callable[[], None]], pool: Any) -> None:
    """Run `jobs` (each one call's turn end) at once as members of one Meeting: the first on this
    thread, the others on `pool` (a ThreadPoolExecutor); returns when all are done."""
    meeting = Meeting(len(jobs))

    def member(job: Callable[[], None]) -> None:
        with meeting.join():
            job()

    futures = [pool.submit(member, job) for job in jobs[1:]]
    member(jobs[0])
    for f in futures:
        f.result()
