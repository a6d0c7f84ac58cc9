"""`orgcerts gateway` driven by the official Python SDK (`openai`) and by curl.

Each test starts `orgcerts serve` and `orgcerts gateway` on one fresh database, with a fake
OpenAI-compatible upstream behind the gateway (stdlib `http.server`, HTTP/1.1, in a thread) that
answers chat completions, streamed or not, and records what it received. The certificates are
minted here with `cryptography`: the organization's client CA, client leaves issued by it (one
without an Authority Key Identifier), an unrelated CA with a leaf of its own, and a separate CA
for the gateway's own server certificate (127.0.0.1).
"""

import datetime
import ipaddress
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import openai
import pytest
from conftest import ALPHABET, listening_address, orgcerts_binary
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MODEL = "gpt-test"
STREAMED = ["Hello", ", ", "world"]
ANSWER = "pong"
HOLD_HEADER = "X-Hold-Last-Event"
# How long the gateway may take to see a trust change (it polls every 50 ms here).
TRUST_CHANGE_SECONDS = 1.0


# --- certificates -------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
        now + datetime.timedelta(days=30)
    )


@dataclass
class Minted:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


def make_root(common_name: str) -> Minted:
    """A self-signed EC P-256 CA with a Subject Key Identifier."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    cert = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Minted(cert, key)


def issue_leaf(
    issuer: Minted,
    common_name: str,
    *,
    usage: x509.ObjectIdentifier,
    ip: str | None = None,
    with_aki: bool = True,
) -> Minted:
    """An EC P-256 end-entity certificate for `usage` (clientAuth or serverAuth)."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if with_aki:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
    return Minted(builder.sign(issuer.key, hashes.SHA256()), key)


