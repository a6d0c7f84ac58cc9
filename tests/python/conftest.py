"""Starts the real orgcerts binary for the official Python SDK to drive.

The binary is taken from ORGCERTS_BIN (scripts/test sets it after `cargo build`).
Each test gets a fresh server with a known bootstrap admin key, on a fresh database: an SQLite
file, or with ORGCERTS_TEST_ENGINE=postgres a PostgreSQL schema of its own on the server
ORGCERTS_TEST_POSTGRES_URL names (default postgres://postgres@127.0.0.1:5432/test), created and
dropped with `psql`, the same way as the Rust harnesses (orgcerts-testkit's `database`).
"""

import contextlib
import datetime
import json
import os
import secrets
import string
import subprocess
import tempfile
import threading
import time

import openai
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ALPHABET = string.ascii_letters + string.digits


def admin_key() -> str:
    return "sk-admin-" + "".join(secrets.choice(ALPHABET) for _ in range(48))


def postgres_url() -> str:
    return os.environ.get(
        "ORGCERTS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
    )


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", postgres_url(), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        timeout=30,
    )


def with_search_path(url: str, schema: str) -> str:
    """`url` with the schema as search path (and no fsync per commit: tests only)."""
    separator = "&" if "?" in url else "?"
    return (
        f"{url}{separator}options=-c%20search_path%3D{schema}"
        "%20-c%20synchronous_commit%3Doff"
    )


@contextlib.contextmanager
def fresh_database():
    """A database URL for one test, on the engine ORGCERTS_TEST_ENGINE names."""
    engine = os.environ.get("ORGCERTS_TEST_ENGINE", "sqlite") or "sqlite"
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as db_dir:
            yield f"sqlite://{db_dir}/orgcerts.sqlite3"
    elif engine == "postgres":
        schema = "t_" + "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(20)
        )
        psql(f"CREATE SCHEMA {schema}")
        try:
            yield with_search_path(postgres_url(), schema)
        finally:
            psql(
                "SET client_min_messages = warning; SET lock_timeout = '5s'; "
                f"DROP SCHEMA IF EXISTS {schema} CASCADE"
            )
    else:
        raise ValueError(f"ORGCERTS_TEST_ENGINE={engine!r}: use sqlite or postgres")


def orgcerts_binary() -> str:
    """The orgcerts binary under test: ORGCERTS_BIN, or the debug build of this checkout."""
    return os.environ.get("ORGCERTS_BIN", "target/debug/orgcerts")


class Server:
    def __init__(self, binary: str, database_url: str):
        self.key = admin_key()
        # Other processes of a test (the gateway) share the server's database.
        self.database_url = database_url
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": database_url,
                "ORGCERTS_BOOTSTRAP_ADMIN_KEY": self.key,
                "ORGCERTS_LOG_FORMAT": "json",
                "ORGCERTS_LISTEN": "127.0.0.1:0",
            }
        )
        self.proc = subprocess.Popen(
            [binary, "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        # scripts/test collects every client's request log, for the compatibility table.
        compat_dir = os.environ.get("ORGCERTS_COMPAT_DIR")
        self.compat_log = open(os.path.join(compat_dir, "python.log"), "a") if compat_dir else None
        self.addr = self._wait_for_listening()
        # Keep draining stderr so the server never blocks on a full pipe.
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _record(self, line: str) -> None:
        self.log.append(line)
        if self.compat_log:
            self.compat_log.write(line)
            self.compat_log.flush()

    def _wait_for_listening(self) -> str:
        return listening_address(self.proc, self._record, self.log, "orgcerts")

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self._record(line)

    def request_count(self) -> int:
        """How many requests the server has logged so far."""
        return sum(1 for line in list(self.log) if '"request"' in line)

    def wait_for_requests(self, at_least: int, timeout: float = 10.0) -> int:
        """Waits until the server has logged `at_least` requests; returns the count."""
        deadline = time.monotonic() + timeout
        while (count := self.request_count()) < at_least:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} requests logged, expected {at_least}")
            time.sleep(0.01)
        return count

    @property
    def base_url(self) -> str:
        return f"http://{self.addr}/v1"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.drain.join(timeout=5)
        if self.compat_log:
            self.compat_log.close()


@pytest.fixture
def server():
    with fresh_database() as database_url:
        srv = Server(orgcerts_binary(), database_url)
        try:
            yield srv
        finally:
            srv.stop()
        # Secrets never reach the log: not the admin key, not a PEM body.
        log = "".join(srv.log)
        assert srv.key not in log, "the admin key appeared in the server log"
        assert "BEGIN CERTIFICATE" not in log, "PEM content appeared in the server log"


@pytest.fixture
def client(server):
    """The official SDK, strict: any response field of the wrong shape fails the test."""
    return openai.OpenAI(
        admin_api_key=server.key,
        api_key="unused-by-admin-routes",
        base_url=server.base_url,
        max_retries=0,
        _strict_response_validation=True,
    )


def make_ca(name: str, *, days_valid: int = 365, ca: bool = True) -> str:
    """A self-signed certificate in PEM, minted now so that it never expires in the repo."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days_valid))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def listening_address(proc, record, log: list[str], name: str) -> str:
    """The address of the JSON `listening` line an `orgcerts` process logs on stderr once it
    listens; every line read goes to `record`, which keeps it in `log`."""
    for line in proc.stderr:
        record(line)
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("fields", {}).get("message") == "listening":
            return entry["fields"]["addr"]
    raise RuntimeError(f"{name} exited before listening:\n" + "".join(log))
