"""At rest, after a demo sitting with corpus documents: no file of the data directory holds a
delegate's name, any run of 12 characters (at least 8 of them letters) of any document's
text — every run, not a sample — a private note, or a key.

Checking every run of several documents against every file naively is millions of
substring searches, so the test turns it around: it collects each file's long printable
stretches (plaintext leaks as UTF-8 or UTF-16 text; AES-GCM output almost never holds 12
printable characters in a row) and looks each 12-character window of those up in the set
of the documents' runs. A file that leaked text would have it as such a stretch.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pymupdf
import pytest

from appliance.core.text import nfc
from appliance.store.keys import Keyring
from tests.web.realserver import Driver

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
UPLOADS = ["nghi-quyet-hdnd-hanoi-11-2025.pdf", "ke-hoach-bau-cu-luong-minh.docx", "theo-doi-vbqppl-an-giang.xlsx"]
NOTE = "Đề nghị làm rõ nguồn vốn đối ứng của phường trước khi biểu quyết"
RUN = 12
PRINTABLE = re.compile(r"[^\x00-\x08\x0b-\x1f\x7f\ufffd]{12,}")


def runs(text: str) -> set[str]:
    """Every run of 12 characters with at least 8 letters (whitespace folded, as extraction varies)."""
    flat = " ".join(nfc(text).split())
    return {flat[i : i + RUN] for i in range(len(flat) - RUN + 1) if sum(ch.isalpha() for ch in flat[i : i + RUN]) >= 8}


def text_of(path: Path) -> str:
    """A document's text as a reader would copy it."""
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            xml = z.read("word/document.xml").decode()
        return " ".join(re.sub(r"<[^>]+>", " ", xml).split())
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        return " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    with pymupdf.open(path) as doc:
        return "".join(page.get_text() for page in doc)


def stretches(blob: bytes) -> list[str]:
    """Long printable stretches of a file read as UTF-8 and as UTF-16 (both byte alignments)."""
    out = []
    for encoding, data in (("utf-8", blob), ("utf-16-le", blob), ("utf-16-le", blob[1:])):
        decoded = data.decode(encoding, errors="replace")
        out += [" ".join(m.group().split()) for m in PRINTABLE.finditer(decoded)]
    return out


def leaked(blob: bytes, needles: set[str], names: list[str]) -> list[str]:
    """Names searched as bytes (a short name may stand alone); text runs through the stretches."""
    found = [n for n in names if n.encode() in blob or n.encode("utf-16-le") in blob]
    for stretch in stretches(blob):
        found += [stretch[i : i + RUN] for i in range(len(stretch) - RUN + 1) if stretch[i : i + RUN] in needles]
    return found


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not present")
async def test_nothing_of_a_demo_sitting_with_corpus_documents_is_readable_at_rest(tmp_path: Path) -> None:
    from appliance.demo import demo_document_paths
    from appliance.web.demo import DELEGATES

    d = Driver(tmp_path, demo=True)
    await d.server.start()
    async with d.client() as c:
        secretary = {"Authorization": f"Bearer {(await c.post('/api/pair', json={'code': d.server.setup_code})).json()['token']}"}
        state = (await c.get("/api/state", headers=secretary)).json()
        delegate = next(p for p in state["participants"] if p["role"] == "delegate")
        code = (await c.post("/api/pairing-codes", json={"participant_id": delegate["id"]}, headers=secretary)).json()["code"]
        tablet = {"Authorization": f"Bearer {(await c.post('/api/pair', json={'code': code})).json()['token']}"}
        uploaded = []
        for name in UPLOADS:
            r = await c.post("/api/documents", files={"file": (name, (CORPUS / name).read_bytes())}, data={"item": "1"}, headers=secretary)
            assert r.status_code == 200, r.text
            uploaded.append(r.json()["document"])
        note = {"document": uploaded[0]["id"], "page": 2, "kind": "text", "at": [100, 200], "text": NOTE}
        assert (await c.put("/api/annotations/n-at-rest-1", json=note, headers=tablet)).status_code == 200
        for doc in uploaded:  # a delegate reads every page: renditions and the openings record exist too
            for n in range(1, doc["pages"] + 1):
                assert (await c.get(f"/api/documents/{doc['id']}/pages/{n}", headers=tablet)).status_code == 200
        mine = (await c.get(f"/api/annotations?document={uploaded[0]['id']}", headers=tablet)).json()["annotations"]
        assert [n["text"] for n in mine] == [NOTE]
    await d.server.stop()

    texts = [text_of(CORPUS / name) for name in UPLOADS] + [text_of(path) for path, _ in demo_document_paths()]
    needles = set().union(*(runs(t) for t in texts)) | runs(NOTE)
    assert all(len(runs(t)) > 100 for t in texts)  # the docx and xlsx were read, not skipped
    names = [nfc(name) for name, _ in DELEGATES]
    files = [p for p in d.data_dir.rglob("*") if p.is_file()]
    assert len(files) > 20 and any(p.parent.name == "notes" or "notes" in p.parts for p in files)
    for path in files:
        found = leaked(path.read_bytes(), needles, names)
        assert not found, f"{path.relative_to(d.data_dir)} holds {found[:3]}"
    kek = (d.server.keys_dir / "kek.key").read_bytes()
    ring = Keyring.open(d.server.keys_dir, d.data_dir, create=False)
    keys = [kek, *(k for k in (ring.existing_key(n) for n in ring.names()) if k)]
    assert len(keys) >= 5
    for path in files:
        blob = path.read_bytes()
        assert not [k for k in keys if k in blob], path.name


def test_the_scan_finds_a_leak_when_there_is_one() -> None:
    """The detector itself: plaintext in UTF-8 or UTF-16 inside noise is found."""
    text = "Nghị quyết về dự toán ngân sách địa phương năm 2026 của Hội đồng nhân dân"
    needles = runs(text)
    noise = bytes(range(256)) * 4
    for blob in (noise + "dự toán ngân sách địa".encode() + noise, noise + "dự toán ngân sách địa".encode("utf-16-le") + noise,
                 noise[:7] + "ân sách địa phương".encode("utf-16-le") + noise):
        assert leaked(blob, needles, []), blob[:40]
    assert leaked(noise + "Lê Văn Tám".encode() + noise, set(), ["Lê Văn Tám"]) == ["Lê Văn Tám"]
    assert leaked(noise * 50, needles, ["Lê Văn Tám"]) == []
