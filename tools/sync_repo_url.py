"""Copy repository.url from _config.yml into the Colab install cell of every chapter.

The URL is set in one place (_config.yml). Run `make sync-url` after changing it;
tests/test_notebooks.py fails while a chapter still installs from another URL.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "# colab-install"


def repo_url() -> str:
    text = (ROOT / "_config.yml").read_text()
    m = re.search(r"^repository:\s*\n(?:\s+.*\n)*?\s+url:\s*(\S+)", text, re.M)
    if not m:
        sys.exit("_config.yml has no repository.url")
    return m.group(1)


def install_line(url: str) -> str:
    return f'INSTALL = "git+{url}"'


def main() -> int:
    url = repo_url()
    changed = 0
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and src.startswith(MARK):
                new = re.sub(r'^INSTALL = ".*"$', install_line(url), src, flags=re.M)
                if new != src:
                    cell["source"] = new.splitlines(keepends=True)
                    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
                    changed += 1
                    print(f"updated {path.relative_to(ROOT)}")
    print(f"repository URL {url}: {changed} chapter(s) updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