def write_pair(directory: Path, stem: str, pair: Minted) -> tuple[str, str]:
    """Writes `stem`.crt and `stem`.key (PKCS#8, unencrypted); returns their paths."""
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_text(pair.pem)
    key_path.write_bytes(
        pair.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@dataclass
class Pki:
    org_ca: Minted  # uploaded and activated: the organization's client CA
    other_ca: Minted  # never uploaded
    gateway_ca: str  # what clients trust for the gateway's server certificate
    gateway_pair: tuple[str, str]
    client: tuple[str, str]  # clientAuth leaf of org_ca, with AKI
    other_client: tuple[str, str]  # clientAuth leaf of other_ca, with AKI
    no_aki_client: tuple[str, str]  # clientAuth leaf of org_ca, without AKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    org_ca = make_root("Example Org Client CA")
    other_ca = make_root("Unrelated CA")
    tls_ca = make_root("Gateway TLS CA")
    (directory / "gateway-ca.crt").write_text(tls_ca.pem)
    client = ExtendedKeyUsageOID.CLIENT_AUTH
    return Pki(
        org_ca=org_ca,
        other_ca=other_ca,
        gateway_ca=str(directory / "gateway-ca.crt"),
        gateway_pair=write_pair(
            directory,
            "gateway",
            issue_leaf(tls_ca, "gateway", usage=ExtendedKeyUsageOID.SERVER_AUTH, ip="127.0.0.1"),
        ),
        client=write_pair(directory, "client", issue_leaf(org_ca, "client", usage=client)),
        other_client=write_pair(
            directory, "other-client", issue_leaf(other_ca, "other client", usage=client)
        ),
        no_aki_client=write_pair(
            directory,
            "no-aki-client",
            issue_leaf(org_ca, "client without AKI", usage=client, with_aki=False),
        ),
    )


# --- the fake upstream --------------------------------------------------------------------


def _chunk(content: str | None, finish_reason: str | None = None) -> dict:
    delta = {} if content is None else {"role": "assistant", "content": content}
    return {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion() -> dict:
    return {
        "id": "chatcmpl-whole",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict


class Upstream:
    """An OpenAI-compatible upstream answering `POST /v1/chat/completions`.

    A streamed request carrying `X-Hold-Last-Event` makes it wait, before the last event, until
    `release` is set (at most 10 s); whether it was set in time goes to `held`.
    """

    def __init__(self):
        self.requests: list[Received] = []
        self.release = threading.Event()
        self.held: list[bool] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def _send_json(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _write_chunk(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def _stream(self, hold: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                events = [_chunk(part) for part in STREAMED] + [_chunk(None, "stop")]
                for index, event in enumerate(events):
                    if hold and index == len(events) - 1:
                        upstream.held.append(upstream.release.wait(10))
                    self._write_chunk(f"data: {json.dumps(event)}\n\n".encode())
                self._write_chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def do_POST(self):
                raw = self._body()
                body = json.loads(raw) if raw else {}
                headers = {name.lower(): value for name, value in self.headers.items()}
                upstream.requests.append(Received(self.path, headers, body))
                if self.path != "/v1/chat/completions":
                    error = {"message": "Unknown path.", "type": "invalid_request_error"}
                    self._send_json(404, {"error": error})
                elif body.get("stream"):
                    self._stream(hold=HOLD_HEADER.lower() in headers)
                else:
                    self._send_json(200, _completion())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


# --- the gateway --------------------------------------------------------------------------


class Gateway:
    """`orgcerts gateway` on the server's database, in front of `upstream`."""

    def __init__(self, database_url: str, pki: Pki, upstream_url: str, upstream_key: str):
        env = dict(os.environ)
        env["DATABASE_URL"] = database_url
        cert, key = pki.gateway_pair
        self.proc = subprocess.Popen(
            [
                orgcerts_binary(),
                "gateway",
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                cert,
                "--tls-key",
                key,
                "--upstream",
                upstream_url,
                "--upstream-api-key",
                upstream_key,
                "--log-format",
                "json",
                "--trust-poll-ms",
                "50",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        self.addr = self._wait_for_listening()
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _wait_for_listening(self) -> str:
        return listening_address(self.proc, self.log.append, self.log, "the gateway")

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    @property
    def base_url(self) -> str:
        return f"https://{self.addr}/v1"

    def requests_logged(self) -> list[dict]:
        """The `fields` of every request line logged so far."""
        logged = []
        for line in list(self.log):
            try:
                fields = json.loads(line).get("fields", {})
            except ValueError:
                continue
            if fields.get("message") == "request":
                logged.append(fields)
        return logged

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.drain.join(timeout=5)


@pytest.fixture
def upstream():
    fake = Upstream()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def upstream_key() -> str:
    return "sk-upstream-" + "".join(secrets.choice(ALPHABET) for _ in range(32))


@pytest.fixture
def gateway(server, upstream, upstream_key, pki):
    gw = Gateway(server.database_url, pki, upstream.url, upstream_key)
    try:
        yield gw
    finally:
        gw.stop()
    assert upstream_key not in "".join(gw.log), "the upstream key appeared in the gateway log"


@dataclass
class Tenant:
    project_id: str
    key: str


def make_tenant(client, name: str) -> Tenant:
    org = client.admin.organization
    project = org.projects.create(name=name).id
    account = org.projects.service_accounts.create(project, name=f"{name} bot")
    return Tenant(project, account.api_key.value)


@pytest.fixture
def tenant(client) -> Tenant:
    return make_tenant(client, "Gateway")


@pytest.fixture
def connect(gateway, pki):
    """Makes SDK clients of the gateway, with a client certificate or none; closes them after.

    A client whose requests get refused uses a connection per request (`keep_alive=False`): the
    gateway may close a connection after a refusal without saying so (see
    test_a_refusal_before_the_body_says_whether_the_connection_stays), and a request sent on it
    meanwhile fails with a connection error.
    """
    made: list[openai.OpenAI] = []

    def make(
        key: str, cert: tuple[str, str] | None = None, *, keep_alive: bool = True
    ) -> openai.OpenAI:
        context = ssl.create_default_context(cafile=pki.gateway_ca)
        if cert is not None:
            context.load_cert_chain(*cert)
        options = {"verify": context}
        if not keep_alive:
            options["limits"] = httpx2.Limits(max_keepalive_connections=0)
        sdk = openai.OpenAI(
            api_key=key,
            base_url=gateway.base_url,
            max_retries=0,
            http_client=openai.DefaultHttpxClient(**options),
            _strict_response_validation=True,
        )
        made.append(sdk)
        return sdk

    yield make
    for sdk in made:
        sdk.close()


def chat(sdk: openai.OpenAI) -> str:
    completion = sdk.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "ping"}]
    )
    return completion.choices[0].message.content


def outcome(sdk: openai.OpenAI) -> str:
    """`passed` when a chat completion goes through, else the status and code the gateway gave."""
    try:
        assert chat(sdk) == ANSWER
        return "passed"
    except openai.APIStatusError as err:
        return f"{err.status_code} {err.code}"


def wait_for(sdk: openai.OpenAI, expected: str, timeout: float = TRUST_CHANGE_SECONDS) -> None:
    """Waits until a request of `sdk` has `expected` outcome: the gateway saw a trust change."""
    deadline = time.monotonic() + timeout
    while (seen := outcome(sdk)) != expected:
        assert time.monotonic() < deadline, f"still {seen!r} after {timeout} s, not {expected!r}"
        time.sleep(0.02)


def activate(client, scope: str, certificate_id: str, project_id: str) -> None:
    org = client.admin.organization
    if scope == "organization":
        org.certificates.activate(certificate_ids=[certificate_id])
    else:
        org.projects.certificates.activate(project_id, certificate_ids=[certificate_id])


def deactivate(client, scope: str, certificate_id: str, project_id: str) -> None:
    org = client.admin.organization
    if scope == "organization":
        org.certificates.deactivate(certificate_ids=[certificate_id])
    else:
        org.projects.certificates.deactivate(project_id, certificate_ids=[certificate_id])


def upload(client, pki: Pki) -> str:
    return client.admin.organization.certificates.create(
        certificate=pki.org_ca.pem, name="Client CA"
    ).id


# --- the tests ----------------------------------------------------------------------------


def test_streamed_chat_completion_through_the_gateway(
    client, gateway, upstream, upstream_key, pki, tenant, connect
):
    certificate_id = upload(client, pki)
    activate(client, "project", certificate_id, tenant.project_id)
    wait_for(connect(tenant.key, keep_alive=False), "401 certificate_required")
    sdk = connect(tenant.key, pki.client)

    parts, finish_reasons = [], []
    stream = sdk.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
        extra_headers={HOLD_HEADER: "1"},
    )
    with stream:
        for chunk in stream:
            assert chunk.object == "chat.completion.chunk" and chunk.model == MODEL
            choice = chunk.choices[0]
            if choice.delta.content:
                parts.append(choice.delta.content)
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
            # The upstream holds its last event until the first one has arrived here: a gateway
            # that buffered the answer would keep it waiting out its 10 s.
            upstream.release.set()
    assert "".join(parts) == "".join(STREAMED)
    assert finish_reasons == ["stop"]
    assert upstream.held == [True], "the first event arrived only after the whole stream"

    sent = upstream.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["stream"] is True and sent.body["model"] == MODEL
    assert sent.body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert sent.headers["authorization"] == f"Bearer {upstream_key}"
    assert not any(tenant.key in value for value in sent.headers.values())
    assert "client-cert" not in sent.headers

    # The gateway logs the stream as verified by the uploaded CA, and never the client's key.
    deadline = time.monotonic() + 5
    while not (verified := [r for r in gateway.requests_logged() if r["outcome"] == "verified"]):
        assert time.monotonic() < deadline, "no verified request in the gateway log"
        time.sleep(0.02)
    assert verified[-1]["certificate_id"] == certificate_id
    assert verified[-1]["project_id"] == tenant.project_id
    assert tenant.key not in "".join(gateway.log)


@pytest.mark.parametrize("scope", ["project", "organization"])
def test_client_certificates_once_the_ca_is_active(client, gateway, pki, tenant, connect, scope):
    neighbour = make_tenant(client, "Neighbour")
    bare = connect(tenant.key, keep_alive=False)
    # Pooled: its requests before and after the activation normally share one connection, and
    # each is judged on its own.
    certified = connect(tenant.key, pki.client)
    foreign = connect(tenant.key, pki.other_client, keep_alive=False)
    no_aki = connect(tenant.key, pki.no_aki_client, keep_alive=False)

    # Nothing active: every request passes, whatever the client presents.
    certificate_id = upload(client, pki)
    assert [outcome(sdk) for sdk in (bare, certified, foreign, no_aki)] == ["passed"] * 4

    activate(client, scope, certificate_id, tenant.project_id)
    wait_for(bare, "401 certificate_required")
    with pytest.raises(openai.AuthenticationError) as err:
        chat(bare)
    assert err.value.code == "certificate_required"
    assert err.value.body["type"] == "invalid_request_error" and err.value.param is None
    assert err.value.response.headers["x-should-retry"] == "false"

    assert chat(certified) == ANSWER
    with pytest.raises(openai.AuthenticationError) as err:
        chat(foreign)
    assert err.value.code == "certificate_verification_failed"
    with pytest.raises(openai.AuthenticationError) as err:
        chat(no_aki)
    assert err.value.code == "invalid_certificate"

    # A project's CA serves that project alone; the organization's serves all of its projects.
    expected = "passed" if scope == "project" else "401 certificate_required"
    assert outcome(connect(neighbour.key, keep_alive=False)) == expected

    deactivate(client, scope, certificate_id, tenant.project_id)
    wait_for(bare, "passed")
    assert outcome(connect(neighbour.key)) == "passed"


def curl(
    gateway,
    pki,
    key: str,
    body: dict,
    cert: tuple[str, str] | None = None,
    *,
    http1: bool = False,
):
    """POSTs `body` to the gateway's chat completions with curl: (status, content type, body).

    curl offers HTTP/2 and the gateway takes it, unless `http1`.
    """
    command = [
        "curl",
        "--http1.1" if http1 else "--http2",
        "--silent",
        "--show-error",
        "--no-buffer",
        "--max-time",
        "30",
        "--cacert",
        pki.gateway_ca,
        "--header",
        f"Authorization: Bearer {key}",
        "--header",
        "Content-Type: application/json",
        "--data",
        json.dumps(body),
        "--write-out",
        "\n%{http_code} %{content_type}",
    ]
    if cert is not None:
        command += ["--cert", cert[0], "--key", cert[1]]
    done = subprocess.run(
        [*command, f"{gateway.base_url}/chat/completions"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text, _, trailer = done.stdout.rpartition("\n")
    status, _, content_type = trailer.partition(" ")
    return int(status), content_type, text


@pytest.mark.skipif(shutil.which("curl") is None, reason="the curl binary is not installed")
def test_curl_with_and_without_a_client_certificate(client, gateway, pki, tenant, connect):
    certificate_id = upload(client, pki)
    activate(client, "project", certificate_id, tenant.project_id)
    wait_for(connect(tenant.key, keep_alive=False), "401 certificate_required")
    request = {"model": MODEL, "messages": [{"role": "user", "content": "ping"}]}

    # Over HTTP/1.1: over HTTP/2 the gateway may answer before curl has sent the body, then
    # reset the stream with NO_ERROR as RFC 9113 8.1 allows, and curl 7.88 drops such an answer
    # (exit 92) instead of reading it.
    status, content_type, text = curl(gateway, pki, tenant.key, request, http1=True)
    assert status == 401 and content_type.startswith("application/json")
    error = json.loads(text)["error"]
    assert error["code"] == "certificate_required"
    assert error["type"] == "invalid_request_error" and error["param"] is None

    status, content_type, text = curl(gateway, pki, tenant.key, request, pki.client)
    assert status == 200 and content_type.startswith("application/json")
    answer = json.loads(text)
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == ANSWER

    status, content_type, text = curl(
        gateway, pki, tenant.key, {**request, "stream": True}, pki.client
    )
    assert status == 200 and content_type.startswith("text/event-stream")
    events = [event for event in text.split("\n\n") if event]
    assert all(event.startswith("data: ") for event in events)
    events = [event.removeprefix("data: ") for event in events]
    assert events[-1] == "[DONE]"
    deltas = [json.loads(event)["choices"][0]["delta"].get("content", "") for event in events[:-1]]
    assert "".join(deltas) == "".join(STREAMED)


def test_a_refused_request_leaves_its_connection_usable_or_says_it_ends(
    client, gateway, pki, tenant, connect
):
    """A refused request whose body follows its head (as the SDK sends it): the connection
    takes the next request. One whose body does not come: the answer says `Connection: close`
    (a client reusing the connection would otherwise fail)."""
    certificate_id = upload(client, pki)
    activate(client, "project", certificate_id, tenant.project_id)
    wait_for(connect(tenant.key, keep_alive=False), "401 certificate_required")
    body = json.dumps({"model": MODEL, "messages": []}).encode()
    host, port = gateway.addr.rsplit(":", 1)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {gateway.addr}\r\n"
        f"Authorization: Bearer {tenant.key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    context = ssl.create_default_context(cafile=pki.gateway_ca)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            for attempt in range(2):
                tls.sendall(head)
                tls.sendall(body)  # a write of its own, as the SDK's
                answer = read_response(tls)
                assert answer.startswith(b"HTTP/1.1 401 "), f"request {attempt}: {answer!r}"
                assert b"certificate_required" in answer
                assert b"\r\nconnection: close\r\n" not in answer.lower()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(head)  # the head alone: the body never comes
            answer = read_response(tls)
            assert answer.startswith(b"HTTP/1.1 401 ") and b"certificate_required" in answer
            assert b"\r\nconnection: close\r\n" in answer.lower(), answer


def read_response(tls: ssl.SSLSocket) -> bytes:
    """One HTTP/1.1 answer with a Content-Length, or what came before the connection ended."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = tls.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(rest) < length:
            chunk = tls.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest
    except (ssl.SSLError, OSError):
        return data


def test_an_attribute_filter_set_through_extra_body_refuses_then_accepts(
    client, gateway, pki, tenant, connect
):
    """The official SDK sets a certificate's attribute filter with `extra_body` (an orgcerts
    extension); the gateway answers 403 while the filter refuses the client certificate, and
    passes it once the filter is changed to accept it."""
    certificates = client.admin.organization.certificates
    certificate_id = certificates.create(
        certificate=pki.org_ca.pem,
        name="Filtered CA",
        extra_body={"attribute_filter": "subject.common_name == 'billing'"},
    ).id
    activate(client, "project", certificate_id, tenant.project_id)
    wait_for(connect(tenant.key, keep_alive=False), "401 certificate_required")

    # The client certificate chains to the active CA, but its common name is "client".
    certified = connect(tenant.key, pki.client, keep_alive=False)
    with pytest.raises(openai.PermissionDeniedError) as err:
        chat(certified)
    assert err.value.status_code == 403
    assert err.value.code == "certificate_attribute_verification_failed"
    assert err.value.body["type"] == "invalid_request_error"
    assert err.value.response.headers["x-should-retry"] == "false"

    # An invalid filter is refused where it is saved, and changes nothing.
    with pytest.raises(openai.BadRequestError) as err:
        certificates.update(
            certificate_id, extra_body={"attribute_filter": "subject.common_name = 'client'"}
        )
    assert err.value.code == "mtls_cel_policy_invalid"
    assert err.value.param == "attribute_filter"
    assert "column" in err.value.message
    assert outcome(certified) == "403 certificate_attribute_verification_failed"

    certificates.update(
        certificate_id,
        extra_body={"attribute_filter": "subject.common_name in ['billing', 'client']"},
    )
    wait_for(certified, "passed")
    saved = certificates.retrieve(certificate_id, extra_query={"include[]": "attribute_filter"})
    assert saved.model_extra["attribute_filter"] == "subject.common_name in ['billing', 'client']"
