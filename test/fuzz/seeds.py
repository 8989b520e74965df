#!/usr/bin/env python3
"""Seed corpus of the field harnesses (time, numbers, names, url) in test/fuzz.

    seeds.py FIXTURES_DIR OUT_DIR

Those harnesses read one value, not a whole reply, so their seeds are the
values in the provider fixtures: every key, string and number of every JSON
fixture, one per file, both bare (2025-06-10 13:30:00, 201.5) and as JSON
("201.5").  test/suites/22-fuzz copies the fixtures themselves for the
parser harnesses.
"""
import hashlib
import json
import pathlib
import sys


def values(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from values(v)
    elif isinstance(node, list):
        for v in node:
            yield from values(v)
    elif node is not None and not isinstance(node, bool):
        yield node


def main():
    fixtures, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    seeds = set()
    for path in sorted(fixtures.glob("*/*.json")):
        for v in values(json.loads(path.read_text())):
            text = v if isinstance(v, str) else json.dumps(v)
            seeds.add(text)
            seeds.add(json.dumps(text) if isinstance(v, str) else text)
    for s in seeds:
        data = s.encode()
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(len(seeds))


if __name__ == "__main__":
    main()
