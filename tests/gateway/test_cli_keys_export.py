"""`hedui keys export` publishes existing keys and never creates them behind the audit log."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import app
from gateway.keyring import KeyRing


def test_export_refuses_an_empty_key_directory(tmp_path: Path) -> None:
    """Without keys the command exits 1 and leaves the directory empty."""
    key_dir = tmp_path / "keys"
    result = CliRunner().invoke(app, ["keys", "export"], env={"HEDUI_KEY_DIR": str(key_dir)})
    assert result.exit_code == 1
    assert not key_dir.exists()


def test_export_prints_the_current_key_with_its_id(tmp_path: Path) -> None:
    """With keys present the PEM is printed after a line naming its key id."""
    keys = KeyRing(tmp_path)
    public = keys.public_keys("report")[0]
    result = CliRunner().invoke(app, ["keys", "export"], env={"HEDUI_KEY_DIR": str(tmp_path)})
    assert result.exit_code == 0
    assert f"# keyid: {public.keyid}" in result.output
    assert public.pem in result.output
