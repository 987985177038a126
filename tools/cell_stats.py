"""How the chapters are cut: export cells' sizes and whether a test or example follows each one.

Run: `python tools/cell_stats.py [--per-notebook]`. A cell's size counts its non-empty lines other than `#|`
directives; an export cell is "followed" when the next cell is a code cell that exports nothing (a test, an example or
a picture). The figures compare with fastcore's and execnb's in `style.md` (median 7 and 9 lines, ~1% and 0 over 40
lines)."""

import json, re, statistics, sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPORT = re.compile(r'^#\|\s*export', re.M)


def cells(nb: Path) -> list:
    "(notebook, size, followed) for each export cell of `nb`."
    cs = [c for c in json.loads(nb.read_text())['cells'] if ''.join(c['source']).strip()]
    out = []
    for i, c in enumerate(cs):
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or not EXPORT.search(src):
            continue
        size = sum(1 for line in src.splitlines() if line.strip() and not line.startswith('#|'))
        nxt = cs[i + 1] if i + 1 < len(cs) else None
        followed = nxt is not None and nxt['cell_type'] == 'code' and not EXPORT.search(''.join(nxt['source']))
        out.append((nb.relative_to(ROOT / 'nbs').as_posix(), size, followed))
    return out


def main(per_notebook: bool = False) -> dict:
    rows = [
        r for nb in sorted((ROOT / 'nbs').rglob('*.ipynb')) if '.ipynb_checkpoints' not in nb.parts for r in cells(nb)
    ]
    sizes = [r[1] for r in rows]
    stats = dict(
        export_cells=len(rows),
        median=statistics.median(sizes),
        largest=max(sizes),
        over_40=round(sum(s > 40 for s in sizes) / len(sizes), 3),
        followed=round(sum(r[2] for r in rows) / len(rows), 3),
    )
    print(json.dumps(stats))
    if per_notebook:
        per = defaultdict(list)
        for r in rows:
            per[r[0]].append(r)
        for k, v in per.items():
            s = [r[1] for r in v]
            print(
                f'{k:40s} cells {len(v):3d}  median {statistics.median(s):5.1f}  over 40 {sum(x > 40 for x in s):3d}'
                f'  followed {sum(r[2] for r in v):3d}  largest {max(s)}'
            )
    return stats


if __name__ == '__main__':
    main('--per-notebook' in sys.argv)
