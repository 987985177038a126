"""How the offline main run (`img-diff run`, the offline demo) scales with the number of pairs: time and peak memory.

Each size runs in a fresh Python process (so that caches, loaded models and memory do not carry over) into a fresh
temporary run folder, with torch's default threads. Printed per size: wall seconds, pairs per minute, the process's
peak resident memory (getrusage: the run's own process plus any children it waited for), the ratios of time and
memory to the smallest size, and the localization F1 of the run. With --profile, a 24-pair run (or --profile-pairs)
runs under cProfile and the top functions by cumulative and by own time are printed.

Usage: python benchmarks/run_scaling.py [--sizes 24 96 480] [--profile] [--profile-pairs 24] [--top 30] [--keep DIR]
"""

import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

RUNNER = r'''
import json, resource, sys, time
t0 = time.perf_counter()
out, n, prof = sys.argv[1], sys.argv[2], sys.argv[3]
from img_diff.app.cli import main
if prof != '-':
    import cProfile
    p = cProfile.Profile(); p.enable()
main(['run', '--out', out, '--n-pairs', n, '--no-progress'])
if prof != '-': p.disable(); p.dump_stats(prof)
ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print('SCALING ' + json.dumps({'seconds': time.perf_counter() - t0, 'rss_mb': max(ru.ru_maxrss, rc.ru_maxrss)/1024,
                               'cpu_s': ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime}))
'''


def run_once(n, folder, prof='-'):
    env = {**os.environ, 'HF_HUB_OFFLINE': '1'}
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, '-c', RUNNER, str(folder), str(n), prof], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError(f"run of {n} pairs failed:\n{p.stderr[-3000:]}")
    res = json.loads([l for l in p.stdout.splitlines() if l.startswith('SCALING ')][-1][8:])
    loc = Path(folder) / 'eval' / 'localization.json'
    res.update(wall=wall, f1=json.loads(loc.read_text())['f1'] if loc.exists() else None)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', type=int, nargs='*', default=[24, 96])
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--profile-pairs', type=int, default=24)
    ap.add_argument('--top', type=int, default=30)
    ap.add_argument('--keep', default=None, help='keep run folders under this folder')
    a = ap.parse_args()
    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='img_diff_scaling_'))
    rows = []
    for n in a.sizes:
        r = run_once(n, base / f'run_{n}')
        r['n'] = n
        rows.append(r)
        print(
            f"{n:5d} pairs: {r['wall']:7.1f} s wall ({r['seconds']:.1f} s in-process, {r['cpu_s']:.0f} s CPU), "
            f"{60 * n / r['wall']:6.1f} pairs/min, peak RSS {r['rss_mb']:6.0f} MB, F1 {r['f1']}",
            flush=True,
        )
    if rows:
        s = rows[0]
        print(
            f"\n{'pairs':>6s} {'x pairs':>8s} {'wall s':>8s} {'x time':>7s} {'pairs/min':>10s} {'peak MB':>8s} "
            f"{'x memory':>9s}   (x: ratio to {s['n']} pairs)"
        )
        for r in rows:
            print(
                f"{r['n']:6d} {r['n'] / s['n']:8.1f} {r['wall']:8.1f} {r['wall'] / s['wall']:7.2f} "
                f"{60 * r['n'] / r['wall']:10.1f} {r['rss_mb']:8.0f} {r['rss_mb'] / s['rss_mb']:9.2f}"
            )
    if a.profile:
        import pstats

        prof = str(base / 'profile.out')
        r = run_once(a.profile_pairs, base / f'profile_{a.profile_pairs}', prof)
        print(f"\ncProfile of a {a.profile_pairs}-pair run ({r['wall']:.1f} s wall with profiling)")
        st = pstats.Stats(prof)
        st.strip_dirs()
        st.sort_stats('cumulative').print_stats(a.top)
        st.sort_stats('tottime').print_stats(a.top)
    if not a.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == '__main__':
    main()
