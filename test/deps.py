#!/usr/bin/env python3
"""The call graph between the C files of src/, read from the built objects.

Each src/X.o defines global symbols (nm: T, D, B, R) and uses others (U); a
use of a symbol defined in src/Y.o is an arrow X.c -> Y.c.  This sees every
call and every shared variable the linker resolves, macros and inline
functions aside.  Prints the arrows with the symbols behind them, then the
cycles (strongly connected components); exits 1 if there is any.

    make && python3 test/deps.py [--quiet]
"""
import glob
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
objects = sorted(glob.glob(os.path.join(root, "src", "*.o")))
if not objects:
    sys.exit("deps: no src/*.o: run make first")

defined, used = {}, {}
for obj in objects:
    name = os.path.basename(obj)[:-2] + ".c"
    used[name] = set()
    out = subprocess.run(["nm", "-g", obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        kind, sym = parts[-2], parts[-1]
        if kind == "U":
            used[name].add(sym)
        else:
            defined[sym] = name

edges = {}
for name, syms in used.items():
    for sym in syms:
        target = defined.get(sym)
        if target and target != name:
            edges.setdefault(name, {}).setdefault(target, []).append(sym)

# Tarjan's strongly connected components.
index, low, stack, on_stack, sccs = {}, {}, [], set(), []


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in edges.get(v, {}):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            scc.append(w)
            if w == v:
                break
        if len(scc) > 1:
            sccs.append(sorted(scc))


for v in sorted(used):
    if v not in index:
        visit(v)

if "--quiet" not in sys.argv:
    for a in sorted(edges):
        for b in sorted(edges[a]):
            print(f"{a} -> {b}: {', '.join(sorted(edges[a][b]))}")
for scc in sccs:
    print("cycle: " + " <-> ".join(scc))
    for a in scc:
        for b in scc:
            if b in edges.get(a, {}):
                print(f"  {a} -> {b}: {', '.join(sorted(edges[a][b]))}")
print(f"{len(objects)} files, {sum(len(t) for t in edges.values())} arrows, {len(sccs)} cycles")
sys.exit(1 if sccs else 0)
