"""Render every notebook in nbs/ to an HTML page with its stored outputs, as the docs site shows it, without Quarto.

The docs site proper is built by `nbdev_docs` (Quarto) in .github/workflows/deploy.yaml. Quarto cannot be installed on
machines without internet, so this tool gives an offline equivalent that can be opened in a browser and tested:

- nbdev's own cell processors decide what shows: `#| hide` cells are dropped, every `#|` directive line is removed,
  `hide_line` lines, magics (`%config ...`) and ANSI escapes are cleaned; cells left empty (`#| default_exp`) go;
- pages are named as nbdev names them (`00_records.ipynb` -> `records.html`, the number prefix dropped), and links to
  notebooks (`01_imaging.ipynb`) are rewritten to the pages (`imaging.html`), so index's chapter links work as on the
  site;
- outputs show as the notebook shows them: printed (stream) text, results, errors as text -- nbdev's `strip_ansi`
turns a
  stream's text into a list of characters, which is joined again; ipywidgets as static HTML of the state the notebook
  saved (progress bars at their last value, sliders with their values), else as their text;
- nbconvert's HTML exporter writes the pages; output images are embedded as `data:` URIs; scripts and styles from the
  web (require.js, MathJax, the widget manager) are left out, so a page loads with no network;
- every page gets a bar of links to all pages.

Run: `python tools/render_docs.py [--dest _docs_offline] [--screenshots]`. `Browser` drives one headless Chromium
(Debian package `chromium`) over the DevTools protocol on a pipe — no selenium, no network port; tests/test_docs.py
uses it."""

import argparse, html, os, re, shutil, subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def page_name(nb: str) -> str:
    (
        "The docs page of a notebook, named as nbdev names it, in the notebook's folder: 'core/01_records.ipynb' -> "
        "'core/records.html'."
    )  # fmt: skip
    p = Path(nb)
    name = re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.stem.lower()) + '.html'
    return name if p.parent == Path('.') else f'{p.parent.as_posix()}/{name}'


def process_notebook(path: Path):
    (
        "The notebook at `path` as the docs show it, through nbdev's processors (hidden cells, directives, magics, "
        "ANSI removed)."
    )  # fmt: skip
    import nbformat
    from nbdev.process import NBProcessor
    from nbdev.processors import (
        populate_language,
        strip_ansi,
        hide_line,
        rm_header_dash,
        clean_magics,
        hide_,
        strip_hidden_metadata,
    )

    nb = nbformat.read(path, as_version=4)
    NBProcessor(
        nb=nb,
        procs=[populate_language, strip_ansi, hide_line, rm_header_dash, hide_, clean_magics, strip_hidden_metadata],
        rm_directives=True,
    ).process()
    for c in nb.cells:
        if 'default_exp' in (c.pop('directives_', None) or {}):
            c.source = ''  # as nbdev's rm_export; exported code stays shown
        c.pop('idx_', None)
        if c.cell_type == 'code':
            c.source = re.sub(r'\A(\s*#\|[^\n]*\n?)+', '', c.source)  # Quarto options left by nbdev
    nb.cells = [c for c in nb.cells if c.source.strip() or c.get('outputs')]
    widgets = (nb.metadata.get('widgets') or {}).get(_WIDGET_STATE, {}).get('state', {})
    for c in nb.cells:
        for o in c.get('outputs', []):
            fix_output(o, widgets)
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    # consecutive prints as one block (as Jupyter shows them), a line rewritten by \r as the terminal left it
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    return nb


_WIDGET_VIEW, _WIDGET_STATE = 'application/vnd.jupyter.widget-view+json', 'application/vnd.jupyter.widget-state+json'


def _text(x) -> str:
    """A notebook's multiline string as one string: nbformat keeps it as a string, nbdev's processors (`strip_ansi`,
    which
    iterates over it) and raw JSON as a list of pieces; a list of single characters must become text again, not its
    repr."""
    return ''.join(x) if isinstance(x, (list, tuple)) else x


def fix_output(o, widgets: dict | None = None):
    "One output made ready for nbconvert: text as text (stream, error, every mime type), widgets as static HTML."
    if 'text' in o:
        o['text'] = _text(o['text'])
    if 'traceback' in o:
        o['traceback'] = [_text(t) for t in o['traceback']]
    data = o.get('data')
    if not data:
        return o
    for k, v in list(data.items()):
        if not k.endswith('json'):
            data[k] = _text(v)
    # the widget manager (from the web) is left out: show the widget's saved state, else its text/plain
    if _WIDGET_VIEW in data:
        view = data.pop(_WIDGET_VIEW)
        h = widget_html(view.get('model_id'), widgets or {})
        if h is not None:
            data['text/html'] = h
    return o


def _num(v):
    return f'{v:g}' if isinstance(v, float) else str(v)


