"""The `veribot` command as a user meets it, each run through the real console script in a
subprocess: a user error is one line on stderr and exit 2 (never a traceback), logs only
with -v, every subcommand has help, empty lists say so, erasing a person asks first."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VERIBOT = Path(sys.executable).parent / "veribot"
ZH = str(REPO / "dialogs" / "verification.zh-CN.yaml")


def veribot(*args: str, stdin: str = "", cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VERIBOT_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([str(VERIBOT), *args], input=stdin, capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)


def one_line_error(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    for word in words:
        assert word in out.stderr, out.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[agency]\nbadge = "6201-0427"\n[service]\nvar_dir = "var"\n[campaigns]\nwindow_start = "00:00"\nwindow_end = "00:00"\n',
                    encoding="utf-8")
    return path


def test_serve_with_a_missing_config_file_says_so() -> None:
    one_line_error(veribot("serve", "--config", "/nonexistent.toml"), "/nonexistent.toml", "not found")


def test_an_unreadable_config_says_so(tmp_path: Path) -> None:
    one_line_error(veribot("campaigns", "list", "--config", str(tmp_path)), str(tmp_path), "cannot read")


def test_a_bad_value_or_unknown_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[service]\nport = "abc"\n', encoding="utf-8")
    one_line_error(veribot("serve", "--config", str(bad)), f"{bad}: [service] port: expected an integer")
    bad.write_text('[telephony]\ntrunkk = "sip:pbx"\n', encoding="utf-8")
    one_line_error(veribot("campaigns", "list", "--config", str(bad)), f"{bad}: [telephony] unknown key 'trunkk'")


def test_serve_on_a_busy_port_says_so(config: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config.write_text(config.read_text() + "[serve]\nsip = false\ndialer = false\n")
        out = veribot("serve", "--config", str(config), "--port", str(port))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"veribot serve: cannot listen on 127.0.0.1:{port}" in out.stderr


def test_users_add_without_a_terminal_points_to_password_stdin(config: Path) -> None:
    one_line_error(veribot("users", "add", "wang", "--role", "admin", "--config", str(config)), "--password-stdin")
    out = veribot("users", "add", "wang", "--role", "admin", "--password-stdin", "--config", str(config),
                  stdin="a long enough passphrase 1\n")
    assert out.returncode == 0, out.stderr


def test_lint_with_a_model_not_fetched_says_how_to_fetch_it(tmp_path: Path) -> None:
    os.environ["VERIBOT_MODELS_DIR"] = str(tmp_path / "no-models")  # read by the subprocess
    try:
        one_line_error(veribot("dialogs", "lint", ZH, "--model", "zh-CN"), "veribot models fetch zh-CN")
    finally:
        del os.environ["VERIBOT_MODELS_DIR"]


def test_bad_json_and_missing_files_are_one_line(tmp_path: Path, config: Path) -> None:
    one_line_error(veribot("simulate", "--dialog", ZH, "--person", "{name: x}", "--answers", os.devnull),
                   "--person is not valid JSON")
    one_line_error(veribot("nlu", "--batch", str(tmp_path / "none.jsonl")), "none.jsonl", "No such file")
    one_line_error(veribot("people", "import", str(tmp_path / "none.csv"), "--campaign", "c", "--config", str(config)),
                   "none.csv")
    one_line_error(veribot("softphone", "--listen", "127.0.0.1:0", "--answers", str(tmp_path / "none.txt")),
                   "none.txt")


def test_quiet_by_default_logs_with_v(config: Path) -> None:
    first = veribot("campaigns", "list", "--config", str(config))  # migrates a fresh database
    assert first.returncode == 0 and first.stderr == "no campaigns\n" and first.stdout == ""
    loud = veribot("campaigns", "list", "-v", "--config", str(config))
    assert "INFO alembic" in loud.stderr


def test_empty_lists_say_so(config: Path) -> None:
    assert veribot("users", "list", "--config", str(config)).stderr.startswith("no users")
    assert veribot("results", "dead-letters", "--config", str(config)).stderr == "no dead letters\n"
    assert json.loads(veribot("campaigns", "list", "--json", "--config", str(config)).stdout) == []


def test_every_subcommand_has_help() -> None:
    from bot.cli import build_parser

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {a.dest for a in action._choices_actions if a.help}
                for name, child in action.choices.items():
                    assert name in helped, f"veribot {' '.join((*path, name))} has no help"
                    found += [(*path, name), *walk(child, (*path, name))]
        return found

    commands = walk(build_parser(), ())
    assert ("campaigns", "start") in commands and len(commands) > 20
    out = veribot("campaigns", "--help")
    assert out.returncode == 0 and "start dialling" in out.stdout


def test_purge_of_one_person_asks_unless_yes(tmp_path: Path, config: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话\n张三,13800138000\n", encoding="utf-8")
    assert veribot("people", "import", str(people), "--campaign", "c1", "--config", str(config)).returncode == 0
    one_line_error(veribot("purge", "--phone", "13800138000", "--config", str(config)), "--yes")
    status = json.loads(veribot("campaigns", "status", "c1", "--json", "--config", str(config)).stdout)
    assert status["people"] == 1
    out = veribot("purge", "--phone", "13800138000", "--yes", "--json", "--config", str(config))
    assert out.returncode == 0 and json.loads(out.stdout)["people"] == 1


COMPLETE = ["是的", "兰州市城关区张掖路1号", "绿码", "没有", "两次", "阴性", "知道了"]


def test_answer_files_take_both_key_syntaxes(tmp_path: Path) -> None:
    records = []
    for keys in (["dtmf:1", "<silence>"], ["/dtmf 1", "/silence"]):
        answers = tmp_path / "answers.txt"
        answers.write_text("\n".join([*keys, "<hangup>" if keys[0] == "dtmf:1" else "/hangup"]) + "\n",
                           encoding="utf-8")
        out = veribot("simulate", "--dialog", ZH, "--person", '{"name":"张伟"}', "--answers", str(answers), "--json")
        assert out.returncode == 0, out.stderr
        records.append(json.loads(out.stdout))
    assert records[0] == records[1]
    assert records[0]["slots"]["identity"] == "yes" and records[0]["outcome"] == "hung_up"
    assert not [t for t in records[1]["transcript"] if t["text"].startswith("/")]  # keys, not speech


def test_interactive_simulate_stops_after_the_goodbye_with_a_summary() -> None:
    typed = "\n".join([*COMPLETE, "不该再问"]) + "\n"
    out = veribot("simulate", "--dialog", ZH, "--person", '{"name":"张伟"}', stdin=typed)
    assert out.returncode == 0, out.stderr
    goodbye = out.stdout.index("再见")
    assert "you>" not in out.stdout[goodbye:]  # no prompt after the goodbye
    assert re.fullmatch(r"call ended: completed; 7 answer\(s\) kept; \d+ turns", out.stdout.rstrip().splitlines()[-1])


def test_the_nlu_area_of_the_config_places_an_ambiguous_district(tmp_path: Path) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("是的\n城关区 北京 路 1 号\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    cities = []
    for area in ("", '[nlu]\ndefault_province = "西藏自治区"\ndefault_city = "拉萨市"\n'):
        config.write_text(area, encoding="utf-8")
        out = veribot("simulate", "--dialog", ZH, "--person", '{"name":"张伟"}', "--answers", str(answers),
                      "--json", "--config", str(config))
        assert out.returncode == 0, out.stderr
        cities.append(json.loads(out.stdout)["slots"]["residence"]["city"])
    assert cities == ["兰州市", "拉萨市"]


def test_prompts_render_speaks_the_agency_of_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[agency]\nname = "서울시 방역본부"\ncallback_number = "120"\n', encoding="utf-8")
    out = veribot("prompts", "render", "--dialog", str(REPO / "dialogs" / "verification.ko-KR.yaml"),
                  "--person", '{"name": "김민수"}', "--out", str(tmp_path / "prompts"), "--config", str(config),
                  timeout=300)
    assert out.returncode == 0, out.stderr
    texts = " ".join(p["text"] for p in json.loads((tmp_path / "prompts" / "index.json").read_text(encoding="utf-8")))
    assert "서울시 방역본부" in texts and "일 이 공" in texts  # 120, said digit by digit (dialogs/system.ko-KR.yaml)


def test_serve_names_a_busy_sip_port_and_a_missing_inbound_dialog(config: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        base = config.read_text() + f'[serve]\ndialer = false\n[speech]\nmodels_dir = "none"\n' \
                                    f'[telephony]\nlisten = "127.0.0.1:{port}"\n'
        config.write_text(base + 'inbound_dialog = "missing.yaml"\n')
        out = veribot("serve", "--config", str(config), "--port", "0")
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert "veribot serve: [telephony] inbound_dialog: " in out.stderr and "missing.yaml" in out.stderr
        config.write_text(base + f'inbound_dialog = "{ZH}"\n')
        out = veribot("serve", "--config", str(config), "--port", "0")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"veribot serve: cannot listen for SIP on 127.0.0.1:{port}" in out.stderr


def test_files_that_are_not_utf8_are_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'[agency]\nname = "\xc0\xeb"\n')  # GBK, not UTF-8
    one_line_error(veribot("serve", "--config", str(config)), "config.toml: not UTF-8 text")
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes('{"text": "是的"}\n'.encode("gbk"))
    one_line_error(veribot("nlu", "--batch", str(batch)), "batch.jsonl: not UTF-8 text")


def test_bad_ports_and_a_broken_workbook_are_one_line(tmp_path: Path, config: Path) -> None:
    out = veribot("serve", "--config", str(config), "--port", "70000")
    assert out.returncode == 2 and "not a port number" in out.stderr and "Traceback" not in out.stderr
    answers = tmp_path / "answers.txt"
    answers.write_text("dtmf:1\n", encoding="utf-8")
    one_line_error(veribot("softphone", "--listen", "127.0.0.1:70000", "--answers", str(answers)),
                   "[telephony] listen: bad address")
    book = tmp_path / "people.xlsx"
    book.write_bytes(b"not a zip")
    out = veribot("people", "import", str(book), "--campaign", "c", "--config", str(config))
    assert out.returncode == 1 and "people.xlsx: rejected, nothing imported" in out.stderr
    assert "Traceback" not in out.stderr
