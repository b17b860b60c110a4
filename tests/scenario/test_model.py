"""Scenario files are validated whole, and every error names the file's line and key."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.scenario.actions import ACTIONS
from appliance.scenario.actors import ActorError, Person, parse_people, parse_person
from appliance.scenario.cli import main
from appliance.scenario.model import load_scenario
from appliance.scenario.yamlsrc import ScenarioFileError

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def write(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioFileError:
    with pytest.raises(ScenarioFileError) as info:
        load_scenario(path)
    return info.value


HEAD = """\
name: t
setup:
  delegates: 5
steps:
"""


def test_a_valid_file_keeps_steps_lines_and_actors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD
        + """\
  - {as: chair, do: open_sitting}
  - {as: "delegates 1-3", do: check_in, concurrent: true, repeat: 2}
  - expect: {present: 3, quorum: false}
""",
    )
    scn = load_scenario(path)
    assert [s.line for s in scn.steps] == [5, 6, 7]
    assert scn.steps[0].actors == (Person("delegate", 1),)
    assert scn.steps[1].actors == tuple(Person("delegate", n) for n in (1, 2, 3))
    assert scn.steps[1].concurrent is True and scn.steps[1].repeat == 2
    assert scn.steps[2].expect == {"present": 3, "quorum": False}


def test_unknown_step_key_names_its_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD
        + """\
  - {as: chair, do: open_sitting}
  - {as: "delegate 2", do: vote, poll: p1, anwser: for}
""",
    )
    err = error_of(path)
    assert err.line == 6
    assert "unknown key 'anwser'" in err.message
    assert str(err).startswith(f"{path}:6: ")


def test_unknown_top_level_and_setup_keys_are_errors(tmp_path: Path) -> None:
    assert "unknown key 'author'" in error_of(write(tmp_path, "author: x\n" + HEAD)).message
    err = error_of(write(tmp_path, "name: t\nsetup:\n  delegates: 5\n  seats: 5\nsteps: []\n"))
    assert (err.line, "unknown key 'seats'" in err.message) == (4, True)


def test_unknown_expect_key_is_an_error(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, HEAD + "  - expect: {presnt: 3}\n"))
    assert err.line == 5 and "unknown key 'presnt'" in err.message


def test_an_unquoted_document_reference_is_a_file_error(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, HEAD + "  - {as: chair, do: open_document, doc: 1.2}\n"))
    assert err.line == 5
    assert "quoted string" in err.message and "doc" in err.message
    quoted = load_scenario(
        write(tmp_path, HEAD + '  - {as: chair, do: open_document, doc: "1.2"}\n')
    )
    assert quoted.steps[0].args == {"doc": "1.2"}


@pytest.fixture
def withdrawn(monkeypatch: pytest.MonkeyPatch) -> str:
    """``present_page`` as if this release did not have it (every contract action is supported now)."""
    monkeypatch.setitem(ACTIONS, "present_page", replace(ACTIONS["present_page"], supported=False))
    return "present_page"


def test_unsupported_actions_are_refused_with_their_line(tmp_path: Path, withdrawn: str) -> None:
    err = error_of(
        write(
            tmp_path,
            HEAD + f"  - {{as: chair, do: open_sitting}}\n  - {{as: chair, do: {withdrawn}}}\n",
        )
    )
    assert err.line == 6
    assert withdrawn in err.message and "chưa hỗ trợ" in err.message


def test_unsupported_action_exits_2_before_any_appliance_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], withdrawn: str
) -> None:
    path = write(tmp_path, HEAD + f"  - {{as: chair, do: {withdrawn}, doc: \"1.1\", page: 1}}\n")
    assert main(["run", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}:5:" in captured.err and "not yet supported" in captured.err


def test_every_action_of_the_contract_is_supported() -> None:
    assert [name for name, spec in ACTIONS.items() if not spec.supported] == []


def test_document_actions_read_their_keys(tmp_path: Path) -> None:
    (tmp_path / "tt.pdf").write_bytes(b"%PDF-1.4\n")
    scn = load_scenario(
        write(
            tmp_path,
            HEAD
            + """\
  - {as: secretary, do: upload_document, item: 1, file: tt.pdf, access: public, password: "x"}
  - {as: "delegate 3", do: annotate, doc: "1.1", text: "Hỏi lại"}
  - {as: chair, do: present_page, doc: "1.1", page: 2}
  - {as: "delegate 3", expect: {notes: 1, presenting: {doc: "1.1", page: 2}}}
  - expect: {presenting: null}
