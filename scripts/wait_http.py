#!/usr/bin/env python3
"""wait_http.py URL [SECONDS]: wait until GET URL answers (any status); exit 1 on timeout."""
import sys
import time
import urllib.error
import urllib.request

url, limit = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 30
deadline = time.time() + limit
while time.time() < deadline:
    try:
        urllib.request.urlopen(url, timeout=2)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
print("no answer from %s within %.0f s" % (url, limit), file=sys.stderr)
sys.exit(1)
