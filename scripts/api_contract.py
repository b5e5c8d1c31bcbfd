"""Write (or check) the HTTP API's contract files the page is built and tested against.

    python scripts/api_contract.py          # write them
    python scripts/api_contract.py --check  # exit 1 if a committed one differs

- ``web/src/api/openapi.json``: the OpenAPI document, which ``npm run api-types`` (in web/)
  turns into ``web/src/api/schema.d.ts``;
- ``web/test/fixtures/server_config.json``: the answer of ``GET /api/config`` (the methods'
  parameters), which the page's tests map to its controls.

No server is started: the app is built on an empty workspace and asked. The files are
committed, so the page builds with Node alone (docs/decisions.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from embedding_projector import __version__
from embedding_projector.dataset.model import Workspace
from embedding_projector.server.app import create_app
from embedding_projector.server.schemas import ServerConfig
from embedding_projector.server.settings import DEFAULT_LOD_THRESHOLD

REPO = Path(__file__).resolve().parents[1]
DOCUMENT = REPO / "web" / "src" / "api" / "openapi.json"
CONFIG = REPO / "web" / "test" / "fixtures" / "server_config.json"


def contract_files() -> dict[Path, str]:
    """Each file and its content as committed (sorted keys, one key per line)."""
    document = create_app(Workspace(root=REPO, runs=[])).openapi()
    config = ServerConfig.of(__version__, None, DEFAULT_LOD_THRESHOLD).model_dump(mode="json")
    return {DOCUMENT: _json(document), CONFIG: _json(config)}


def _json(value: object) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    """Write the files, or with ``--check`` compare them with the committed ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args()
    stale = []
    for path, text in contract_files().items():
        if not args.check:
            path.write_text(text, encoding="utf-8")
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path.relative_to(REPO)))
    if stale:
        print(
            f"{', '.join(stale)}: out of date with the server's API; "
            "run `make api-types` and commit the result",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