def widget_html(mid, state: dict, depth=0) -> str | None:
    (
        "Static HTML of the ipywidget `mid` as its saved state (notebook metadata) last showed it, or None when it "
        "was not saved."
    )  # fmt: skip
    m = state.get(str(mid or '').removeprefix('IPY_MODEL_'))
    if m is None or depth > 20:
        return None
    name, s = m.get('model_name', ''), m.get('state', {})
    desc = html.escape(str(s.get('description') or ''))
    label = f'<span class="widget-label">{desc}</span> ' if desc else ''
    if 'children' in s:
        kids = [widget_html(c, state, depth + 1) or '' for c in s['children']]
        row = name in ('HBoxModel', 'BoxModel', 'GridBoxModel')
        style = (
            f'display:flex;flex-direction:{"row" if row else "column"};gap:4px '
            f'8px;align-items:{"center" if row else "stretch"}'
        )
        return f'<div class="widget-box" style="{style}">{"".join(f"<div>{k}</div>" for k in kids)}</div>'
    if name in ('HTMLModel', 'HTMLMathModel'):
        return label + str(s.get('value', ''))
    if name == 'LabelModel':
        return html.escape(str(s.get('value', '')))
    if name.endswith('ProgressModel'):
        return f'{label}<progress value="{_num(s.get("value", 0))}" max="{_num(s.get("max", 100))}"></progress>'
    if name in ('CheckboxModel', 'ToggleButtonModel', 'ValidModel'):
        return f'{"☑" if s.get("value") else "☐"} {desc}'
    if 'index' in s and '_options_labels' in s:  # Dropdown, ToggleButtons, RadioButtons, Select, SelectionSlider
        opts, i = s.get('_options_labels') or [], s.get('index')
        i = i if isinstance(i, (list, tuple)) else [i]
        return label + html.escape(', '.join(str(opts[j]) for j in i if isinstance(j, int) and 0 <= j < len(opts)))
    if name == 'ButtonModel':
        return f'<button disabled>{desc}</button>'
    if name == 'OutputModel':
        return ''.join(
            f'<pre>{html.escape(_text(o.get("text", "")))}</pre>' for o in s.get('outputs', []) if 'text' in o
        )
    v = s.get('value')
    if v is None:
        return label
    v = ' – '.join(map(_num, v)) if isinstance(v, (list, tuple)) else _num(v)
    return f'{label}<span class="widget-value">{html.escape(v)}</span>'


_HREF = re.compile(r'''(href|src)=(["'])([^"'#?:]+?\.ipynb)((?:#[^"']*)?)\2''')
_REMOTE_SCRIPT = re.compile(
    r'<script\b(?:(?!</script>).)*?https?://(?:(?!</script>).)*</script>', re.I | re.S
)  # loads code from the web
_REMOTE_LINK = re.compile(r'<link\b[^>]*\bhref=["\']https?://[^>]*>', re.I)
_MATHJAX = re.compile(r'<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->', re.S)


def rewrite_links(page: str) -> str:
    "Links to notebooks -> links to their pages ('01_imaging.ipynb#x' -> 'imaging.html#x')."
    return _HREF.sub(lambda m: f'{m[1]}={m[2]}{page_name(m[3])}{m[4]}{m[2]}', page)


def render_docs(dest='_docs_offline', nbs=None, workers: int | None = None) -> list:
    (
        "Render every notebook of `nbs` (default: the project's nbs/) to `dest` (in `workers` processes when > 1); "
        "returns the page paths (index first)."
    )  # fmt: skip
    nbs = Path(nbs or ROOT / 'nbs')
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    paths = sorted(
        (p for p in nbs.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts),
        key=lambda p: (p.name != 'index.ipynb', p.relative_to(nbs).as_posix()),
    )
    pages = [page_name(p.relative_to(nbs).as_posix()) for p in paths]
    if (workers or 1) <= 1:
        return [_render_one(p, dest, pg, pages) for p, pg in zip(paths, pages)]
    with ProcessPoolExecutor(min(workers, len(paths))) as pool:
        return list(pool.map(_render_one, paths, [dest] * len(paths), pages, [pages] * len(paths)))


def _nav(page: str, pages: list) -> str:
    "The bar of links to every page, relative to `page`'s folder."
    here = Path(page).parent
    links = ' · '.join(
        f'<a href="{os.path.relpath(q, here).replace(os.sep, "/")}">{html.escape(q[:-5])}</a>' for q in pages
    )
    return (
        f'<nav style="font:14px system-ui,sans-serif;padding:8px 16px;border-bottom:1px solid #ddd">img-diff '
        f'docs: {links}</nav>'
    )


_EXPORTER = None


