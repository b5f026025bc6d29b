"""`veribot models fetch`: a real download over HTTP from a local server, checked and
unpacked atomically."""

import hashlib
import http.server
import io
import threading
import zipfile

import pytest

from audio import models


def model_zip(name="vosk-model-test", extra=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{name}/am/final.mdl", b"acoustic model")
        zf.writestr(f"{name}/graph/words.txt", "<eps> 0\n네 1\n")
        for path, data in (extra or {}).items():
            zf.writestr(path, data)
    return buf.getvalue()


@pytest.fixture
def server():
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield files, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_verifies_and_unpacks(server, tmp_path):
    files, base = server
    data = model_zip()
    files["/m.zip"] = data
    path = models.fetch("en-US", tmp_path, url=f"{base}/m.zip", sha256=hashlib.sha256(data).hexdigest(),
                        size=len(data))
    assert path == tmp_path / "vosk-model-small-en-us-0.15"
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic model"
    assert models.model_path("en-US", tmp_path) == path
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no staging left behind


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    files, base = server
    files["/m.zip"] = model_zip()
    with pytest.raises(models.FetchError, match="SHA-256 mismatch"):
        models.fetch("en-US", tmp_path, url=f"{base}/m.zip", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_size_mismatch_is_refused(server, tmp_path):
    files, base = server
    data = model_zip()
    files["/m.zip"] = data
    with pytest.raises(models.FetchError, match=f"got {len(data)} bytes, expected 5"):
        models.fetch("en-US", tmp_path, url=f"{base}/m.zip", sha256=hashlib.sha256(data).hexdigest(), size=5)


def test_unpinned_archive_is_refused_with_its_checksum(server, tmp_path):
    files, base = server
    data = model_zip()
    files["/cn.zip"] = data
    with pytest.raises(models.FetchError, match=hashlib.sha256(data).hexdigest()):
        models.fetch("zh-CN", tmp_path, url=f"{base}/cn.zip")
    assert not (tmp_path / "vosk-model-small-cn-0.22").exists()


def test_unsafe_archive_paths_are_refused(server, tmp_path):
    files, base = server
    data = model_zip(extra={"../evil.txt": b"x"})
    files["/bad.zip"] = data
    with pytest.raises(models.FetchError, match="unsafe path"):
        models.fetch("en-US", tmp_path, url=f"{base}/bad.zip", sha256=hashlib.sha256(data).hexdigest())
    assert not (tmp_path.parent / "evil.txt").exists()


def test_http_error_is_a_fetch_error(server, tmp_path):
    _, base = server
    with pytest.raises(models.FetchError, match="404"):
        models.fetch("en-US", tmp_path, url=f"{base}/missing.zip", sha256="0" * 64)


def test_missing_model_names_the_fetch_command(tmp_path):
    with pytest.raises(models.ModelMissing, match="veribot models fetch zh-CN"):
        models.model_path("zh-CN", tmp_path)


def test_unknown_locale():
    with pytest.raises(models.ModelMissing, match="no speech model known"):
        models.model_path("xx-XX")


def test_ko_model_comes_from_its_package():
    assert (models.model_path("ko-KR") / "am" / "final.mdl").exists()


def test_cli_fetch_from_file_url(tmp_path, capsys):
    from bot.cli import main

    data = model_zip()
    archive = tmp_path / "m.zip"
    archive.write_bytes(data)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[speech]\nmodels_dir = "{tmp_path / "models"}"\n')
    rc = main(["models", "fetch", "en-US", "--config", str(cfg), "--url", archive.as_uri(),
               "--sha256", hashlib.sha256(data).hexdigest()])
    assert rc == 0
    assert main(["models", "path", "en-US", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "vosk-model-small-en-us-0.15" in out
    assert main(["models", "path", "zh-CN", "--config", str(cfg)]) == 1


def test_missing_report_names_what_hears_meanwhile_and_the_fetch_command(tmp_path):
    lines = models.missing_report(tmp_path)
    zh = [line for line in lines if line.startswith("speech model for zh-CN")]
    assert len(zh) == 1 and "Whisper base hears it" in zh[0] and "`veribot models fetch zh-CN`" in zh[0]
    assert not any("ko-KR" in line for line in lines)  # installed from its pip package
