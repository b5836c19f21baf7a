"""What a reader's browser downloads and how soon the math is drawn: page weight and math time.

Shared by the browser tests (tests/site_checks.py) and `make bench` (tools/bench.py, section
`pages`), so that both measure the same thing:

- Transferred bytes: the sum of the response bodies as they travel (gzipped where the server
  compresses them): the page's own HTML plus every resource it loads, from the browser's
  Resource Timing entries (`encodedBodySize`), read when the page has settled.
- Math time: from the page's `load` event to `MathJax.startup.promise` resolving (MathJax has
  typeset the page), in seconds; 0 when MathJax finished before `load` (its script is async,
  and async scripts hold the `load` event back), None without math. The time from navigation
  start to the typeset math (math_at_s) is measured too.

The site is served by ``GzipHandler``: it compresses text responses (HTML, JS, CSS, JSON, SVG,
fonts that are not compressed already) when the browser accepts gzip, as any real web host
does; a precompressed ``file.gz`` next to a file is served as is.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import os
import threading
from pathlib import Path

MAX_BYTES = 1_500_000  # per page, after gzip
MAX_MATH_S = 1.0       # from `load` to MathJax's startup promise

COMPRESSIBLE = (".html", ".js", ".css", ".json", ".svg", ".txt", ".map", ".ttf", ".otf", ".eot",
                ".xml", ".ipynb", ".md")

# Added to every page before its own scripts run (Playwright's add_init_script).
INIT_SCRIPT = """(() => {
  const t = window.__pageTiming = {load: null, math: null};
  try { performance.setResourceTimingBufferSize(5000); } catch (e) {}
  addEventListener('load', () => { t.load = performance.now(); });
  // MathJax.startup.promise exists as soon as MathJax's script runs and resolves after the
  // first typeset: attach to it within a few milliseconds of its creation.
  const hook = setInterval(() => {
    const mj = window.MathJax, p = mj && mj.startup && mj.startup.promise;
    if (p && typeof p.then === 'function') {
      clearInterval(hook);
      p.then(() => { t.math = performance.now(); });
    }
  }, 5);
  addEventListener('load', () => setTimeout(() => clearInterval(hook), 30000));
})();"""

# Evaluated when the page has settled: {bytes, math_s, requests, load_s and math_at_s (seconds
# from navigation start), biggest: [[url, bytes], ...]}
MEASURE = """async () => {
  const t = window.__pageTiming;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await new Promise(r => setTimeout(r, 0));
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const sizes = [[location.pathname, nav ? nav.encodedBodySize : 0],
                 ...res.map(e => [e.name, e.encodedBodySize])];
  const total = sizes.reduce((s, e) => s + e[1], 0);
  const math = t && t.math !== null && t.load !== null ? Math.max(0, t.math - t.load) / 1000 : null;
  return {bytes: total, math_s: math, requests: sizes.length,
          load_s: t && t.load !== null ? t.load / 1000 : null,
          math_at_s: t && t.math !== null ? t.math / 1000 : null,
          biggest: sizes.sort((a, b) => b[1] - a[1]).slice(0, 8)};
}"""


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """A static server that compresses text the way a web host does (Content-Encoding: gzip)."""

    _cache: dict = {}

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and path.suffix in COMPRESSIBLE):
            return super().send_head()
        body = self._gzipped(path)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)

    @classmethod
    def _gzipped(cls, path: Path) -> bytes:
        pre = path.with_name(path.name + ".gz")
        if pre.is_file() and pre.stat().st_mtime >= path.stat().st_mtime:
            return pre.read_bytes()
        key = (str(path), path.stat().st_mtime_ns)
        if key not in cls._cache:
            cls._cache[key] = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        return cls._cache[key]


class Server:
    """``with Server(html_dir) as base:`` serves the site on 127.0.0.1 (gzip), base is its URL."""

    def __init__(self, directory: Path):
        handler = functools.partial(GzipHandler, directory=os.fspath(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def measure(page) -> dict:
    """The weight and math time of a Playwright page loaded with INIT_SCRIPT, once it settled."""
    return page.evaluate(MEASURE)
