"""The web UI's files as `labelstack dev` serves them: web/ as is, but for the policy in index.html.

index.html carries the Content-Security-Policy in a <meta> too, for hosts that serve the files without the
header. A browser enforces both, so the page may only load what the stricter allows: locally the header
also allows the AWS emulator's origin (presigned URLs of source storages), and the <meta> must say the
same, or the emulator's images stay blocked. In AWS both are the file's policy as it is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response
from starlette.types import Scope

_META_POLICY = re.compile(r'(<meta http-equiv="Content-Security-Policy" content=")[^"]*(")')
# frame-ancestors is ignored (and reported) in a <meta>: only the header can carry it.
_HEADER_ONLY = re.compile(r";\s*frame-ancestors [^;]*")


def page_policy(index_html: str, policy: str) -> str:
    """index.html with its <meta> policy replaced by `policy` (less what only a header can carry)."""
    content = _HEADER_ONLY.sub("", policy).replace("&", "&amp;").replace('"', "&quot;")
    replaced, count = _META_POLICY.subn(lambda m: f"{m.group(1)}{content}{m.group(2)}", index_html)
    if count != 1:
        raise ValueError("index.html must hold exactly one Content-Security-Policy <meta>")
    return replaced


class WebFiles(StaticFiles):
    def __init__(self, directory: Path, policy: str):
        super().__init__(directory=directory, html=True)
        self.index = os.path.realpath(directory / "index.html")
        self.policy = policy

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        if os.path.realpath(full_path) == self.index:
            # Read at each request, so an edited index.html shows on reload, as the other files do.
            text = Path(self.index).read_text(encoding="utf-8")
            return HTMLResponse(page_policy(text, self.policy), status_code=status_code)
        return super().file_response(full_path, stat_result, scope, status_code)
