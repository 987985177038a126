"""The package's layers hold: core imports nothing outside core, each stage family imports core and no other family
(import-linter's contract in .importlinter), no module imports another module's private names, there are no import
cycles, and ruff finds nothing (ruff.toml: pyflakes and one statement per line, library and notebooks)."""

import ast, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / 'img_diff'
MODULES = {
    ('.'.join(p.relative_to(ROOT).with_suffix('').parts)).removesuffix('.__init__'): p
    for p in PKG.rglob('*.py')
    if p.name != '_modidx.py'
}


def _imports(path: Path, module: str):
    "(imported module, names) of every import in a module, relative imports made absolute."
    pkg = module if path.name == '__init__.py' else module.rsplit('.', 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.ImportFrom):
            base = pkg.split('.')[: len(pkg.split('.')) - node.level + 1] if node.level else []
            mod = '.'.join(base + ([node.module] if node.module else []))
            yield mod, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def test_import_contract():
    exe = shutil.which('lint-imports', path=str(Path(sys.executable).parent)) or shutil.which('lint-imports')
    assert exe, 'import-linter is not installed (a dev requirement)'
    r = subprocess.run([exe, '--no-cache'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'Contracts: 1 kept, 0 broken.' in r.stdout


def test_core_imports_only_core():
    for m, p in MODULES.items():
        if not m.startswith('img_diff.core'):
            continue
        for mod, _ in _imports(p, m):
            assert not mod.startswith('img_diff.') or mod.startswith('img_diff.core'), f'{m} imports {mod}'


def test_no_private_names_across_modules():
    bad = [
        (m, mod, n)
        for m, p in MODULES.items()
        for mod, names in _imports(p, m)
        if mod.startswith('img_diff') and mod != m
        for n in names
        if n.startswith('_') and not n.startswith('__')
    ]
    assert not bad, bad


def test_no_import_cycles():
    graph = {
        m: {
            mod
            for mod, names in _imports(p, m)
            for mod in [mod, *(f'{mod}.{n}' for n in names)]
            if mod in MODULES and mod != m
        }
        for m, p in MODULES.items()
    }

    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))

    # a package's __init__ importing its own modules is not a cycle of meaning; every other loop is
    cycles = [
        c
        for m in graph
        if (c := cycle_from(m)) and not any(a.startswith(b + '.') or b.startswith(a + '.') for a, b in zip(c, c[1:]))
    ]
    assert not cycles, cycles[:3]


def test_ruff_clean():
    exe = shutil.which('ruff', path=str(Path(sys.executable).parent)) or shutil.which('ruff')
    assert exe, 'ruff is not installed (a dev requirement)'
    r = subprocess.run([exe, 'check', '--no-cache', '.'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr


def test_ruff_format():
    "The source (notebooks), benchmarks, tests and tools are formatted (the generated library follows the notebooks)."
    exe = shutil.which('ruff', path=str(Path(sys.executable).parent)) or shutil.which('ruff')
    r = subprocess.run(
        [exe, 'format', '--check', '--no-cache', 'nbs', 'benchmarks', 'tests', 'tools'],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
