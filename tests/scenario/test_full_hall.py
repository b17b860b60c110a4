"""bench/full_hall.yaml stays a valid scenario, and the runner's issue-11 extensions hold.

The full-hall rehearsal itself takes minutes (bench/RESULTS.md, "Full hall rehearsal"),
so CI only parses and validates the file: a typo there fails here, not in the bench.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from appliance.scenario.actors import Person
from appliance.scenario.live import LiveObserver, summary
from appliance.scenario.model import load_scenario
from appliance.scenario.report import Report, StepResult
from appliance.scenario.yamlsrc import ScenarioFileError

REPO = Path(__file__).resolve().parents[2]
FULL_HALL = REPO / "bench" / "full_hall.yaml"
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the full hall reads ../shared/corpus, which is absent")
def test_the_full_hall_scenario_is_valid_and_seats_the_500_deputies() -> None:
    scn = load_scenario(FULL_HALL)
    setup = scn.setup
    assert (setup.delegates, setup.guests, setup.observers, len(setup.groups)) == (500, 10, 100, 10)
    assert setup.delegate_names is not None and setup.delegate_names[0] == "TÔ LÂM"
    assert [len(g.members) for g in setup.groups] == [50] * 10
    assert len(scn.steps) == 177
    polls = [s for s in scn.steps if s.action == "open_poll"]
    kinds = Counter((s.args.get("kind", "motion"), s.args.get("method")) for s in polls)
    assert kinds == {("motion", "public"): 3, ("motion", "secret"): 3, ("election", "secret"): 3,
                     ("confidence", "secret"): 3, ("confidence_vote", "secret"): 3, ("opinion", "public"): 3}
    check_in = next(s for s in scn.steps if s.action == "check_in")
    assert (len(check_in.actors), check_in.concurrent) == (500, True)
    opened = [s for s in scn.steps if s.action == "open_document" and len(s.actors) == 500]
    assert [s.args["page"] for s in opened] == [1, 2]
    posts = [s for s in scn.steps if s.action == "post" and s.expect_error is None]
    assert sum(len(s.actors) for s in posts) == 1000


def _setup(tmp_path: Path, observers: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: t
        setup:
          delegates: 3
          observers: {observers}
        steps:
          - {{as: chair, do: open_sitting}}
        """), encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["0", "1", "1000"])
def test_observers_from_0_to_1000_are_accepted(tmp_path: Path, value: str) -> None:
    assert load_scenario(_setup(tmp_path, value)).setup.observers == int(value)


@pytest.mark.parametrize(("value", "message"), [
    ("1001", "setup.observers must be at most 1000"),
    ("-1", "setup.observers must be at least 0"),
    ("many", "setup.observers must be a whole number"),
    ("true", "setup.observers must be a whole number"),
    ("2.5", "setup.observers must be a whole number"),
])
def test_observers_outside_0_to_1000_are_a_file_error_with_its_line(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ScenarioFileError) as info:
        load_scenario(_setup(tmp_path, value))
    assert (info.value.line, info.value.message) == (4, message)


def test_without_observers_the_hall_display_alone_watches(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nsetup: {delegates: 3}\nsteps:\n  - {as: chair, do: open_sitting}\n", encoding="utf-8")
    assert load_scenario(path).setup.observers == 1


def test_the_extra_screens_are_display_devices_of_their_own(tmp_path: Path) -> None:
    import random

    from appliance.scenario.session import _roles

    roles = _roles(load_scenario(_setup(tmp_path, "3")), random.Random(0))
    screens = [(person, spec["role"]) for person, spec in roles if spec["role"] == "display"]
    assert screens == [(Person("display"), "display"), (Person("observer", 2), "display"),
                       (Person("observer", 3), "display")]


def test_the_json_report_carries_the_runner_cost_as_an_extension() -> None:
    report = Report("t", steps=[StepResult(1, True, 3.25)])
    assert set(report.to_json()) == {"scenario", "passed", "steps", "failures"}
    report.runner = {"wall_s": 10.0, "cpu_s": 2.5, "cpu_percent": 25.0, "max_rss_mb": 80.0, "children_cpu_s": 7.5}
    out = io.StringIO()
    report.write_json(out)
    assert json.loads(out.getvalue())["runner"] == {"wall_s": 10.0, "cpu_s": 2.5, "cpu_percent": 25.0,
                                                    "max_rss_mb": 80.0, "children_cpu_s": 7.5}
    human = io.StringIO()
    report.write_human(human)
    assert "runner: 10.0 s wall, 2.5 s CPU (25.0 % of wall), max RSS 80 MB; its appliance 7.5 s CPU\n" in human.getvalue()


def test_the_runner_cost_is_this_process_cpu_over_wall_time() -> None:
    import resource

    from appliance.scenario.runner import _cost

    def usage(utime: float, stime: float, rss: int) -> resource.struct_rusage:
        fields = [0.0] * 16
        fields[0], fields[1], fields[2] = utime, stime, rss
        return resource.struct_rusage(fields)

    cost = _cost((100.0, usage(1.0, 0.5, 0), usage(0.0, 0.0, 0)),
                 (140.0, usage(9.0, 2.5, 204800), usage(30.0, 2.0, 0)))
    assert cost == {"wall_s": 40.0, "cpu_s": 10.0, "cpu_percent": 25.0, "max_rss_mb": 200.0, "children_cpu_s": 32.0}


def test_many_screens_are_summed_in_one_line() -> None:
    screens = [LiveObserver("http://127.0.0.1:1", "t") for _ in range(3)]
    for n, screen in enumerate(screens):
        screen.connects, screen.snapshots, screen.updates = 1, 1, 10 + n
    screens[1].errors.append("too_many_connections: None")
    assert summary(screens) == ("live channel (3 displays): 3 connection(s), 3 snapshot(s), 33 update(s), "
                                "10..12 a screen; problems on 1 screen(s), last: too_many_connections: None")
    assert summary(screens[:1]) == "live channel (display): 1 connection(s), 1 snapshot(s), 10 update(s)"