""",
        )
    )
    upload, note, present, seen, nothing = scn.steps
    assert upload.args == {"item": 1, "file": tmp_path / "tt.pdf", "access": "public", "password": "x"}
    assert note.args == {"doc": "1.1", "text": "Hỏi lại"}
    assert present.args == {"doc": "1.1", "page": 2}
    assert seen.expect == {"notes": 1, "presenting": {"doc": "1.1", "page": 2}}
    assert nothing.expect == {"presenting": None}


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{as: secretary, do: upload_document, item: 1, file: nowhere.pdf}", "no file"),
        ("{as: secretary, do: upload_document, file: nowhere.pdf}", "needs 'item'"),
        ("{as: secretary, do: upload_document, item: 1, file: s.yaml, access: mat}", "access must be"),
        ('{as: "delegate 3", do: annotate, doc: "1.1"}', "needs 'text'"),
        ("{as: chair, do: present_page, doc: 1.1}", "quoted string"),
        ('{as: "delegate 3", expect: {presenting: {doc: "1.1", side: 2}}}', "unknown key 'side'"),
        ('{as: "delegate 3", expect: {presenting: "1.1"}}', "must be a mapping"),
        ("expect: {notes: 1}", "needs 'as'"),
        ('{as: chair, do: move_request, to: "delegate 3", direction: top}', "up or down"),
        ('{as: chair, do: move_request, to: "delegate 9", direction: up}', "delegate 9 does not exist"),
        ('{as: chair, do: extend_floor, to: "delegate 3"}', "needs 's'"),
        ('expect: {allowances: {"delegate 3": "long"}}', "must be a number"),
    ],
)
def test_extension_keys_are_checked_at_their_line(tmp_path: Path, step: str, message: str) -> None:
    err = error_of(write(tmp_path, HEAD + f"  - {step}\n"))
    assert err.line == 5 and message in err.message, err.message


def test_floor_extensions_name_one_participant(tmp_path: Path) -> None:
    scn = load_scenario(
        write(
            tmp_path,
            HEAD
            + """\
  - {as: chair, do: move_request, to: "delegate 3", direction: down}
  - {as: chair, do: extend_floor, to: "delegate 3", s: 60}
  - expect: {allowances: {"delegate 3": 480, "delegate 4": null}}
""",
        )
    )
    move, extend, allowances = scn.steps
    assert move.args == {"to": Person("delegate", 3), "direction": "down"}
    assert extend.args == {"to": Person("delegate", 3), "s": 60.0}
    assert allowances.expect == {"allowances": {Person("delegate", 3): 480, Person("delegate", 4): None}}


def test_unknown_action_lists_the_known_ones(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, HEAD + "  - {as: chair, do: open_vote}\n"))
    assert err.line == 5 and "unknown action 'open_vote'" in err.message
    assert "open_poll" in err.message


def test_missing_required_keys_and_actor(tmp_path: Path) -> None:
    assert (
        "'start_item' needs 'item'"
        in error_of(write(tmp_path, HEAD + "  - {as: chair, do: start_item}\n")).message
    )
    assert "needs 'as'" in error_of(write(tmp_path, HEAD + "  - {do: open_sitting}\n")).message
    assert (
        "exactly one of 'answer' or 'answers'"
        in error_of(write(tmp_path, HEAD + "  - {as: chair, do: vote, poll: p1}\n")).message
    )
    assert (
        "not done by a participant"
        in error_of(write(tmp_path, HEAD + "  - {as: chair, do: restart}\n")).message
    )


def test_participants_beyond_the_body_are_file_errors(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, HEAD + '  - {as: "delegates 4-6", do: check_in}\n'))
    assert err.line == 5 and "delegate 6 does not exist (setup has 5)" in err.message
    err = error_of(write(tmp_path, HEAD + '  - {as: "guest 1", do: check_in}\n'))
    assert "guest 1 does not exist" in err.message
    err = error_of(write(tmp_path, HEAD + '  - expect: {queue: ["delegate 9"]}\n'))
    assert "delegate 9 does not exist" in err.message


def test_poll_keys_need_a_poll_and_documents_need_an_actor(tmp_path: Path) -> None:
    assert (
        "needs 'poll'" in error_of(write(tmp_path, HEAD + "  - expect: {passed: true}\n")).message
    )
    assert (
        "needs 'as'"
        in error_of(write(tmp_path, HEAD + "  - expect: {visible_documents: 1}\n")).message
    )


def test_booleans_and_numbers_are_typed(tmp_path: Path) -> None:
    assert (
        "true or false" in error_of(write(tmp_path, HEAD + "  - expect: {quorum: 'yes'}\n")).message
    )
    assert (
        "whole number" in error_of(write(tmp_path, HEAD + "  - expect: {present: '3'}\n")).message
    )
    assert (
        "at least 1"
        in error_of(write(tmp_path, HEAD + "  - {as: chair, do: check_in, repeat: 0}\n")).message
    )


def test_yaml_syntax_errors_keep_their_line(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, HEAD + "  - {as: chair, do: open_sitting\n  - x\n"))
    assert err.line >= 5 and "YAML syntax" in err.message


def test_missing_document_file_is_a_file_error(tmp_path: Path) -> None:
    err = error_of(
        write(
            tmp_path,
            """\
