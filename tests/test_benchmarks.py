"""The prepared GPU check runs at miniature sizes on the CPU (`--smoke`) and ends with its JSON line."""

import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_check_smoke():
    r = subprocess.run(
        [sys.executable, 'benchmarks/gpu_check.py', '--smoke'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, 'HF_HUB_OFFLINE': '1'},
        timeout=900,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert {
        'pairs_per_hour',
        'peak_gpu_gb',
        'stage_seconds',
        'p2p_plain_ratio',
        'ssim_maps_per_s',
        'colour_map_pairs_per_s',
    } <= set(out)
    assert {'caption-pairs', 'sdxl-p2p', 'sdxl-plain', 'clip-gates', 'sam-proposals', 'mllm-captions'} <= set(
        out['stage_seconds']
    )
    assert out['pairs_per_hour'] > 0 and all(v > 0 for v in out['stage_seconds'].values())
