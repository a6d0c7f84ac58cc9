#!/usr/bin/env python3
"""Runs schemathesis against the real orgcerts binary.

    ORGCERTS_BIN=target/debug/orgcerts .venv/bin/python tests/schemathesis/run.py [schemathesis args]

1. starts `orgcerts serve` on a fresh SQLite file with a known admin key, and makes a second
   organization for the object_level_authorization check;
2. seeds a certificate and a project, whose ids hooks.py uses as `after` cursors, and the
   certificate an overlay link activates for new projects; looks up the run's own admin key
   (which hooks.py keeps from deletion, and uses as a cursor) and the oldest audit log entry;
3. builds the spec under test (spec/merge.py: the official extracts + spec/overlay.yaml);
4. runs `schemathesis run` with schemathesis.toml and hooks.py; extra arguments are passed on;
5. checks that both organizations' keys still work, stops the server, summarizes the run from
   schemathesis's NDJSON report (checks, the lifecycle transitions the stateful phase chained,
   the failures hooks.py dropped) and fails unless schemathesis passed, every lifecycle
   transition was exercised and both keys survived.

With ORGCERTS_COMPAT_DIR set, the summary (schemathesis.json) is written there, for the
compatibility table; it counts only schemathesis's own requests (not the seeding, nor the
hooks' look-ups).
"""

import collections
import importlib.metadata
import json
import os
import secrets
import string
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "spec"))
sys.path.insert(0, str(HERE))

import hooks  # noqa: E402  (for make_ca)
import merge  # noqa: E402

ALPHABET = string.ascii_letters + string.digits
# Where schemathesis.toml's [auth.wfc] reads the two organizations' keys (relative to the root).
IDENTITIES = ROOT / "target" / "schemathesis" / "identities.json"


def start_server(binary: str, db_dir: str, key: str):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite://{db_dir}/orgcerts.sqlite3",
            "ORGCERTS_BOOTSTRAP_ADMIN_KEY": key,
            "ORGCERTS_LOG_FORMAT": "json",
            "ORGCERTS_LISTEN": "127.0.0.1:0",
            # The run uploads thousands of certificates; the per-organization maximum (50 by
            # default, a 400 once reached) would turn valid uploads into refusals.
            "ORGCERTS_MAX_CERTIFICATES_PER_ORG": "1000000",
            # Rate limiting off: a fast machine sends more than the default 6,000 requests a
            # minute, and a 429 to a valid request would count as refusing positive data. The
            # limiter has its own tests (crates/orgcerts-server/tests/limits.rs).
            "ORGCERTS_RATE_LIMIT_PER_MINUTE": "0",
            # The failed-authentication limit off as well: the authentication checks send many
            # requests without a key or with a wrong one from this one address, and each must
            # meet the 401 the spec documents. That limit has its own tests
            # (crates/orgcerts-server/tests/hardening.rs).
            "ORGCERTS_FAILED_AUTH_PER_MINUTE": "0",
        }
    )
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    addr = None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        try:
            fields = json.loads(line).get("fields", {})
        except ValueError:
            continue
        if fields.get("message") == "listening":
            addr = fields["addr"]
            break
    if addr is None:
        raise SystemExit("orgcerts exited before listening:\n" + "".join(lines))

    def drain():  # so that the server never blocks on a full pipe
        for _ in proc.stderr:
            pass

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    return proc, drainer, f"http://{addr}/v1"


def seed(base_url: str, key: str) -> dict[str, str]:
    """The objects the hooks and one overlay link need: the oldest certificate and project (`after`
    cursors in ascending order), and a second certificate, which an overlay link activates for
    new projects (not the oldest, so that ascending lists do not hand it to the lifecycle links)."""
    auth = {"Authorization": f"Bearer {key}"}

    def post(path: str, body: dict) -> str:
        response = requests.post(f"{base_url}{path}", json=body, headers=auth, timeout=10)
        response.raise_for_status()
        return response.json()["id"]

    def get(path: str) -> dict:
        response = requests.get(f"{base_url}{path}", headers=auth, timeout=10)
        response.raise_for_status()
        return response.json()

    seeded = {
        "ORGCERTS_SEED_CERTIFICATE_ID": post(
            "/organization/certificates", {"name": "seed", "certificate": hooks.make_ca("seed")}
        ),
        "ORGCERTS_SEED_PROJECT_ID": post("/organization/projects", {"name": "seed"}),
        "ORGCERTS_PROJECT_CERTIFICATE_ID": post(
            "/organization/certificates", {"name": "for projects", "certificate": hooks.make_ca("for projects")}
        ),
    }
    # The bootstrap key is the organization's only one: the key of every request of the run.
    (own,) = get("/organization/admin_api_keys")["data"]
    seeded["ORGCERTS_ADMIN_KEY_ID"] = own["id"]
    # Newest first; the seeding made a few entries, and entries are never deleted.
    seeded["ORGCERTS_OLDEST_AUDIT_LOG_ID"] = get("/organization/audit_logs?limit=100")["data"][-1]["id"]
    return seeded


