"""The docs pages, opened in headless Chromium: every notebook renders (tools/render_docs.py) to a page that loads, whose
images decode and whose links between pages resolve; the home page and a run's report page are screenshot and not blank.
Needs the Debian package `chromium` (CI installs it in .ci/run); without it these tests FAIL, they do not skip."""

import base64, io, importlib.util, os, re, sys
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
    pages = rd.render_docs(t / 'site')
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


def test_pages_load_in_chromium(site):
    pages = site['pages'] + [site['report']]
    n_img = n_link = 0
    with rd.Browser() as b:
        for page in pages:
            r = b.open(page)
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
