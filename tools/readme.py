"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without Quarto, which is not installable offline).

Markdown cells are copied; code cells become fenced Python with their text output; hidden cells and images are left out
(the docs site shows them). Run: `python tools/readme.py` after executing the index notebook."""

import json, re
from pathlib import Path

root = Path(__file__).resolve().parent.parent
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text(encoding='utf-8'))

out = ['<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n']
for c in nb['cells']:
    src = ''.join(c['source'])
    if c['cell_type'] == 'markdown':
        src = re.sub(r'^> (.*)$', r'> \1', src, flags=re.M)
        src = re.sub(r'\]\(([\w/]+\.ipynb(?:#[^)]*)?)\)', r'](nbs/\1)', src)  # chapter links point at the notebooks
        out.append(src + '\n')
        continue
    if re.search(r'^#\|\s*(hide|exporti?)\b', src, flags=re.M) or not src.strip():
        continue
    out.append('```python\n' + src.strip() + '\n```\n')
    text = ''.join(
        ''.join(o.get('text', ''))
        if o.get('output_type') == 'stream'
        else ''.join(o.get('data', {}).get('text/plain', ''))
        for o in c.get('outputs', [])
        if 'image/png' not in o.get('data', {}) and 'image/jpeg' not in o.get('data', {})
    )
    if text.strip():
        out.append('```\n' + text.strip() + '\n```\n')
(root / 'README.md').write_text('\n'.join(out), encoding='utf-8')
print('wrote README.md')