def keys_lost(base_url: str, keys: dict[str, str]) -> list[str]:
    """The identities whose key no longer authenticates (a run that deleted one is void)."""
    return [
        name
        for name, key in keys.items()
        if requests.get(
            f"{base_url}/organization/admin_api_keys", headers={"Authorization": f"Bearer {key}"}, timeout=10
        ).status_code
        != 200
    ]


def second_organization(binary: str, db_dir: str) -> str:
    """Another organization's admin key, made with the operator command line on the same database
    (which works while the server runs): schemathesis's object_level_authorization check replays
    one organization's reads with the other's key."""
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db_dir}/orgcerts.sqlite3")
    out = subprocess.run(
        [binary, "organization", "create", "--name", "Other organization"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)["admin_key"]


def write_identities(path: Path, keys: dict[str, str]) -> None:
    """A Web Fuzzing Commons auth file: one identity per organization."""
    path.write_text(
        json.dumps(
            {
                "auth": [
                    {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {key}"}]}
                    for name, key in keys.items()
                ]
            }
        )
    )


# The lifecycles the stateful phase must chain, each step on the previous one's result.
LIFECYCLES = {
    "certificate": [
        "POST /organization/certificates",
        "GET /organization/certificates/{certificate_id}",
        "POST /organization/certificates/{certificate_id}",
        "POST /organization/certificates/activate",
        "GET /organization/certificates",
        "POST /organization/certificates/deactivate",
        "DELETE /organization/certificates/{certificate_id}",
    ],
    "admin key": [
        "POST /organization/admin_api_keys",
        "GET /organization/admin_api_keys/{key_id}",
        "DELETE /organization/admin_api_keys/{key_id}",
        "GET /organization/admin_api_keys",
    ],
}


def summarize(ndjson: Path, filter_log: Path) -> dict:
    """Counts from the NDJSON report: requests, check outcomes, and the stateful transitions
    where both steps succeeded."""
    checks = collections.Counter()
    transitions = collections.Counter()
    answered_2xx = set()  # operations that answered one of schemathesis's own requests with a 2xx
    requests_sent = 0
    longest = dict.fromkeys(LIFECYCLES, 0)  # the most consecutive lifecycle steps, all 2xx, in one walk
    for line in ndjson.open():
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        recorder = event["recorder"]
        cases, interactions = recorder.get("cases", {}), recorder.get("interactions", {})
        requests_sent += len(interactions)
        for cid, interaction in interactions.items():
            if cid in cases and 200 <= ((interaction.get("response") or {}).get("status_code") or 0) < 300:
                answered_2xx.add(f"{cases[cid]['value']['method']} {cases[cid]['value']['path']}")
        for results in recorder.get("checks", {}).values():
            for check in results:
                checks[(check["name"], check["status"])] += 1
        if event["phase"] != "stateful":
            continue
        status = {cid: (i.get("response") or {}).get("status_code") or 0 for cid, i in interactions.items()}
        label = {cid: f"{c['value']['method']} {c['value']['path']}" for cid, c in cases.items()}
        for cid, case in cases.items():
            parent = case.get("parent_id")
            if parent in cases and 200 <= status.get(cid, 0) < 300 and 200 <= status.get(parent, 0) < 300:
                transitions[f"{label[parent]} -> {label[cid]}"] += 1
            # The walk that ends here, read backwards: how far does it follow each lifecycle?
            for name, lifecycle in LIFECYCLES.items():
                walk, step = [], cid
                while step in cases and len(walk) < len(lifecycle):
                    walk.append(step)
                    step = cases[step].get("parent_id")
                for length in range(len(walk), 0, -1):
                    tail = list(reversed(walk[:length]))
                    if [label[s] for s in tail] == lifecycle[:length] and all(
                        200 <= status.get(s, 0) < 300 for s in tail
                    ):
                        longest[name] = max(longest[name], length)
                        break
    # One line per dropped failure: its reason and the operation it came from.
    dropped = collections.Counter(
        tuple(line.split("\t", 1)) if "\t" in line else (line, "?")
        for line in (filter_log.read_text().splitlines() if filter_log.exists() else [])
    )
    names = sorted({name for name, _ in checks})
    return {
        "requests": requests_sent,
        "operations_2xx": sorted(answered_2xx),
        "checks": {name: {"passed": checks[(name, "success")], "failed": checks[(name, "failure")]} for name in names},
        "lifecycle": {
            f"{a} -> {b}": transitions[f"{a} -> {b}"]
            for lifecycle in LIFECYCLES.values()
            for a, b in zip(lifecycle, lifecycle[1:])
        },
        "longest_lifecycle_walks": longest,
        "dropped_failures": [
            {"reason": reason, "operation": operation, "count": count}
            for (reason, operation), count in sorted(dropped.items())
        ],
    }


def report(summary: dict) -> bool:
    """Prints the summary; whether every lifecycle transition was exercised."""
    print("\n== orgcerts conformance summary")
    print(f"requests sent: {summary['requests']}")
    for name, counts in summary["checks"].items():
        print(f"  {name:32} {counts['passed']:6} passed {counts['failed']:4} failed")
    print("stateful lifecycle (successful step after successful step):")
    for transition, count in summary["lifecycle"].items():
        print(f"  {count:5}  {transition}")
    for name, lifecycle in LIFECYCLES.items():
        print(
            f"  longest walk through the {name} lifecycle in order:"
            f" {summary['longest_lifecycle_walks'][name]} of {len(lifecycle)} steps"
        )
    for drop in summary["dropped_failures"]:
        print(
            f"dropped by hooks.filter_failure after checking the server: {drop['count']} x {drop['reason']}"
            f" on {drop['operation']}"
        )
    missing = [t for t, count in summary["lifecycle"].items() if count == 0]
    if missing:
        print("the stateful phase never chained: " + "; ".join(missing))
    if summary["keys_lost"]:
        print("these identities' keys no longer authenticate, which voids the run: " + ", ".join(summary["keys_lost"]))
    return not missing and not summary["keys_lost"]


def main() -> int:
    binary = os.environ.get("ORGCERTS_BIN", str(ROOT / "target/debug/orgcerts"))
    compat_dir = os.environ.get("ORGCERTS_COMPAT_DIR")
    key = "sk-admin-" + "".join(secrets.choice(ALPHABET) for _ in range(48))
    with tempfile.TemporaryDirectory() as db_dir:
        proc, drainer, base_url = start_server(binary, db_dir, key)
        try:
            env = dict(os.environ)
            env.update(seed(base_url, key))
            # The spec under test: the extracts and the overlay, whose one run-time value is the
            # certificate one of its links activates for projects.
            spec_path = ROOT / "spec" / "generated" / "orgcerts.openapi.yaml"
            spec_path.parent.mkdir(parents=True, exist_ok=True)
            spec = merge.render(merge.build())
            spec_path.write_text(spec.replace("PROJECT_CERTIFICATE_ID", env["ORGCERTS_PROJECT_CERTIFICATE_ID"]))
            IDENTITIES.parent.mkdir(parents=True, exist_ok=True)
            identities = {"organization": key, "other-organization": second_organization(binary, db_dir)}
            write_identities(IDENTITIES, identities)
            env["ORGCERTS_ADMIN_KEY"] = key
            env["ORGCERTS_BASE_URL"] = base_url
            env["ORGCERTS_FILTER_LOG"] = str(Path(db_dir) / "dropped.tsv")
            env["SCHEMATHESIS_HOOKS"] = "hooks"
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
            command = [
                str(Path(sys.executable).parent / "schemathesis"),
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "run",
                str(spec_path),
                "--url",
                base_url,
                *sys.argv[1:],
            ]
            # ORGCERTS_KEEP_REPORT=path keeps the (large) NDJSON report for a closer look.
            ndjson = Path(os.environ.get("ORGCERTS_KEEP_REPORT") or Path(db_dir) / "report.ndjson")
            command += ["--report", "ndjson", "--report-ndjson-path", str(ndjson)]
            started = time.monotonic()
            status = subprocess.run(command, env=env, cwd=ROOT, check=False).returncode
            summary = summarize(ndjson, Path(env["ORGCERTS_FILTER_LOG"]))
            summary.update(
                keys_lost=keys_lost(base_url, identities),
                version=importlib.metadata.version("schemathesis"),
                seconds=round(time.monotonic() - started),
                exit_status=status,
            )
            if compat_dir:
                (Path(compat_dir) / "schemathesis.json").write_text(json.dumps(summary, indent=2))
            chained = report(summary)
            return status or (0 if chained else 1)
        finally:
            IDENTITIES.unlink(missing_ok=True)
            proc.terminate()
            proc.wait(timeout=30)
            drainer.join(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
