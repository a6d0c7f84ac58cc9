#!/usr/bin/env python3
"""Writes the compatibility table from the last run of scripts/test.

    .venv/bin/python scripts/compat_table.py COMPAT_DIR [README]

COMPAT_DIR holds what each client's run left there: the server's request log (`<client>.log`,
one JSON line per request) and its results (JUnit XML, or schemathesis.json). The operations a
client covered are read from the server's log (schemathesis: from its own report, since the
server's log also has the run's seeding), not from the tests' own claims: an operation counts
when the client got a 2xx from it. The table goes into README.md between the
compat-table markers, with only what changes when results change (no counts of generated cases
or timings); the details go to COMPAT_DIR/summary.md.
"""

import importlib.metadata
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "spec"))

import merge  # noqa: E402

BEGIN, END = "<!-- compat-table:begin -->", "<!-- compat-table:end -->"


def operations() -> list[tuple[str, str, re.Pattern]]:
    """(operationId, method, path regex) for every operation of the extracts, literal paths first."""
    doc = merge.merged_extracts()
    ops = []
    for template, item in doc["paths"].items():
        pattern = re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        for method, op in item.items():
            ops.append((op["operationId"], method.upper(), pattern, template.count("{")))
    ops.sort(key=lambda op: op[3])
    return [op[:3] for op in ops]


def operation_id(ops, method: str, path: str) -> str | None:
    """The operation a request addressed (`path` as sent, under /v1)."""
    path = re.sub("/+", "/", path)
    for op_id, op_method, pattern in ops:
        if op_method == method and pattern.match(path):
            return op_id
    return None


def covered(log: Path, ops) -> set[str]:
    """The operations the server answered with a 2xx, according to its log."""
    done = set()
    if not log.exists():
        return done
    for line in log.read_text(errors="replace").splitlines():
        try:
            fields = json.loads(line).get("fields", {})
        except ValueError:
            continue
        if fields.get("message") != "request" or not 200 <= int(fields.get("status", 0)) < 300:
            continue
        op_id = operation_id(ops, fields.get("method"), fields.get("path", ""))
        if op_id:
            done.add(op_id)
    return done


def junit(path: Path, name_filter=None) -> tuple[int, int] | None:
    """(tests, failed) from a JUnit report, or None when there is none."""
    if not path.exists():
        return None
    tests = failed = 0
    for case in ET.parse(path).iter("testcase"):
        if name_filter and not name_filter(case):
            continue
        tests += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
    return (tests, failed) if tests else None


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def node_version() -> str:
    manifest = ROOT / "tests/node/node_modules/openai/package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else "?"


def cargo_lock_version(crate: str) -> str:
    lock = (ROOT / "Cargo.lock").read_text()
    m = re.search(rf'name = "{re.escape(crate)}"\nversion = "([^"]+)"', lock)
    return m.group(1) if m else "?"


def result_cell(counts: tuple[int, int] | None) -> str:
    if counts is None:
        return "not run"
    tests, failed = counts
    return f"pass ({tests} tests)" if not failed else f"**FAIL** ({failed} of {tests} tests)"


def rows(compat: Path):
    ops = operations()
    total = len({op[0] for op in ops})
    st = compat / "schemathesis.json"
    st_summary = json.loads(st.read_text()) if st.exists() else None
    clients = [
        (
            "[openai](https://pypi.org/project/openai/) (Python, official)",
            version("openai"),
            "python",
            result_cell(junit(compat / "python.xml")),
        ),
        (
            "[openai](https://www.npmjs.com/package/openai) (Node, official)",
            node_version(),
            "node",
            result_cell(junit(compat / "node.xml")),
        ),
        (
            "[async-openai](https://crates.io/crates/async-openai) (Rust)",
            cargo_lock_version("async-openai"),
            "async-openai",
            result_cell(junit(compat / "nextest.xml", lambda c: "async_openai" in c.get("classname", ""))),
        ),
        (
            "[schemathesis](https://pypi.org/project/schemathesis/) (spec + overlay)",
            version("schemathesis"),
            "schemathesis",
            schemathesis_cell(st_summary),
        ),
    ]
    for client, ver, log, result in clients:
        if log == "schemathesis":
            # Its own requests only, from its report: the server's log also has the seeding's.
            labels = [label.split(" ", 1) for label in (st_summary["operations_2xx"] if st_summary else [])]
            done = {operation_id(ops, method, "/v1" + template) for method, template in labels} - {None}
        else:
            done = covered(compat / f"{log}.log", ops)
        missing = sorted({op[0] for op in ops} - done)
        cell = f"{len(done)}/{total}" + (f" (not: {', '.join(missing)})" if missing and done else "")
        yield client, ver, cell, result


def schemathesis_cell(summary: dict | None) -> str:
    if summary is None:
        return "not run"
    checks = summary["checks"]
    failed = sum(c["failed"] for c in checks.values())
    lifecycle = all(count > 0 for count in summary["lifecycle"].values())
    if summary["exit_status"] == 0 and not failed and lifecycle:
        return f"pass ({len(checks)} checks, 0 failures; stateful lifecycle chained)"
    return f"**FAIL** (exit {summary['exit_status']}, {failed} failed checks, lifecycle chained: {lifecycle})"


def table(compat: Path) -> str:
    lines = [
        "| client | version | operations covered (2xx) | result |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(compat)]
    return "\n".join(lines) + "\n"


def details(compat: Path) -> str:
    out = ["# Conformance run details", ""]
    st = compat / "schemathesis.json"
    if st.exists():
        summary = json.loads(st.read_text())
        out += [f"schemathesis: {summary['requests']} requests in {summary['seconds']} s", ""]
        out += [f"- {name}: {c['passed']} passed, {c['failed']} failed" for name, c in summary["checks"].items()]
        out += ["", "stateful lifecycle transitions (2xx after 2xx):", ""]
        out += [f"- {count} x {t}" for t, count in summary["lifecycle"].items()]
        out += ["", "failures dropped by hooks.filter_failure after checking the server:", ""]
        out += [
            f"- {d['count']} x {d['reason']} on {d['operation']}" for d in summary["dropped_failures"]
        ] or ["- none"]
    return "\n".join(out) + "\n"


def main() -> None:
    compat = Path(sys.argv[1])
    readme = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "README.md"
    rendered = table(compat)
    (compat / "compatibility.md").write_text(rendered)
    (compat / "summary.md").write_text(details(compat))
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    readme.write_text(text[:start] + "\n" + rendered + text[end:])
    print(rendered, end="")


if __name__ == "__main__":
    main()
