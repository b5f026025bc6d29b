"""config.toml: one typed class per section, mistakes named by file and key, paths relative
to the config file, and every key config.toml documents known to the settings classes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.config import SECTIONS, Config, ConfigError, from_dict, load_config
from bot.settings import NluSettings, TelephonySettings

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ('[telephony]\ntrunkk = "sip:pbx"\n', "[telephony] unknown key 'trunkk'"),
    ('[servise]\nport = 1\n', "unknown section [servise]"),
    ('port = 8080\n', "unknown key 'port' outside any [section]"),
    ('[campaigns.retry.no_answer]\nmax_attempt = 2\n', "[campaigns] unknown key 'retry.no_answer.max_attempt'"),
    ('[service]\nport = "abc"\n', "[service] port: expected an integer, got 'abc'"),
    ('[agency]\ncaller_id = 96110\n', "[agency] caller_id: expected a string in quotes, got 96110"),
    ('[console]\nsecure_cookies = "maybe"\n', "[console] secure_cookies: expected true or false"),
    ('[serve]\nlocales = "zh-CN"\n', "[serve] locales: expected a list"),
    ('[telephony]\nlisten = "127.0.0.1:sip"\n', "[telephony] listen: bad address"),
    ('[telephony]\nrtp_ports = "5000-4000"\n', "[telephony] rtp_ports must be two ports"),
    ('[service]\nport = 70000\n', "[service] port must be 0..65535"),
    ('[service\n', "not valid TOML"),
])
def test_a_mistake_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_named_file_is_an_error_and_a_missing_default_gives_defaults(tmp_path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="nope.toml: config file not found"):
        load_config(tmp_path / "nope.toml")
    monkeypatch.delenv("VERIBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert load_config() == Config()


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write(folder, '[service]\nvar_dir = "var"\n[serve]\ndialogs_dir = "../dialogs"\n'
                         '[database]\nurl = "sqlite:///db/veribot.db"\n[speech]\nmodels_dir = "/opt/models"\n'
                         '[campaigns]\naudio_roots = ["audio"]\n[telephony]\ninbound_dialog = "in.yaml"\n')
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = load_config("etc/config.toml")
    assert config.var_dir == folder / "var"
    assert config.serve.dialogs_dir == folder / "../dialogs"
    assert config.database.url == f"sqlite:///{folder / 'db/veribot.db'}"
    assert config.speech.models_dir == Path("/opt/models")
    assert config.campaigns.audio_roots == (folder / "audio",)
    assert config.telephony.inbound_dialog == str(folder / "in.yaml")
    assert config.section("service") == {"var_dir": str(folder / "var")}  # for code still reading dicts
    assert load_config(path).var_dir == folder / "var"


def test_typed_values_defaults_and_agency_caller_id() -> None:
    config = from_dict({"agency": {"caller_id": "12345"}, "telephony": {"listen": "0.0.0.0:5090"},
                        "nlu": {"default_province": "西藏自治区", "default_city": "拉萨市"}})
    assert config.telephony == TelephonySettings(listen=("0.0.0.0", 5090), caller_id="12345")
    assert config.nlu.area == ("西藏自治区", "拉萨市")
    assert NluSettings().area == ("甘肃省", "兰州市") and NluSettings("", "").area == (None, None)
    assert config.service.port == 8080 and config.variables["caller_id"] == "12345"


def documented(text: str) -> dict:
    """config.toml with every commented `key = value` and `[table]` line taken as set
    (the last of repeated keys wins)."""
    data: dict = {}
    table = data
    for line in text.splitlines():
        line = re.sub(r"^#\s?(?=\[|[a-z_]+\s*=)", "", line)
        if m := re.match(r"^\[([a-z_.]+)\]", line):
            table = data
            for part in m.group(1).split("."):
                table = table.setdefault(part, {})
        elif re.match(r"^[a-z_]+\s*=", line):
            table.update(tomllib.loads(line))
    return data


def test_every_key_config_toml_documents_is_known() -> None:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    data = documented(text)
    assert set(data) == set(SECTIONS)
    from_dict(data)  # raises ConfigError naming the first unknown or mistyped key
    from_dict(tomllib.loads(text))
