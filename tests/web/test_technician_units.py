"""The technician's unit list names the seat each microphone unit is wired to, and who sits there."""

from __future__ import annotations

from appliance.web.hall import board_of
from tests.web.conftest import Hall

ROW = [{"shape": "rows", "rows": 1, "per_row": 15}]


def test_a_unit_wired_to_seat_12_names_seat_12_and_its_delegate(hall: Hall) -> None:
    added = hall.call("POST", "/api/participants", "secretary", json={"participants": [{"name": "Hoàng Thị Lan", "seat": 12}]})
    assert added.status_code in (200, 201), added.text
    lan = added.json()["participants"][0]["id"]
    wired = hall.call("POST", "/api/seating/plan", "secretary", json={"sections": ROW, "units": {"12": "40"}})
    assert wired.status_code == 200, wired.text
    board_of(hall.client.app.state.appliance).report(
        {"source": "simulated", "units": [{"seat": s, "online": True} for s in ("40", "12", "1", "5")]}
    )
    answer = hall.call("GET", "/api/devices", "technician")
    assert answer.status_code == 200, answer.text
    units = {u["seat"]: u for u in answer.json()["units"]}
    assert (units["40"]["seat_number"], units["40"]["delegate"], units["40"]["participant_id"]) == (12, "Hoàng Thị Lan", lan)
    assert (units["1"]["seat_number"], units["1"]["delegate"]) == (1, "Người chair")
    assert (units["5"]["seat_number"], units["5"]["delegate"]) == (5, None)  # wired, nobody sits there
    assert (units["12"]["seat_number"], units["12"]["delegate"]) == (None, None)  # seat 12 has unit 40 now


def test_without_a_plan_a_unit_is_the_seat_of_its_number(hall: Hall) -> None:
    board_of(hall.client.app.state.appliance).report({"source": "simulated", "units": [{"seat": "2"}, {"seat": "B7"}]})
    units = {u["seat"]: u for u in hall.call("GET", "/api/devices", "technician").json()["units"]}
    assert (units["2"]["seat_number"], units["2"]["delegate"]) == (2, "Người vice_chair")
    assert (units["B7"]["seat_number"], units["B7"]["delegate"]) == (None, None)