def _as_text(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def _render_one(p: Path, dest: Path, page: str, pages: list) -> Path:
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter

        # `clean_html` (bleach) re-parses every highlighted code cell; the notebooks are the project's own, so it is
        # skipped (a third of the time)
        _EXPORTER = HTMLExporter(
            template_name='lab',
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,
            filters={'clean_html': _as_text},
        )
    body, _ = _EXPORTER.from_notebook_node(process_notebook(p), resources={'metadata': {'name': Path(page).stem}})
    body = _MATHJAX.sub('', _REMOTE_LINK.sub('', _REMOTE_SCRIPT.sub('', body)))
    body = re.sub(r'(<body[^>]*>)', lambda m: m[1] + _nav(page, pages), rewrite_links(body), count=1)
    q = dest / page
    q.parent.mkdir(parents=True, exist_ok=True)
    q.write_text(body, encoding='utf-8')
    return q


# --- headless Chromium ----------------------------------------------------------------------------------------------
def chromium_binary() -> str | None:
    "The Chromium (or Chrome) executable, or None."
    return next(
        (b for b in map(shutil.which, ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) if b),
        None,
    )


class Browser:
    """One headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands on fd 3,
    replies on fd 4, NUL-separated JSON), so that many pages are opened by one browser instead of one launch per
    page."""

    def __init__(self, size=(1280, 1000), timeout: float = 60):
        import json, os, tempfile

        exe = chromium_binary()
        if exe is None:
            raise FileNotFoundError(
                "Chromium is not installed: `apt-get install -y chromium` (Debian) to test the docs pages"
            )
        self._json, self.size, self.timeout = json, size, timeout
        self._prof = tempfile.TemporaryDirectory(prefix='chromium-')
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def child():
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        self.proc = subprocess.Popen(
            [
                exe,
                '--headless',
                '--no-sandbox',
                '--disable-gpu',
                '--no-first-run',
                '--disable-background-networking',
                '--disable-component-update',
                '--disable-sync',
                '--disable-dev-shm-usage',
                '--hide-scrollbars',
                f'--user-data-dir={self._prof.name}',
                '--remote-debugging-pipe',
                'about:blank',
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child,
            pass_fds=(3, 4),
        )
        os.close(cmd_r)
        os.close(out_w)
        self._buf, self._id, self._events = b'', 0, []
        tid = self.send('Target.createTarget', url='about:blank')['targetId']
        self.session = self.send('Target.attachToTarget', targetId=tid, flatten=True)['sessionId']
        self.send('Page.enable', session=True)
        self.send(
            'Emulation.setDeviceMetricsOverride',
            session=True,
            width=size[0],
            height=size[1],
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read(self):
        import os, select, time

        end = time.monotonic() + self.timeout
        while b'\0' not in self._buf:
            if not select.select([self._out_r], [], [], max(0, end - time.monotonic()))[0]:
                raise TimeoutError('chromium did not answer')
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise RuntimeError('chromium closed the DevTools pipe')
            self._buf += chunk
        msg, self._buf = self._buf.split(b'\0', 1)
        return self._json.loads(msg)

    def send(self, method, session=False, **params):
        "Send one DevTools command and return its result (events that arrive meanwhile are kept)."
        import os

        self._id += 1
        m = {'id': self._id, 'method': method, 'params': params}
        if session:
            m['sessionId'] = self.session
        os.write(self._cmd_w, self._json.dumps(m).encode() + b'\0')
        while True:
            r = self._read()
            if r.get('id') == self._id:
                if 'error' in r:
                    raise RuntimeError(f"{method}: {r['error']}")
                return r.get('result', {})
            self._events.append(r)

    def wait_event(self, method):
        "Wait for the DevTools event `method` (e.g. 'Page.loadEventFired')."
        while True:
            ev = next((e for e in self._events if e.get('method') == method), None)
            if ev is not None:
                self._events.remove(ev)
                return ev
            self._events.append(self._read())

    def eval(self, js):
        r = self.send('Runtime.evaluate', session=True, expression=js, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r['result'].get('value')

    def open(self, path) -> dict:
        (
            "Load the page at `path`: "
            "{'dom': its HTML after loading, 'images': [(src, complete, naturalWidth, naturalHeight)], 'title'}."
        )  # fmt: skip
        self._events.clear()
        nav = self.send('Page.navigate', session=True, url=Path(path).resolve().as_uri())
        if nav.get('errorText'):
            raise RuntimeError(f"chromium could not load {path}: {nav['errorText']}")
        self.wait_event('Page.loadEventFired')
        self.eval(
            'Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))'
        )  # every image decoded (or failed)
        return {
            'dom': self.eval('document.documentElement.outerHTML'),
            'title': self.eval('document.title'),
            'images': [
                tuple(x)
                for x in self.eval(
                    'Array.from(document.images).map(i => [i.getAttribute("src"), i.complete, i.naturalWidth, '
                    'i.naturalHeight])'
                )
            ],
        }

    def screenshot(self, path, out) -> Path:
        "A PNG screenshot (the browser's size) of the page at `path`, written to `out`."
        import base64

        self.open(path)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(self.send('Page.captureScreenshot', session=True, format='png')['data']))
        return out

    def close(self):
        import os

        for fd in (self._cmd_w, self._out_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._prof.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dest', default=str(ROOT / '_docs_offline'), help='output folder (replaced)')
    ap.add_argument(
        '--screenshots', action='store_true', help='also save a screenshot of every page under DEST/screenshots'
    )
    a = ap.parse_args()
    pages = render_docs(a.dest)
    print(f'{len(pages)} pages in {a.dest}')
    if a.screenshots:
        with Browser() as b:
            for p in pages:
                print(b.screenshot(p, Path(a.dest) / 'screenshots' / (p.stem + '.png')))
