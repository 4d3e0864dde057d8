import sys

from symml import explain
from symml.catalog import load_catalog
from symml.verify import verify

c = load_catalog(None)
ids = sys.argv[1:]
vs = verify(ids, catalog=c)
for v in vs:
    fid, n = v.claim.split("#")
    f = c.get(fid)
    print("\n".join(explain.lines_text(f, explain.judge(f, int(n), v), "  ")))
