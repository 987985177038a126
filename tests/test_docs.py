"""The docs pages, opened in headless Chromium: every notebook renders (tools/render_docs.py) to a page that loads,
whose images decode and whose links between pages resolve; every output a notebook stored shows on its page as the
notebook shows it (the visible text of each output block, read from the browser, against the notebook's own output:
printed text, results, errors, HTML, widgets' saved state, images); the home page and a run's report page are
screenshot and not blank. Needs the Debian package `chromium` (CI installs it in .ci/run); without it these tests FAIL,
they do not skip."""

import base64, io, importlib.util, json, os, re, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location('render_docs', ROOT / 'tools' / 'render_docs.py')
rd = importlib.util.module_from_spec(_spec)
sys.modules['render_docs'] = rd
_spec.loader.exec_module(rd)


class _Refs(HTMLParser):
    "The `src` of every <img> and the `href` of every <a> of a page."

    def __init__(self):
        super().__init__()
        self.imgs, self.hrefs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'img':
            self.imgs.append(a.get('src'))
        if tag == 'a' and a.get('href') is not None:
            self.hrefs.append(a['href'])


def refs(page_html):
    p = _Refs()
    p.feed(page_html)
    return p


def check_image(src, page: Path):
    "A picture the page shows: a data: URI or a file next to the page; it must decode."
    assert src, f'{page.name}: an <img> without src'
    if src.startswith('data:'):
        m = re.match(r'data:image/[\w.+-]+;base64,(.*)', src, re.S)
        assert m, f'{page.name}: undecodable data URI {src[:60]}'
        data = base64.b64decode(m[1])
        if src.startswith('data:image/svg'):
            assert b'<svg' in data
            return
        Image.open(io.BytesIO(data)).load()
        return
    u = urlsplit(src)
    assert not u.scheme and not u.netloc, f'{page.name}: image from the web: {src}'
    f = (page.parent / unquote(u.path)).resolve()
    assert f.is_file(), f'{page.name}: missing image {src}'
    Image.open(f).load()


def check_link(href, page: Path):
    u = urlsplit(href)
    if u.scheme or u.netloc or not u.path:
        return False  # web links, mailto:, and anchors within the page
    assert (page.parent / unquote(u.path)).resolve().exists(), f'{page.name}: broken link {href}'
    return True


def nonblank(png: Path):
    im = Image.open(png).convert('RGB')
    n = im.width * im.height
    top = max(im.getcolors(n))[0]  # pixels of the most common colour
    assert n - top > 0.005 * n, f'{png.name} is (nearly) a single colour'
    return im.size


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    if rd.chromium_binary() is None:
        pytest.fail(
            "Chromium is not installed, so the docs pages cannot be opened: install the Debian package "
            "(`apt-get install -y chromium`; .ci/run does this)"
        )
    t = tmp_path_factory.mktemp('docs')
    pages = rd.render_docs(t / 'site', workers=os.cpu_count() or 1)
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from img_diff.core.pipeline import run_pipeline
    from img_diff.app.report import report_folder

    run = run_pipeline(
        t / 'run',
        {
            'source': {'name': 'offline-pairs', 'n_pairs': 3, 'seed': 1, 'sizes': [256]},
            'stages': ['offline-synth', 'pixel-areas', 'template-captions', 'side-by-side'],
            'outputs': ['img-diff-records'],
        },
        progress=False,
    )
    return {'pages': pages, 'report': report_folder(run.path), 'dir': t}


def test_page_names_and_links_rewritten():
    assert rd.page_name('core/01_records.ipynb') == 'core/records.html' and rd.page_name('index.ipynb') == 'index.html'
    assert rd.page_name('03_explorer.ipynb') == 'explorer.html'
    assert (
        rd.rewrite_links(
            '<a href="03_imaging.ipynb#Boxes">x</a> <a href="../core/03_imaging.ipynb">z</a> <a href="https://x.org/a.ipynb">y</a>'
        )
        == '<a href="imaging.html#Boxes">x</a> <a href="../core/imaging.html">z</a> <a href="https://x.org/a.ipynb">y</a>'
    )


def test_every_notebook_has_a_page(site):
    root = site['pages'][0].parent
    names = {p.relative_to(root).as_posix() for p in site['pages']}
    assert names == {rd.page_name(p.relative_to(ROOT / 'nbs').as_posix()) for p in (ROOT / 'nbs').rglob('*.ipynb')}
    assert site['pages'][0].name == 'index.html'
    report = (root / 'app' / 'report.html').read_text()
    assert '#|' not in report and 'from fastcore.test import' not in report  # directives and `#| hide` cells are gone
    assert 'def write_report(folder' in re.sub(r'<[^>]+>', '', report)  # exported code is shown


