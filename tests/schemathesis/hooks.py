"""Schemathesis hooks for orgcerts: the data a JSON Schema cannot describe.

Random strings are not certificates, and random ids name nothing, so:

- every `certificate` string in an upload body becomes a fresh CA certificate (PEM), minted here
  with `cryptography`. Only strings within the overlay's 16 KiB are replaced: a longer one, a
  `certificate` of another type or a missing one is the negative case schemathesis meant and stays
  as generated. Schemathesis revalidates a case after hooks, so a case stays positive or negative
  as its other fields make it.
- every `after` cursor becomes the id of an object the organization has: docs/contract.md makes an
  `after` naming nothing a 400, which a schema cannot express (unknown cursors are covered by the
  Rust integration tests). In ascending order it is the oldest (run.py seeds one certificate and
  one project before the run), in descending order the newest, so that the page is not empty.

  The admin key list pages in the same way (ascending from the run's own key, the oldest;
  descending from the newest). The audit log lists newest first: `after` becomes the newest
  entry, `before` the oldest (run.py finds it after seeding), so that neither page is empty
  (with both, the page is everything between them). A project's service account and API key
  lists are reached through links from a project created during the run, whose objects no seeded
  id names: their `after` is left out.

Nothing here touches names, ids in paths or `certificate_ids`: unknown ids are a 404, which every
check accepts, and the ids of objects created during the run are found by schemathesis itself.

The certificate run.py seeds for the overlay's project link is not deleted: a deletion aimed at it
is aimed at a certificate uploaded for it instead, so that the link keeps working.

The admin key the run authenticates with is never deleted (`before_call`, which sees every request
schemathesis sends, stateful steps included): deleting it is allowed and takes effect at once, so
every later request would be a 401. A deletion aimed at it is aimed at a key created for it
instead. The second organization's key cannot be deleted by the first one (a 404), and no request
is sent as the second organization but object_level_authorization's replays of reads.

A created key's `value`, admin or service account key, is masked (`after_call`, before any check, report or output sees the
response) once it has the contract's form, which the mask keeps: nothing the run writes holds a
usable key.

Two kinds of failure are dropped (`filter_failure`), each only when the server's own state shows
that the answer was right; README.md here lists them with their reasons. What that takes is
recorded as the run goes (`before_call`, `after_call`): the ids each creation answered with, and
which requests were sent for a project that was already archived.
"""

import datetime
import os
import re
import secrets
import urllib.parse

import requests
import schemathesis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

UPLOAD = ("POST", "/organization/certificates")
MAX_CERTIFICATE_CHARS = 16384  # spec/overlay.yaml, from docs/contract.md
CERTIFICATE_LISTS = {"/organization/certificates", "/organization/projects/{project_id}/certificates"}
PROJECT_LIST = "/organization/projects"


def make_ca(name: str) -> str:
    """A self-signed CA certificate valid from yesterday for a year, in PEM."""
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
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


DELETE = ("DELETE", "/organization/certificates/{certificate_id}")
KEY_LIST = "/organization/admin_api_keys"
KEY_CREATE = ("POST", KEY_LIST)
KEY_DELETE = ("DELETE", "/organization/admin_api_keys/{key_id}")
AUDIT_LOGS = "/organization/audit_logs"
PROJECT_SCOPED_LISTS = {
    "/organization/projects/{project_id}/service_accounts",
    "/organization/projects/{project_id}/api_keys",
}
SERVICE_ACCOUNT_KEY_CREATES = {
    ("POST", "/organization/projects/{project_id}/service_accounts"),
    ("POST", "/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys"),
}
SERVICE_ACCOUNT_KEY_VALUE = re.compile(rb'"value":"sk-svcacct-[A-Za-z0-9]{64}"')
MASKED_SERVICE_ACCOUNT_VALUE = b'"value":"sk-svcacct-' + b"0" * 64 + b'"'
# The contract's form of an admin key, in a response body, and its same-length mask.
KEY_VALUE = re.compile(rb'"value":"sk-admin-[A-Za-z0-9]{48}"')
MASKED_VALUE = b'"value":"sk-admin-' + b"0" * 48 + b'"'


