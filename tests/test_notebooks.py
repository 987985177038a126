"""Run every notebook in nbs/ (and its family folders) as a test with nbdev's `test_nb`, slow cells included
(set IMG_DIFF_SKIP_SLOW=1 to skip them)."""

import os
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_notebook  # (renamed so that pytest does not collect it)

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
SKIP = ['notest'] + (['slow'] if os.environ.get('IMG_DIFF_SKIP_SLOW') else [])


@pytest.mark.parametrize('nb', NBS, ids=[p.relative_to(ROOT / 'nbs').with_suffix('').as_posix() for p in NBS])
def test_notebook(nb):
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    ok, seconds = run_notebook(nb, skip_flags=SKIP, force_flags=[] if 'slow' in SKIP else ['slow'])
    assert ok, f"{nb.name} failed (its traceback is printed above)"
