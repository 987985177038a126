"""Compare two run folders: their records (timings and tiny-model cache paths aside) and every other file byte for
byte.

Run: `python tools/compare_runs.py BEFORE AFTER`. Used to show that a refactoring changes no output (the manifest and
report.html, which hold timings and dates, are left out)."""

import json, re, sys
from pathlib import Path

TIMING = {'seconds', 'updated', 'created', 'started', 'elapsed', 'time', 'timings', 'stage_seconds'}
SKIP = {'manifest.json', 'records.jsonl', 'report.html', '.lock'}


def norm(t: str) -> str:
    "Text with the tiny models' cache folder (version and place) written the same way."
    t = re.sub(r'/tmp/(before|after)\w*/cache', 'CACHE', t)
    return re.sub(r'tiny-models-\d+\.\d+\.\d+(-v\d+)?', 'tiny-models-V', t)


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in TIMING and not k.endswith('_seconds')}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def records(folder: Path) -> list:
    return [strip(json.loads(norm(line))) for line in (folder / 'records.jsonl').read_text().splitlines()]


def main(a: Path, b: Path) -> int:
    ra, rb = records(a), records(b)
    print(f'records equal: {ra == rb} ({len(ra)} and {len(rb)})')
    fa = {p.relative_to(a): p for p in a.rglob('*') if p.is_file()}
    fb = {p.relative_to(b): p for p in b.rglob('*') if p.is_file()}
    same = lambda k: norm(fa[k].read_bytes().decode('latin1')) == norm(fb[k].read_bytes().decode('latin1'))
    keys = sorted(k for k in set(fa) | set(fb) if k.name not in SKIP)
    diff = [str(k) for k in keys if k not in fa or k not in fb or not same(k)]
    print(f'files compared: {len(keys)}; differing or missing: {len(diff)} {diff[:20]}')
    return 0 if ra == rb and not diff else 1


if __name__ == '__main__':
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