@schemathesis.hook
def map_case(context, case):
    operation = (case.operation.method.upper(), case.operation.path)
    certificate = case.body.get("certificate") if isinstance(case.body, dict) else None
    if operation == UPLOAD and isinstance(certificate, str) and len(certificate) <= MAX_CERTIFICATE_CHARS:
        case.body = {**case.body, "certificate": make_ca(f"schemathesis {secrets.token_hex(4)}")}
    if operation == DELETE and (case.path_parameters or {}).get("certificate_id") == os.environ["ORGCERTS_PROJECT_CERTIFICATE_ID"]:
        case.path_parameters = {**case.path_parameters, "certificate_id": _new_certificate()}
    if case.operation.method.upper() == "GET" and isinstance(case.query, dict) and isinstance(case.query.get("after"), str):
        if case.operation.path in CERTIFICATE_LISTS:
            if case.query.get("order") == "asc":
                after = os.environ["ORGCERTS_SEED_CERTIFICATE_ID"]
            else:
                newest = (_server_get("/organization/certificates?limit=1") or {}).get("first_id")
                after = newest or os.environ["ORGCERTS_SEED_CERTIFICATE_ID"]
            case.query = {**case.query, "after": after}
        elif case.operation.path == PROJECT_LIST:  # ascending, the only order it has
            case.query = {**case.query, "after": os.environ["ORGCERTS_SEED_PROJECT_ID"]}
        elif case.operation.path == KEY_LIST:
            if case.query.get("order") == "desc":
                newest = (_server_get(f"{KEY_LIST}?order=desc&limit=1") or {}).get("first_id")
                after = newest or os.environ["ORGCERTS_ADMIN_KEY_ID"]
            else:  # ascending, the default: the run's own key is the oldest, and never deleted
                after = os.environ["ORGCERTS_ADMIN_KEY_ID"]
            case.query = {**case.query, "after": after}
    if case.operation.method.upper() == "GET" and case.operation.path in PROJECT_SCOPED_LISTS and isinstance(case.query, dict):
        # A project's own lists: the project comes from a link, and no seeded id is of it, so an
        # `after` (which must name an object of that project) is left out.
        case.query = {k: v for k, v in case.query.items() if k != "after"}
    if case.operation.method.upper() == "GET" and case.operation.path == AUDIT_LOGS and isinstance(case.query, dict):
        query = dict(case.query)
        if isinstance(query.get("after"), str):  # newest first: older entries follow the newest
            newest = (_server_get(f"{AUDIT_LOGS}?limit=1") or {}).get("first_id")
            query["after"] = newest or os.environ["ORGCERTS_OLDEST_AUDIT_LOG_ID"]
        if isinstance(query.get("before"), str):  # newer entries precede the oldest
            query["before"] = os.environ["ORGCERTS_OLDEST_AUDIT_LOG_ID"]
        case.query = query
    return case


# The operations the contract refuses for an archived project (400, param `project_id`):
# modification, activation of certificates for it, and listing, creating and updating its
# service accounts and creating their keys. Nothing else.
ARCHIVED_REFUSALS = {
    ("POST", "/organization/projects/{project_id}"),
    ("POST", "/organization/projects/{project_id}/certificates/activate"),
    ("GET", "/organization/projects/{project_id}/service_accounts"),
    ("POST", "/organization/projects/{project_id}/service_accounts"),
    ("POST", "/organization/projects/{project_id}/service_accounts/{service_account_id}"),
    ("POST", "/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys"),
}
# Creations, and the path of the GET that finds what each created.
CREATIONS = {
    UPLOAD: "/organization/certificates/{}",
    ("POST", PROJECT_LIST): "/organization/projects/{}",
    KEY_CREATE: KEY_LIST + "/{}",
}
# Ids the run's creations answered with (to the GET path that finds each), and the ids of the
# cases that were sent for a project already archived at the time (archiving cannot be undone,
# so the project was archived when the request arrived too).
created_ids: dict[str, str] = {}
# The operation ("METHOD /path", as schemathesis names it) that created each of those ids.
created_by: dict[str, str] = {}
sent_for_archived_project: set[str] = set()


@schemathesis.hook
def before_call(context, case, kwargs):
    """Aims a deletion of the run's own admin key at a key created for it (see the docstring);
    notes a request the contract refuses for an archived project, sent for one archived already."""
    operation = (case.operation.method.upper(), case.operation.path)
    if operation == KEY_DELETE and (case.path_parameters or {}).get("key_id") == os.environ["ORGCERTS_ADMIN_KEY_ID"]:
        case.path_parameters = {**case.path_parameters, "key_id": _new_admin_key()}
    project_id = (case.path_parameters or {}).get("project_id")
    if operation in ARCHIVED_REFUSALS and isinstance(project_id, str):
        status, project = _lookup(f"/organization/projects/{_quote(project_id)}")
        if status == 200 and project.get("status") == "archived":
            sent_for_archived_project.add(case.id)


@schemathesis.hook
def after_call(context, case, response):
    """Masks a created key's value in place (same length, same form); see the docstring.
    Records the id each successful creation answered with."""
    operation = (case.operation.method.upper(), case.operation.path)
    if operation in CREATIONS and response.status_code == 200:
        try:
            created = response.json().get("id")
        except (ValueError, AttributeError):
            created = None
        if isinstance(created, str):
            created_ids[created] = CREATIONS[operation].format(_quote(created))
            created_by[created] = f"{operation[0]} {operation[1]}"
    if operation in SERVICE_ACCOUNT_KEY_CREATES and response.status_code == 200:
        masked = SERVICE_ACCOUNT_KEY_VALUE.sub(MASKED_SERVICE_ACCOUNT_VALUE, response.content)
        if masked != response.content:
            response.content = masked
            response.clear_cache()
    if operation == KEY_CREATE and response.status_code == 200:
        masked = KEY_VALUE.sub(MASKED_VALUE, response.content)
        if masked != response.content:
            response.content = masked
            response.clear_cache()


