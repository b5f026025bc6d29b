"""issue 22's CLI nits: `prompts render -o`, and an unknown `--region` (or [campaigns] region)
refused with one clear line instead of accepted silently."""

from __future__ import annotations

import pytest

from bot.cli import main


def test_prompts_render_takes_o_for_out(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["prompts", "render", "--help"])
    assert "-o OUT, --out OUT" in capsys.readouterr().out


def test_an_unknown_region_is_refused_in_one_line(tmp_path, capsys) -> None:
    people = tmp_path / "p.csv"
    people.write_text("name,phone\nA,13800000001\n", encoding="utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["people", "import", str(people), "--campaign", "x", "--region", "XX", "--config", str(cfg)])
    assert info.value.code == 2
    assert "argument --region: unknown region 'XX'" in capsys.readouterr().err
    cfg.write_text('[campaigns]\nregion = "XX"\n', encoding="utf-8")
    assert main(["campaigns", "list", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "[campaigns] region: unknown region 'XX'" in err
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n[campaigns]\nregion = "hk"\n', encoding="utf-8")
    assert main(["campaigns", "list", "--config", str(cfg)]) == 0
