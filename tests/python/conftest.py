"""Starts the real orgcerts binary for the official Python SDK to drive.

The binary is taken from ORGCERTS_BIN (scripts/test sets it after `cargo build`).
Each test gets a fresh server on a fresh SQLite file, with a known bootstrap admin key.
"""

import datetime
import json
import os
import secrets
import string
import subprocess
import tempfile
import threading

import openai
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ALPHABET = string.ascii_letters + string.digits


def admin_key() -> str:
    return "sk-admin-" + "".join(secrets.choice(ALPHABET) for _ in range(48))


class Server:
    def __init__(self, binary: str, db_dir: str):
        self.key = admin_key()
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": f"sqlite://{db_dir}/orgcerts.sqlite3",
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
        for line in self.proc.stderr:
            self._record(line)
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("fields", {}).get("message") == "listening":
                return record["fields"]["addr"]
        raise RuntimeError("orgcerts exited before listening:\n" + "".join(self.log))

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self._record(line)

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
    binary = os.environ.get("ORGCERTS_BIN", "target/debug/orgcerts")
    with tempfile.TemporaryDirectory() as db_dir:
        srv = Server(binary, db_dir)
        try:
            yield srv
        finally:
            srv.stop()


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