def _new_certificate() -> str:
    response = requests.post(
        os.environ["ORGCERTS_BASE_URL"] + "/organization/certificates",
        json={"name": "to delete instead of the seeded certificate", "certificate": make_ca("stand-in")},
        headers={"Authorization": f"Bearer {os.environ['ORGCERTS_ADMIN_KEY']}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["id"]


def _new_admin_key() -> str:
    """The id of a new key of the first organization; its value is not kept."""
    response = requests.post(
        os.environ["ORGCERTS_BASE_URL"] + KEY_LIST,
        json={"name": "to delete instead of the run's own key"},
        headers={"Authorization": f"Bearer {os.environ['ORGCERTS_ADMIN_KEY']}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["id"]


def _server_get(path: str):
    """The body of a 200 to a GET as the run's organization; None for any other answer (for
    choosing data only: the failure filters use `_lookup`, which tells the answers apart)."""
    status, body = _lookup(path)
    return body if status == 200 else None


def _lookup(path: str) -> tuple[int, dict]:
    """A GET as the run's organization: its status and JSON body (empty when not JSON)."""
    response = requests.get(
        os.environ["ORGCERTS_BASE_URL"] + path,
        headers={"Authorization": f"Bearer {os.environ['ORGCERTS_ADMIN_KEY']}"},
        timeout=10,
    )
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


def _exists(path: str) -> bool:
    return _lookup(path)[0] == 200


def _absent_certificate(certificate_id) -> bool:
    """Whether the server answers a GET of this certificate with the contract's 404 for an
    unknown id; a 200, a 429, a 5xx or another envelope is not \"absent\"."""
    if not isinstance(certificate_id, str):
        return False
    if certificate_id == "":
        # No certificate has an empty id (and `GET /organization/certificates/` is another route).
        return True
    status, body = _lookup(f"/organization/certificates/{_quote(certificate_id)}")
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    return (
        status == 404
        and error.get("type") == "invalid_request_error"
        and error.get("param") == "certificate_id"
        and error.get("code") is None
        and isinstance(error.get("message"), str)
    )


def _error(response) -> dict:
    try:
        return response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {}


def _quote(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but these two, each checked against the server's own state:

    1. positive_data_acceptance, the contract's 400 with param `project_id` from an operation the
       contract refuses for an archived project (`ARCHIVED_REFUSALS`: the spec's archive-project
       summary, docs/contract.md "Activation" and "Service accounts and project API keys"), sent
       when the project was archived already (`before_call` looked), which no request schema can
       express.
    2. ensure_resource_availability, the contract's 404 with param `certificate_ids`, when the
       object the check blames (the newest id that the check's creating operation answered with,
       among those the request names when it names any) still resolves, and another of the body's `certificate_ids` is
       really unknown (a GET of it answers the contract's 404): the check blames any 404 after a
       creation on the created resource, but this 404 is about an id schemathesis generated or
       a certificate the run deleted since.
    """
    name = type(failure).__name__
    error = _error(response)
    operation = (case.operation.method.upper(), case.operation.path)
    enveloped = error.get("type") == "invalid_request_error" and error.get("code") is None
    if (
        name == "RejectedPositiveData"
        and operation in ARCHIVED_REFUSALS
        and response.status_code == 400
        and enveloped
        and error.get("param") == "project_id"
        and case.id in sent_for_archived_project
    ):
        return _dropped("archived project", case)
    if name == "EnsureResourceAvailability" and response.status_code == 404 and enveloped and error.get("param") == "certificate_ids":
        ids = case.body.get("certificate_ids") if isinstance(case.body, dict) else None
        ids = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
        named = [str(v) for v in (case.path_parameters or {}).values()] + ids
        # The resource the check blames: the newest id that the operation the check names
        # created, among those the request names when it names any (a certificate the run
        # created and deleted since is just absent; when the request names none of them, its
        # ids were all generated).
        made = [i for i in created_ids if created_by[i] == failure.created_with]
        blamed = [i for i in made if i in named] or made
        if (
            blamed
            and _exists(created_ids[blamed[-1]])
            and any(_absent_certificate(i) for i in ids if i != blamed[-1])
        ):
            return _dropped("404 for generated certificate_ids", case)
    return True


def _dropped(reason: str, case) -> bool:
    """Counts a dropped failure in ORGCERTS_FILTER_LOG, for run.py's summary (by reason and
    operation); returns False."""
    path = os.environ.get("ORGCERTS_FILTER_LOG")
    if path:
        with open(path, "a") as log:
            log.write(f"{reason}\t{case.operation.label}\n")
    return False
