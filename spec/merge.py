#!/usr/bin/env python3
"""Builds the spec the conformance tools test against: the official extracts in this directory,
merged into one document, with `overlay.yaml` (an OpenAPI Overlay 1.0 document) applied.

    python3 spec/merge.py [OUT]     # default: spec/generated/orgcerts.openapi.yaml

The extracts stay verbatim; everything orgcerts adds to them (the error responses and rules of
docs/contract.md) lives in the overlay, each action with its reason. Needs PyYAML.

Overlay targets are JSONPath (RFC 9535); this applies the subset the overlay uses and refuses
anything else: `$`, `.name`, `['name']`, `.*` / `[*]`, `[n]` and `[?@.key == 'value']`.
Each target must select at least one node, so that a renamed path cannot silently drop an action.
"""

import copy
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
EXTRACTS = [
    "openai-certificates.openapi.yaml",
    "openai-projects.openapi.yaml",
    "openai-admin-api-keys.openapi.yaml",
    "openai-audit-logs.openapi.yaml",
    "openai-project-service-accounts.openapi.yaml",
]
DEFAULT_OUT = HERE / "generated" / "orgcerts.openapi.yaml"

_SEGMENT = re.compile(
    r"""\.(?P<name>[A-Za-z_][\w-]*)
      | \.\*|\[\*\]
      | \[(?P<quote>['"])(?P<key>.*?)(?P=quote)\]
      | \[(?P<index>-?\d+)\]
      | \[\?\s*@\.(?P<fkey>[A-Za-z_][\w-]*)\s*==\s*(?P<fquote>['"])(?P<fvalue>.*?)(?P=fquote)\s*\]
    """,
    re.VERBOSE,
)


def parse_path(path: str) -> list[tuple]:
    if not path.startswith("$"):
        raise ValueError(f"JSONPath must start with $: {path!r}")
    segments, pos = [], 1
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m:
            raise ValueError(f"unsupported JSONPath at {path[pos:]!r} in {path!r}")
        if m["name"] is not None:
            segments.append(("key", m["name"]))
        elif m["key"] is not None:
            segments.append(("key", m["key"]))
        elif m["index"] is not None:
            segments.append(("index", int(m["index"])))
        elif m["fkey"] is not None:
            segments.append(("filter", m["fkey"], m["fvalue"]))
        else:
            segments.append(("wildcard",))
        pos = m.end()
    return segments


def select(doc, path: str) -> list:
    """Every node `path` selects (dicts and lists, so that they can be updated in place)."""
    nodes = [doc]
    for segment in parse_path(path):
        found = []
        for node in nodes:
            children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
            if segment[0] == "key" and isinstance(node, dict) and segment[1] in node:
                found.append(node[segment[1]])
            elif segment[0] == "index" and isinstance(node, list) and -len(node) <= segment[1] < len(node):
                found.append(node[segment[1]])
            elif segment[0] == "wildcard":
                found.extend(children)
            elif segment[0] == "filter":
                found.extend(c for c in children if isinstance(c, dict) and c.get(segment[1]) == segment[2])
        nodes = found
    return nodes


def merge_update(target: dict, update: dict) -> None:
    """Overlay `update` semantics: objects merge recursively, anything else is replaced."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_update(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def apply_overlay(doc: dict, overlay: dict) -> dict:
    if not str(overlay.get("overlay", "")).startswith("1."):
        raise ValueError("not an OpenAPI Overlay 1.x document")
    for action in overlay["actions"]:
        nodes = select(doc, action["target"])
        if not nodes:
            raise ValueError(f"overlay target selects nothing: {action['target']}")
        if action.get("remove"):
            raise ValueError("remove actions are not used by this overlay")
        for node in nodes:
            if not isinstance(node, dict):
                raise ValueError(f"overlay target is not an object: {action['target']}")
            merge_update(node, action["update"])
    return doc


def merged_extracts() -> dict:
    """One document with the paths and components of every extract; a component both define
    must be identical in both."""
    merged = None
    for name in EXTRACTS:
        doc = yaml.safe_load((HERE / name).read_text())
        if merged is None:
            merged = doc
            continue
        for path, item in doc["paths"].items():
            if path in merged["paths"]:
                raise ValueError(f"{path} is in two extracts")
            merged["paths"][path] = item
        for section, entries in doc.get("components", {}).items():
            mine = merged.setdefault("components", {}).setdefault(section, {})
            for key, value in entries.items():
                if key in mine and mine[key] != value:
                    raise ValueError(f"components.{section}.{key} differs between extracts")
                mine[key] = value
    return merged


def build() -> dict:
    overlay = yaml.safe_load((HERE / "overlay.yaml").read_text())
    doc = apply_overlay(merged_extracts(), overlay)
    doc["info"]["title"] = overlay["info"]["title"]
    return doc


def render(doc: dict) -> str:
    header = "# Generated by spec/merge.py from the extracts and overlay.yaml; do not edit.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(build()))
    print(out)


if __name__ == "__main__":
    main()
