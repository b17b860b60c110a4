"""PHS — Phòng họp số: a paperless council chamber in one box."""

import sys

__version__ = "0.1.0"

# PyMuPDF 2 imports its optional layout analyser (onnxruntime, numpy, networkx: ~60 MB in
# the server and ~115 MB in each render worker) whenever it is installed; nothing in PHS
# calls Page.get_layout. Here, so the server, the fork server and its workers all skip it.
sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]