name: t
setup:
  delegates: 3
  agenda:
    - title: "Mục 1"
      documents: [nowhere.pdf]
steps: []
""",
        )
    )
    assert err.line == 6 and "nowhere.pdf" in err.message


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("chair", [("delegate", 1)]),
        ("vice_chair", [("delegate", 2)]),
        ("secretary", [("secretary", 0)]),
        ("technician", [("technician", 0)]),
        ("display", [("display", 0)]),
        ("stranger", [("stranger", 0)]),
        ("delegate 7", [("delegate", 7)]),
        ("delegates 3-5", [("delegate", 3), ("delegate", 4), ("delegate", 5)]),
        ("delegates 1,4,7", [("delegate", 1), ("delegate", 4), ("delegate", 7)]),
        ("delegates 1, 4, 7", [("delegate", 1), ("delegate", 4), ("delegate", 7)]),
        ("guest 2", [("guest", 2)]),
    ],
)
def test_as_forms(text: str, people: list[tuple[str, int]]) -> None:
    assert [(p.kind, p.number) for p in parse_people(text)] == people


def test_chair_is_delegate_one_but_keeps_its_label() -> None:
    chair = parse_person("chair")
    assert chair == parse_person("delegate 1")
    assert str(chair) == "chair" and str(parse_person("delegate 1")) == "delegate 1"


@pytest.mark.parametrize(
    "text", ["delegate", "delegates 5-3", "delegate 0", "mayor", "delegate three"]
)
def test_as_forms_that_name_nobody(text: str) -> None:
    with pytest.raises(ActorError):
        parse_people(text)


def test_a_delegate_list_sets_the_body_size(tmp_path: Path) -> None:
    (tmp_path / "ds.csv").write_text(
        "stt,Họ và tên,chức vụ\n1,Nguyễn Văn An,Chủ tịch\n"
        "2,Trần Thị Bình,Phó Chủ tịch\n3,Lê Văn Cường,\n",
        encoding="utf-8",
    )
    scn = load_scenario(write(tmp_path, "name: t\nsetup:\n  delegates: ds.csv\nsteps: []\n"))
    assert scn.setup.delegates == 3
    assert scn.setup.delegate_names == ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường")


def test_a_list_without_a_name_column_is_refused_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "ds.csv").write_text("stt,chuc_vu\n1,x\n", encoding="utf-8")
    err = error_of(write(tmp_path, "name: t\nsetup:\n  delegates: ds.csv\nsteps: []\n"))
    assert err.line == 3 and "no name column" in err.message


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus is absent")
def test_the_national_assembly_list_gives_500_delegates_in_file_order(tmp_path: Path) -> None:
    csv_path = CORPUS / "delegates-qh-xvi-derived.csv"
    scn = load_scenario(write(tmp_path, f"name: t\nsetup:\n  delegates: {csv_path}\nsteps: []\n"))
    assert scn.setup.delegates == 500
    assert scn.setup.delegate_names is not None
    assert scn.setup.delegate_names[:2] == ("TÔ LÂM", "LƯU NAM TIẾN")


def test_an_xlsx_delegate_list(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["STT", "Họ và tên"])
    sheet.append([1, "Phạm Minh Chính"])
    sheet.append([2, "Đỗ Thị Hà"])
    book.save(tmp_path / "ds.xlsx")
    scn = load_scenario(write(tmp_path, "name: t\nsetup:\n  delegates: ds.xlsx\nsteps: []\n"))
    assert scn.setup.delegate_names == ("Phạm Minh Chính", "Đỗ Thị Hà")


def test_restart_is_refused_against_a_running_appliance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, HEAD + "  - {do: restart, hard: true}\n")
    assert main(["run", str(path), "--url", "http://127.0.0.1:9", "--code", "123456"]) == 2
    assert f"{path}:5:" in capsys.readouterr().err


def test_url_needs_a_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, HEAD + "  - {as: chair, do: open_sitting}\n")
    assert main(["run", str(path), "--url", "http://127.0.0.1:9"]) == 2
    assert "--code" in capsys.readouterr().err


def test_a_title_row_above_the_header_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "ds.csv").write_text(
        "DANH SÁCH ĐẠI BIỂU,,\n,,\nSTT,HỌ VÀ TÊN,Đơn vị\n1,Nguyễn Văn An,Tổ 1\n", encoding="utf-8"
    )
    scn = load_scenario(write(tmp_path, "name: t\nsetup:\n  delegates: ds.csv\nsteps: []\n"))
    assert scn.setup.delegate_names == ("Nguyễn Văn An",)


def test_a_hall_larger_than_the_box_numbers_is_refused_before_any_name_is_made(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("name: Quá lớn\nsetup:\n  delegates: 1000000\nsteps:\n  - open_sitting: {}\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError) as err:
        load_scenario(path)
    assert str(err.value) == f"{path}:3: setup.delegates must be at most 5000 (the box numbers seats 1-5000)"
