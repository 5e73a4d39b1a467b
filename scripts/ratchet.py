#!/usr/bin/env python3
"""The conformance ratchet.

    ratchet.py check  passing.txt report.json   -> prints "P F" (ratchet ids passing / failing);
                                                   lists regressions and new passes on stderr
    ratchet.py update passing.txt report.json   -> rewrites passing.txt with every passing id
"""
import json
import sys

mode, passing_file, report_file = sys.argv[1:4]
report = {r["id"]: r for r in json.load(open(report_file, encoding="utf-8"))}
try:
    ratchet = [l.strip() for l in open(passing_file, encoding="utf-8") if l.strip() and not l.startswith("#")]
except FileNotFoundError:
    ratchet = []

if mode == "update":
    ids = sorted(i for i, r in report.items() if r["result"] == "pass")
    with open(passing_file, "w", encoding="utf-8") as fh:
        fh.write("# conformance case ids that pass; make test fails if one stops passing\n")
        fh.write("# (regenerate: python3 scripts/ratchet.py update conformance/passing.txt target/conformance/report.json)\n")
        fh.writelines(i + "\n" for i in ids)
    print("%d ids in %s (was %d)" % (len(ids), passing_file, len(ratchet)), file=sys.stderr)
    sys.exit(0)

regressed = [i for i in ratchet if report.get(i, {}).get("result") != "pass"]
new = [i for i, r in report.items() if r["result"] == "pass" and i not in set(ratchet)]
for i in regressed:
    print("REGRESSED %s: %s" % (i, report.get(i, {}).get("reason", "not run")), file=sys.stderr)
total = len(report)
npass = sum(1 for r in report.values() if r["result"] == "pass")
print("ratchet: %d of %d held, %d regressed; %d/%d cases pass (%d not yet in the ratchet)"
      % (len(ratchet) - len(regressed), len(ratchet), len(regressed), npass, total, len(new)), file=sys.stderr)
print(len(ratchet) - len(regressed), len(regressed))
