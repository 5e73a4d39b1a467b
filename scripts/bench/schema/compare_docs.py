#!/usr/bin/env python3
"""Compare two schema cache documents (catalog.sql output) semantically.

    compare_docs.py REFERENCE.json CANDIDATE.json

Same top-level keys; each top-level array equal as a multiset (elements compared by their
canonical JSON), everything nested inside an element compared exactly (column order,
pk_cols, params, enum labels, key columns... are order-sensitive for the Rust decoder).
Where SchemaCache::from_catalog does depend on the order of top-level elements, the
relative order inside each group is compared too:
  * media_handlers: per (target, media type) (HashMap::extend, the last one wins)
The view rules are not in the document: compare what two builds make of document and rules
with core/examples/schema_build.rs's dump instead.
Exit 0 when equivalent; prints whether the files are also byte-identical.
"""
import json
import sys
from collections import Counter, defaultdict

ORDER_GROUPS = {
    "media_handlers": lambda e: (e["target_schema"], e["target_name"], e["media_type"].lower()),
}


def canon(v):
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compare(ref, new):
    errors = []
    if set(ref) != set(new):
        errors.append(f"top-level keys differ: {sorted(set(ref) ^ set(new))}")
    for key in sorted(set(ref) & set(new)):
        a, b = ref[key], new[key]
        if not (isinstance(a, list) and isinstance(b, list)):
            if canon(a) != canon(b):
                errors.append(f"{key}: differs")
            continue
        if key == "schemas":
            if a != b:
                errors.append(f"schemas: {a} != {b}")
            continue
        ca, cb = Counter(map(canon, a)), Counter(map(canon, b))
        if ca != cb:
            missing, extra = ca - cb, cb - ca
            errors.append(f"{key}: {sum(missing.values())} missing, {sum(extra.values())} extra (of {len(a)} / {len(b)})")
            for s in list(missing)[:3]:
                errors.append(f"  - {s[:400]}")
            for s in list(extra)[:3]:
                errors.append(f"  + {s[:400]}")
            continue
        group = ORDER_GROUPS.get(key)
        if group:
            ga, gb = defaultdict(list), defaultdict(list)
            for e in a:
                ga[group(e)].append(canon(e))
            for e in b:
                gb[group(e)].append(canon(e))
            bad = [g for g in ga if ga[g] != gb[g]]
            if bad:
                errors.append(f"{key}: order within {len(bad)} group(s) differs, e.g. {bad[0]}")
    return errors


def main():
    ref_path, new_path = sys.argv[1:3]
    ref_text, new_text = open(ref_path, encoding="utf-8").read(), open(new_path, encoding="utf-8").read()
    errors = compare(json.loads(ref_text), json.loads(new_text))
    if errors:
        print(f"DIFFERENT: {ref_path} vs {new_path}")
        print("\n".join(errors))
        sys.exit(1)
    same = "byte-identical" if ref_text == new_text else "equivalent (order differs only where it does not matter)"
    print(f"OK {new_path}: {same}")


if __name__ == "__main__":
    main()
