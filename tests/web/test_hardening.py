"""Regressions from the adversarial review: each was a 500, a bypass or a silent loss."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.web.service import Appliance
from tests.web.conftest import Hall


def test_reused_idempotency_key_for_another_request_is_refused(hall: Hall) -> None:
    headers = {"Idempotency-Key": "k1"}
    assert hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục A"}, headers=headers).status_code == 200
    r = hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục B"}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    titles = [i["title"] for i in hall.call("GET", "/api/state", "secretary").json()["agenda"]]
    assert titles == ["Mục 1", "Mục A"]


def test_retried_participant_import_answers_with_the_first_rows(hall: Hall) -> None:
    body = {"participants": [{"name": "Lê Văn Lặp", "role": "guest"}]}
    headers = {"Idempotency-Key": "import-1"}
    first = hall.call("POST", "/api/participants", "secretary", json=body, headers=headers)
    again = hall.call("POST", "/api/participants", "secretary", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["participants"] == again.json()["participants"]
    names = [p["name"] for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]]
    assert names.count("Lê Văn Lặp") == 1


def test_deeply_nested_json_is_invalid_not_a_crash(hall: Hall) -> None:
    body = ("[" * 5000 + "]" * 5000).encode()
    r = hall.call("POST", "/api/pair", None, content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")


def test_wrong_type_role_and_setup_ids_are_invalid(hall: Hall) -> None:
    r = hall.call("POST", "/api/participants", "secretary", json={"participants": [{"name": "a", "role": {"x": 1}}]})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = hall.call("POST", "/api/setup", "secretary", json={"body": "x", "session": "y", "sittings": [{"a": 1}]})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")


def test_control_characters_are_stripped_from_titles(hall: Hall) -> None:
    r = hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục\u0000 có\u0007 NUL"})
    assert r.json()["item"]["title"] == "Mục có NUL"


def test_technician_cannot_pair_a_delegate_device(hall: Hall) -> None:
    r = hall.call("POST", "/api/pairing-codes", "technician", json={"participant_id": hall.ids["chair"]})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = hall.call("POST", "/api/pairing-codes", "technician", json={"participant_id": hall.ids["display"]})
    assert r.status_code == 200


def test_token_in_query_string_is_not_a_credential(hall: Hall) -> None:
    r = hall.call("GET", f"/api/me?token={hall.tokens['secretary']}", None)
    assert (r.status_code, r.json()["code"]) == (401, "not_paired")


async def test_second_server_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    first = Appliance(settings)
    await first.start()
    try:
        second = Appliance(settings)
        with pytest.raises(PhsError) as info:
            await second.start()
        assert info.value.code == "conflict"
        assert not (tmp_path / "data" / "snapshots").exists() or list((tmp_path / "data" / "snapshots").iterdir()) == []
    finally:
        await first.stop()
    await asyncio.sleep(0)
