#!/usr/bin/env python3
"""Checks one JSON document against one $defs entry of poolreg's JSON schema.

usage: validate_json.py SCHEMA DEF FILE
Exit 0 valid, 1 invalid (every error printed, with its path), 2 usage or unreadable input.
Uses python3-jsonschema (Debian), draft 2020-12.
"""
import json
import sys

import jsonschema


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    schema_path, name, doc_path = argv[1:]
    try:
        with open(schema_path) as f:
            schema = json.load(f)
        with open(doc_path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read input: {e}", file=sys.stderr)
        return 2
    if name not in schema.get("$defs", {}):
        print(f"no $defs entry {name!r} in {schema_path}", file=sys.stderr)
        return 2
    # The named definition as the root, with every $defs entry reachable from it.
    root = dict(schema)
    root["$ref"] = f"#/$defs/{name}"
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        path = "/".join(str(p) for p in e.absolute_path) or "(root)"
        print(f"{name}: {path}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
