"""`bench --data esc50|urbansound8k` without a local copy: soundata's own downloader (checksums, unpacking)
against a localhost HTTP server serving archives the test builds from the real shared clips in each dataset's
published archive layout; then tinyhil finds the folder and reads it.  No outside network is used."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import tarfile
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from datafolders import esc50_copy, urbansound8k_copy
from harness.data import datasets
from harness.data.fetch import data_folder
from harness.data.metadata import dataset_rows
from tests.conftest import require_shared

soundata = pytest.importorskip("soundata", reason="soundata is not installed (pip install 'tinyhil[datasets]')")


@pytest.fixture()
def server(tmp_path):
    """(folder served, base URL) of a localhost HTTP server, stopped after the test."""
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *a: None
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _serve_from(module, served: Path, base: str, archive: Path, unpack: str, index_dir: Path, monkeypatch) -> None:
    """Point soundata's dataset ``module`` at ``archive`` and a one-clip index on the localhost server."""
    from soundata import core, download_utils

    index = served / f"{module.__name__.rsplit('.', 1)[-1]}_index_test.json"
    index.write_text(json.dumps({"version": "test", "clips": {}}))
    idx = core.Index(filename=index.name, url=f"{base}/{index.name}", checksum=_md5(index))
    idx.indexes_dir = str(index_dir)  # not into the installed package
    idx.remote = download_utils.RemoteFileMetadata(index.name, f"{base}/{index.name}", _md5(index),
                                                   destination_dir=str(index_dir))
    monkeypatch.setitem(module.INDEXES, module.INDEXES["default"], idx)
    monkeypatch.setattr(module, "REMOTES", {"all": download_utils.RemoteFileMetadata(
        archive.name, f"{base}/{archive.name}", _md5(archive), unpack_directories=[unpack])})


def test_soundata_downloads_both_datasets_into_the_cache_and_bench_reads_them(server, tmp_path, monkeypatch):
    from soundata.datasets import esc50 as sd_esc50, urbansound8k as sd_us8k

    clips = require_shared("audio/esc50-cc0")
    served, base = server
    src = tmp_path / "src"
    esc50_copy(clips, src / "ESC-50-master", folds=[1, 2])
    with zipfile.ZipFile(served / "ESC-50-master.zip", "w") as zf:
        for f in sorted((src / "ESC-50-master").rglob("*")):
            zf.write(f, f.relative_to(src))
    urbansound8k_copy(clips, src / "UrbanSound8K", folds=[1, 10])
    with tarfile.open(served / "UrbanSound8K.tar.gz", "w:gz") as tf:
        tf.add(src / "UrbanSound8K", arcname="UrbanSound8K")
    shutil.rmtree(src)
    _serve_from(sd_esc50, served, base, served / "ESC-50-master.zip", "ESC-50-master", tmp_path / "idx", monkeypatch)
    _serve_from(sd_us8k, served, base, served / "UrbanSound8K.tar.gz", "UrbanSound8K", tmp_path / "idx", monkeypatch)
    monkeypatch.delenv("TINYHIL_LOCAL_DIR", raising=False)
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "cache"))

    esc = data_folder("esc50")
    assert esc == tmp_path / "cache" / "datasets" / "esc50"
    assert [c.fold for c in datasets.esc50(esc)] == [1, 2, 1, 2, 1, 2, 1]
    us8k = data_folder("urbansound8k")
    assert us8k == tmp_path / "cache" / "datasets" / "urbansound8k"
    rows = dataset_rows(us8k, "urbansound8k", [10])
    assert len(rows) == 3 and all(r.path.is_file() and r.path.parent.name == "fold10" for r in rows)
    (served / "ESC-50-master.zip").unlink()  # a second call finds the cache, downloads nothing
    assert data_folder("esc50") == esc


def test_a_failed_download_is_one_line_naming_the_local_override(server, tmp_path, monkeypatch):
    from soundata.datasets import esc50 as sd_esc50

    served, base = server
    archive = served / "ESC-50-master.zip"
    archive.write_bytes(b"not a zip")
    _serve_from(sd_esc50, served, base, archive, "ESC-50-master", tmp_path / "idx", monkeypatch)
    archive.unlink()  # the server now answers 404
    monkeypatch.delenv("TINYHIL_LOCAL_DIR", raising=False)
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(datasets.DatasetError) as exc:
        data_folder("esc50")
    assert "\n" not in str(exc.value) and "soundata could not download esc50" in str(exc.value)
    assert "TINYHIL_LOCAL_DIR/audio/esc50" in str(exc.value)