@pytest.fixture(scope='module')
def opened(site):
    "Every docs page and the report, each opened once in one Chromium: {page: Browser.open's answer + 'outputs'}."
    with rd.Browser() as b:
        return {page: {**b.open(page), 'outputs': _blocks(b)} for page in site['pages'] + [site['report']]}


def test_pages_load_in_chromium(site, opened):
    pages = site['pages'] + [site['report']]
    n_img = n_link = 0
    for page in pages:
        r = opened[page]
        assert ('img-diff run report' if page == site['report'] else 'img-diff docs') in r['dom'], (
            f'{page.name} did not load'
        )
        for src, complete, w, h in r['images']:  # the browser decoded it ...
            assert complete and w > 0 and h > 0, f'{page.name}: image not shown: {str(src)[:80]}'
            check_image(src, page)
            n_img += 1  # ... and so does PIL, from the file or data: URI
        hrefs = refs(r['dom']).hrefs
        n_link += sum(check_link(h, page) for h in hrefs)
        if page != site['report']:  # the nav bar links every page
            linked = {(page.parent / h).resolve() for h in hrefs if h.endswith('.html')}
            assert linked >= {p.resolve() for p in site['pages']}, f'{page.name}: nav bar incomplete'
        if page == site['report']:
            rep = [x[0] for x in r['images']]
    assert n_img >= 20 and n_link >= len(site['pages']) ** 2
    assert {'figures/report_funnel.png', 'figures/report_scores.png', 'figures/report_examples.png'} <= set(rep)


def test_screenshots_not_blank(site):
    with rd.Browser(size=(1280, 1000)) as b:
        home = b.screenshot(site['pages'][0], site['dir'] / 'shots' / 'home.png')
        report = b.screenshot(site['report'], site['dir'] / 'shots' / 'report.png')
    assert nonblank(home) == (1280, 1000) and nonblank(report) == (1280, 1000)


# --- every output as the notebook shows it ---------------------------------------------------------------------------
# Expected outputs are read from the notebook files themselves (nbformat, not the renderer's processing), cell by cell
# (nbconvert names each cell's block `cell-id=<id>`), and compared with what Chromium shows: `innerText` of each block.
_ANSI = re.compile(r'\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]')
_CR = re.compile(r'.*\r(?=[^\n])')  # what a terminal (and Jupyter) shows of a line rewritten with \r
_VIEW = 'application/vnd.jupyter.widget-view+json'
_ORDER = [_VIEW, 'text/html', 'text/markdown', 'image/svg+xml', 'image/png', 'image/jpeg', 'image/gif', 'text/plain']
_BLOCKS_JS = """Array.from(document.querySelectorAll('.jp-Cell[id^="cell-id="]')).map(c => [c.id.slice(8),
  Array.from(c.querySelectorAll('.jp-OutputArea-child')).map(ch => {
    const o = ch.querySelector(':scope > .jp-OutputArea-output') || ch;
    return [o.getAttribute('data-mime-type') || '', o.innerText, o.querySelectorAll('img, svg').length];
  })])"""


def _join(x):
    return ''.join(x) if isinstance(x, list) else str(x)


def lines(t: str) -> str:
    "Text compared line by line: trailing spaces and leading/trailing blank lines do not count."
    return '\n'.join(l.rstrip() for l in t.replace('\r\n', '\n').strip('\n').splitlines()).strip('\n')


def squash(t: str) -> str:
    "Text with no whitespace at all, for HTML (where the layout, not the text, places the spaces)."
    return re.sub(r'\s+', '', t)


class _Text(HTMLParser):
    "The text an HTML fragment shows (no <style>/<script> content)."

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ('style', 'script')

    def handle_endtag(self, tag):
        self._skip -= tag in ('style', 'script') and self._skip > 0

    def handle_data(self, d):
        if not self._skip:
            self.out.append(d)


def html_text(h: str) -> str:
    p = _Text()
    p.feed(h)
    p.close()
    return ''.join(p.out)


def widget_texts(mid, state) -> list:
    "Texts a widget's saved state shows: its HTML and labels' text, descriptions, choices made (one list for a box)."
    m = state.get(str(mid).removeprefix('IPY_MODEL_'))
    if m is None:
        return []
    s, out = m.get('state', {}), []
    if s.get('description'):
        out.append(str(s['description']))
    for c in s.get('children', []):
        out += widget_texts(c, state)
    if m.get('model_name') in ('HTMLModel', 'HTMLMathModel', 'LabelModel') and s.get('value'):
        out.append(html_text(str(s['value'])))
    if '_options_labels' in s and isinstance(s.get('index'), int):
        out.append(str(s['_options_labels'][s['index']]))
    return [t for t in out if squash(t)]


