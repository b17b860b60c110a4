"""Every corpus file uploaded over HTTP to the real ``phs serve``: good ones become documents
with PyMuPDF's page count, bad ones are refused with ``unreadable_document``, and the server
answers its health check after each. One server, the corpus uploaded once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import PASSWORDS
from .served import Served
from .test_ingest_corpus import GOOD, REFUSED, _pymupdf_page_count


@dataclass(frozen=True)
class Answer:
    """What the server said to one upload, and whether it answered /api/health right after."""

    status: int
    body: dict[str, Any]
    alive: bool


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = Served(tmp_path_factory.mktemp("corpus-served"))
    try:
        server.setup([{"key": "delegate", "name": "Nguyễn Văn Đại", "role": "delegate", "seat": 1}])
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def answers(served: Served, corpus: dict[str, bytes]) -> dict[str, Answer]:
    """name -> the answer to its upload (with its password when it has one), each file once."""
    out: dict[str, Answer] = {}
    # Small files first: a long document's background render then holds up none of the others.
    for name, data in sorted(corpus.items(), key=lambda item: (len(item[1]), item[0])):
        form = {"password": PASSWORDS[name]} if name in PASSWORDS else {}
        r = served.upload([(name, data)], **form)
        out[name] = Answer(r.status_code, r.json(), served.alive())
    # And one encrypted file without its password: refused, asking for it.
    r = served.upload([("khong-mat-khau.pdf", corpus["enc-r6-aes256-userpw.pdf"])])
    out["(no password)"] = Answer(r.status_code, r.json(), served.alive())
    return out


def test_every_corpus_file_was_answered(answers: dict[str, Answer], corpus: dict[str, bytes]) -> None:
    assert sorted(answers) == sorted([*corpus, "(no password)"])
    assert sorted(n for n in corpus if n not in REFUSED) == sorted(GOOD)
    assert [n for n, a in answers.items() if not a.alive] == []


@pytest.mark.parametrize("name", GOOD)
def test_good_corpus_file_is_served_with_pymupdf_page_count(
    name: str, answers: dict[str, Answer], corpus: dict[str, bytes], served: Served
) -> None:
    answer = answers[name]
    assert (answer.status, answer.alive) == (200, True), answer.body
    doc = answer.body["document"]
    assert doc["pages"] == _pymupdf_page_count(name, corpus[name])
    assert len(doc["sizes"]) == doc["pages"]
    read = served.http.get(f"/api/documents/{doc['id']}", headers=served.h("delegate"))
    assert (read.status_code, read.json()["document"]["pages"]) == (200, doc["pages"])
    first = served.http.get(f"/api/documents/{doc['id']}/pages/1?size=thumb", headers=served.h("delegate"))
    assert (first.status_code, first.headers["content-type"]) == (200, "image/webp")


@pytest.mark.parametrize(("name", "reason"), sorted(REFUSED.items()))
def test_bad_corpus_file_is_refused_over_http(name: str, reason: str, answers: dict[str, Answer]) -> None:
    answer = answers[name]
    assert (answer.status, answer.body["code"], answer.body["detail"]["reason"], answer.alive) == (
        422, "unreadable_document", reason, True,
    )
    assert answer.body["message"] and answer.body["message_en"]


def test_encrypted_file_without_password_is_refused_asking_for_it(answers: dict[str, Answer]) -> None:
    answer = answers["(no password)"]
    assert (answer.status, answer.body["code"], answer.body["detail"], answer.alive) == (
        422, "unreadable_document", {"reason": "password_required"}, True,
    )


def test_only_the_good_files_are_listed(answers: dict[str, Answer], served: Served) -> None:
    listed = served.http.get("/api/documents", headers=served.h("secretary")).json()["documents"]
    assert sorted(d["id"] for d in listed) == sorted(answers[n].body["document"]["id"] for n in GOOD)
    assert served.alive()
