"""TLS to the server when the URL asks for it, and passwords never in the log or the audit.
A sandbox of its own offers TLS (packaging/pg-sandbox start DIR --tls): PostgreSQL encrypts
TCP connections only, so it listens on 127.0.0.1 too, with a self-signed certificate."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pg_sandbox import SCRIPT, printed_urls

from ptdoc import cli, paths
from ptdoc.store import Store

pytestmark = pytest.mark.server
ADMIN_PASSWORD = "office-manager-pass"


class TlsServer:
    def __init__(self, folder: Path, printed: str):
        self.folder = folder
        self.port = urlsplit(printed_urls(printed)["Workstations"]).port
        self.password = (folder / "password").read_text().strip()
        self.root_cert = folder / "server.crt"

    def url(self, user: str, host: str, options: str, password: str | None = None) -> str:
        secret = f":{password}" if password is not None else ""
        return f"postgresql://{user}{secret}@{host}:{self.port}/ptdoc?{options}"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    if os.environ.get("PTDOC_PG") == "0":
        pytest.skip("PTDOC_PG=0")
    env = dict(os.environ)
    if env.get("PTDOC_PG") != "1":
        env["PTDOC_PG_NO_INSTALL"] = "1"
    folder = Path(tempfile.mkdtemp(prefix="ptdoc-pg-tls-"))
    done = subprocess.run([str(SCRIPT), "start", str(folder), "--tls"], capture_output=True,
                          text=True, timeout=120, env=env)
    try:
        if done.returncode != 0:
            pytest.skip(f"no PostgreSQL server with TLS: {' '.join(done.stderr.split())}")
        yield TlsServer(folder, done.stdout)
    finally:
        subprocess.run([str(SCRIPT), "stop", str(folder)], capture_output=True, timeout=120,
                       check=False)
        shutil.rmtree(folder, ignore_errors=True)


def run(monkeypatch: pytest.MonkeyPatch, capsys, *args: str, stdin: str = "") -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    status = cli.main(list(args))
    out = capsys.readouterr()
    return status, out.out + out.err


def test_sslmode_require_is_encrypted_and_the_password_stays_out_of_log_and_audit(
        tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    secret = tls_server.password
    owner = tls_server.url("ptdoc_owner", "127.0.0.1", "sslmode=require", secret)
    # The first connection, as the owner, makes ptdoc's schema (and logs that, with the URL).
    status, said = run(monkeypatch, capsys, "--db", owner, "user", "add", "admin", "--name",
                       "Office Manager", "--credential", "admin", "--password-stdin",
                       stdin=f"{ADMIN_PASSWORD}\n")
    assert status == 0, said
    with Store.open(owner) as store:
        ssl, version = store.db.raw.execute(  # type: ignore[attr-defined]
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert ssl is True and version.startswith("TLS")

    # A workstation: the certificate checked against the clinic's own (verify-full), the
    # password among the options this time.
    workstation = tls_server.url("ptdoc_app", "localhost",
                                 f"sslmode=verify-full&sslrootcert={tls_server.root_cert}"
                                 f"&password={secret}")
    status, said = run(monkeypatch, capsys, "--db", workstation, "patient", "add", "--mrn", "MRN-7",
                       "--first", "Ann", "--last", "Lee", "--dob", "1950-03-04",
                       "--user", "admin", "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n")
    assert status == 0, said
    wrong = tls_server.url("ptdoc_app", "127.0.0.1", "sslmode=require", f"x{secret}")
    status, said = run(monkeypatch, capsys, "--db", wrong, "patients", "--user", "admin",
                       "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n")
    assert status == 1 and said.count("\n") == 1
    assert "password authentication failed" in said and secret not in said

    log = (paths.log_dir() / "ptdoc.log").read_text()
    assert "ptdoc_owner@127.0.0.1" in log  # the server is named...
    assert secret not in log               # ...never with its password
    with Store.open(owner) as store:
        rows = list(store.db.query("SELECT * FROM audit"))
    assert len(rows) >= 2 and not [row for row in rows if secret in repr(row)]
    assert secret not in said


def test_verify_full_refuses_a_certificate_for_another_name(tls_server: TlsServer,
                                                            monkeypatch, capsys) -> None:
    # The certificate names localhost; an address it does not name is refused, in one line.
    url = tls_server.url("ptdoc_app", "127.0.0.1",
                         f"sslmode=verify-full&sslrootcert={tls_server.root_cert}",
                         tls_server.password)
    status, said = run(monkeypatch, capsys, "--db", url, "patients", "--user", "admin",
                       "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n")
    assert status == 1 and said.count("\n") == 1
    assert "does not match host name" in said and tls_server.password not in said