def expected_outputs(nb) -> dict:
    """{cell id: [(kind, expected)]} of every code cell with outputs, as Jupyter shows them: consecutive prints to one
    stream as one block (nbconvert merges them too), text after a \r as what the terminal keeps."""
    state = ((nb.metadata.get('widgets') or {}).get('application/vnd.jupyter.widget-state+json') or {}).get(
        'state', {}
    )
    want = {}
    for c in nb.cells:
        if c.cell_type != 'code' or not c.get('outputs'):
            continue
        outs = []
        for o in c.outputs:
            if o.output_type == 'stream':
                t = _join(o.text)
                if outs and outs[-1][0] == 'stream:' + o.name:
                    outs[-1] = (outs[-1][0], outs[-1][1] + t)
                else:
                    outs.append(('stream:' + o.name, t))
            elif o.output_type == 'error':
                outs.append(('error', '\n'.join(map(_join, o.traceback))))
            else:
                d = o.get('data', {})
                mime = next((k for k in _ORDER if k in d), None)
                if mime == _VIEW:
                    ts = widget_texts(d[_VIEW].get('model_id'), state)
                    outs.append(('widget', ts) if ts else ('text', _join(d.get('text/plain', ''))))
                elif mime == 'text/html':
                    outs.append(('html', html_text(_join(d[mime]))))
                elif mime == 'text/markdown':
                    outs.append(('markdown', _join(d[mime])))
                elif mime and mime.startswith('image/'):
                    outs.append(('image', None))
                elif mime:
                    outs.append(('text', _join(d[mime])))
        want[c.id] = [
            (k.split(':')[0], lines(_ANSI.sub('', _CR.sub('', v)))) if isinstance(v, str) and k != 'html' else (k, v)
            for k, v in outs
        ]
    return want


def hidden(cell) -> bool:
    "A cell the docs leave out (nbdev's `#| hide`, Quarto's `#| include: false`)."
    d = ' '.join(l.lstrip()[2:].strip() for l in cell.source.splitlines() if l.lstrip().startswith('#|'))
    return bool(re.search(r'(^|\s)hide(\s|$)|include:\s*false', d))


def check_outputs(nb, shown: dict, page: str) -> tuple:
    """Compare the blocks Chromium shows (`shown`: {cell id: [(mime, innerText, n_images)]}) with the notebook's
    outputs:
    (outputs that show as stored, [what differs])."""
    n, bad, want_all = 0, [], expected_outputs(nb)
    for c in nb.cells:
        if c.cell_type != 'code' or not c.get('outputs'):
            continue
        where = f'{page}, cell {c.id} ({(c.source.strip().splitlines() or [""])[0][:60]!r})'
        if c.id not in shown:
            if not hidden(c):
                bad.append(f'{where}: has outputs but is not on the page')
            continue
        want, got = want_all[c.id], shown[c.id]
        if len(got) != len(want):
            bad.append(
                f'{where}: {len(got)} output blocks shown, the notebook has {len(want)}: {[t[:80] for _, t, _ in got]}'
            )
            continue
        for i, ((kind, exp), (mime, text, n_img)) in enumerate(zip(want, got)):
            at = f'{where}, output {i} ({kind})'
            if kind in ('stream', 'text', 'error'):
                ok, why = lines(text) == exp, f'shows {text[:200]!r}, the notebook {exp[:200]!r}'
            elif kind == 'html':
                ok, why = squash(text) == squash(exp), f'shows {text[:200]!r}, the notebook {exp[:200]!r}'
            elif kind == 'widget':
                miss = [t for t in exp if squash(t) not in squash(text)]
                ok, why = bool(squash(text)) and not miss, f"shows {text[:200]!r}, not the widget state's {miss[:3]}"
            elif kind == 'markdown':
                ok, why = bool(squash(text)), 'shows nothing'
            else:  # image
                ok, why = n_img >= 1 and not squash(text), f'shows {n_img} images and text {text[:100]!r}'
            n += ok
            if not ok:
                bad.append(f'{at} {why}')
    return n, bad


def _blocks(b) -> dict:
    "{cell id: [(data-mime-type, innerText, number of images)]} of the page open in `b`."
    return {cid: [tuple(x) for x in blocks] for cid, blocks in b.eval(_BLOCKS_JS)}


def shown_outputs(b, page) -> dict:
    b.open(page)
    return _blocks(b)


def test_outputs_show_as_the_notebooks_show_them(site, opened):
    import nbformat

    root, nbs = site['pages'][0].parent, ROOT / 'nbs'
    n, pages_with_outputs, bad = 0, 0, []
    for p in sorted(nbs.rglob('*.ipynb')):
        nb = nbformat.read(p, as_version=4)
        page = root / rd.page_name(p.relative_to(nbs).as_posix())
        k, wrong = check_outputs(nb, opened[page]['outputs'], page.relative_to(root).as_posix())
        n, pages_with_outputs, bad = n + k, pages_with_outputs + (k > 0), bad + wrong
    pages = sorted({w.split(',')[0] for w in bad})
    assert not bad, (
        f'{len(bad)} outputs on {len(pages)} pages ({", ".join(pages)}) do not show as stored:\n' + '\n'.join(bad[:25])
    )
    assert n >= 80 and pages_with_outputs >= 14, (n, pages_with_outputs)  # the docs have outputs to compare


