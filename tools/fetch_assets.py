"""Fetch the site's JavaScript from the npm registry so the built site needs no CDN.

Jupyter Book loads MathJax (and, for widgets, require.js and the ipywidgets HTML manager, which
this site does not use: _ext/site_fixes.py draws widgets as static HTML) from CDNs by default.
This script downloads pinned releases from the npm registry (checking their sha512
integrity), caches the tarballs in .cache/npm/, and unpacks what the site needs into _vendor/,
which _config.yml lists in html_static_path (so Sphinx copies it to _build/html/_static/).
The folder is deliberately not called `_static`: Jupyter Book 1 would add every .js/.css file
under a `_static` folder to every page.

Test-only JavaScript (axe-core, the accessibility engine the browser tests inject into each
page) is fetched and checked the same way but unpacked into .cache/test-js/, which the site
does not serve: the published pages never load it.

Idempotent: does nothing when _vendor/ already holds the pinned versions.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "npm"
VENDOR = ROOT / "_vendor"
REGISTRY = "https://registry.npmjs.org"

# name, version, sha512 integrity (from the registry's dist.integrity), {member prefix: target}
PACKAGES = [
    ("mathjax", "3.2.2",
     "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
     {"package/es5/": "mathjax/"}),
]
# The ipywidgets HTML manager and require.js are no longer served: the site draws each widget's
# default view as static HTML (_ext/site_fixes.py, 7; issue 19, page weight).
# the same, for the browser tests only: unpacked into TEST_JS, never into the site
TEST_PACKAGES = [
    ("axe-core", "4.14.1",
     "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
     {"package/axe.min.js": "axe.min.js"}),
]
TEST_JS = ROOT / ".cache" / "test-js"
STAMP = VENDOR / ".versions"


def tarball(name: str, version: str, integrity: str) -> bytes:
    short = name.split("/")[-1]
    path = CACHE / f"{short}-{version}.tgz"
    if path.exists():
        data = path.read_bytes()
    else:
        url = f"{REGISTRY}/{name}/-/{short}-{version}.tgz"
        print(f"fetching {url}")
        with urllib.request.urlopen(url, timeout=120) as resp:
            data = resp.read()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != integrity:
        path.unlink(missing_ok=True)
        sys.exit(f"{name}@{version}: sha512 mismatch (got {digest}); refusing to use it")
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def unpack(packages, dest: Path) -> None:
    """Verify each package's tarball and copy the listed members into ``dest``."""
    for name, version, integrity, members in packages:
        with tarfile.open(fileobj=io.BytesIO(tarball(name, version, integrity)), mode="r:gz") as tar:
            for member in tar.getmembers():
                for prefix, target in members.items():
                    if member.isfile() and member.name.startswith(prefix):
                        rel = target + member.name[len(prefix):] if prefix.endswith("/") else target
                        if rel.endswith(".map"):
                            continue
                        out = dest / rel
                        out.parent.mkdir(parents=True, exist_ok=True)
                        out.write_bytes(tar.extractfile(member).read())


def main() -> int:
    wanted = "\n".join(f"{n}@{v}" for n, v, _, _ in PACKAGES + TEST_PACKAGES)
    test_files = [TEST_JS / t for *_, members in TEST_PACKAGES for t in members.values()]
    if STAMP.exists() and STAMP.read_text() == wanted and all(f.exists() for f in test_files):
        return 0
    for folder in (VENDOR, TEST_JS):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    unpack(PACKAGES, VENDOR)
    unpack(TEST_PACKAGES, TEST_JS)
    (VENDOR / "favicon.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        '<rect width="32" height="32" rx="6" fill="#1a7f37"/>'
        '<text x="16" y="23" font-size="20" text-anchor="middle" fill="#fff"'
        ' font-family="sans-serif">\u2202</text></svg>')
    STAMP.write_text(wanted)
    print(f"site assets ready in {VENDOR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