def test_every_kind_of_output_shows_as_text(tmp_path):
    (
        "Each kind of output, as Jupyter stores it (text as a list of lines, ANSI colours, \\r), on a page read by "
        "Chromium."
    )  # fmt: skip
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    state = {
        'b': {'model_name': 'HBoxModel', 'state': {'children': ['IPY_MODEL_h', 'IPY_MODEL_p', 'IPY_MODEL_t']}},
        'h': {'model_name': 'HTMLModel', 'state': {'value': 'Loading: 100%'}},
        'p': {'model_name': 'FloatProgressModel', 'state': {'value': 7.0, 'max': 7.0}},
        't': {'model_name': 'HTMLModel', 'state': {'value': ' 7/7 [00:01&lt;00:00]'}},
    }
    nb = new_notebook(
        cells=[
            new_code_cell(
                "print('remove — the logo')",
                outputs=[
                    new_output('stream', name='stdout', text=['remove — the logo [[89, 328]]\n', 'second line\n']),
                    new_output('stream', name='stdout', text='\x1b[31mred\x1b[0m and more\n'),
                    new_output('stream', name='stderr', text='10%|#\r100%|##########| 7/7\n'),
                ],
            ),
            new_code_cell(
                '{"a": 1}',
                outputs=[
                    new_output('execute_result', {'text/plain': ["{'a': 1,\n", " 'b': [2]}"]}, execution_count=1)
                ],
            ),
            new_code_cell(
                'display',
                outputs=[new_output('display_data', {'text/html': '<b>5</b> of 6 <i>pass</i>', 'text/plain': 'x'})],
            ),
            new_code_cell(
                'bar',
                outputs=[
                    new_output(
                        'display_data',
                        {_VIEW: {'model_id': 'b', 'version_major': 2, 'version_minor': 0}, 'text/plain': 'HBox(0%)'},
                    )
                ],
            ),
            new_code_cell(
                'gone',
                outputs=[
                    new_output(
                        'display_data',
                        {
                            _VIEW: {'model_id': 'zz', 'version_major': 2, 'version_minor': 0},
                            'text/plain': 'IntSlider(value=3)',
                        },
                    )
                ],
            ),
            new_code_cell(
                '1/0',
                outputs=[
                    new_output(
                        'error',
                        ename='ZeroDivisionError',
                        evalue='division by zero',
                        traceback=[
                            '\x1b[0;31mZeroDivisionError\x1b[0m  Traceback',
                            '\x1b[0;31mZeroDivisionError\x1b[0m: division by zero',
                        ],
                    )
                ],
            ),
            new_code_cell('#| hide\nprint(1)', outputs=[new_output('stream', name='stdout', text='1\n')]),
        ],
        metadata={
            'widgets': {
                'application/vnd.jupyter.widget-state+json': {'state': state, 'version_major': 2, 'version_minor': 0}
            }
        },
    )
    (tmp_path / 'nbs').mkdir()
    nbformat.write(nb, tmp_path / 'nbs' / '00_kinds.ipynb')
    raw = json.loads((tmp_path / 'nbs' / '00_kinds.ipynb').read_text())
    raw['cells'][0]['outputs'][0]['text'] = [
        'remove — the logo [[89, 328]]\n',
        'second line\n',
    ]  # as Jupyter writes it
    (tmp_path / 'nbs' / '00_kinds.ipynb').write_text(json.dumps(raw))
    nb = nbformat.read(tmp_path / 'nbs' / '00_kinds.ipynb', as_version=4)
    (page,) = rd.render_docs(tmp_path / 'site', nbs=tmp_path / 'nbs')
    with rd.Browser() as b:
        shown = shown_outputs(b, page)
    assert check_outputs(nb, shown, page.name) == (7, [])  # the two prints to stdout are one block
    text = '\n'.join(t for blocks in shown.values() for _, t, _ in blocks)
    for s in [
        'remove — the logo [[89, 328]]\nsecond line\nred and more',
        '100%|##########| 7/7',
        "{'a': 1,\n 'b': [2]}",
        'IntSlider(value=3)',
        'ZeroDivisionError: division by zero',
        'Loading: 100%',
    ]:
        assert s in text, (s, text)
    assert "['r'" not in text and '10%|#' not in text and '\x1b' not in text and 'print(1)' not in page.read_text()
