"""Scenario files: ``groups`` in setup, ``post``, and ``group`` + ``messages`` expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.scenario.actors import Person
from appliance.scenario.model import load_scenario
from tests.scenario.test_model import HEAD, error_of, write


def test_groups_name_delegates_and_documents_may_be_theirs(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    scn = load_scenario(write(tmp_path, """\
name: t
setup:
  delegates: 5
  guests: 1
  agenda:
    - {title: "Mục 1", documents: [a.pdf], access: to2}
  groups:
    - {id: to1, name: "Tổ 1", members: "delegates 1-3"}
    - {id: to2, name: "Tổ 2", members: ["delegate 4", "delegate 5"], convener: "delegate 5"}
steps:
  - {as: "delegate 4", do: post, group: to2, text: "Xin chào"}
  - {as: chair, do: close_group, group: to2}
  - {as: chair, do: reopen_group, group: to2, duration_s: 600}
  - {as: "guest 1", expect: {group: to1, messages: 0}}
"""))
    to1, to2 = scn.setup.groups
    assert (to1.id, to1.name, [p.number for p in to1.members]) == ("to1", "Tổ 1", [1, 2, 3])
    assert ([p.number for p in to2.members], to2.convener) == ([4, 5], Person("delegate", 5))
    assert scn.setup.agenda[0].access == "to2"
    assert [s.action for s in scn.steps[:3]] == ["post", "close_group", "reopen_group"]
    assert scn.steps[0].args == {"group": "to2", "text": "Xin chào"}
    assert scn.steps[3].expect == {"group": "to1", "messages": 0}


@pytest.mark.parametrize(("groups", "words"), [
    ('    - {id: to1, name: "Tổ 1", members: "guests 1-2"}\n', "must name delegates"),
    ('    - {id: to1, name: "Tổ 1", members: "delegates 1-9"}\n', "does not exist"),
    ('    - {id: to1, members: "delegates 1-3"}\n', "needs 'name'"),
    ('    - {id: to1, name: "A", members: "delegate 1"}\n    - {id: to1, name: "B", members: "delegate 2"}\n', "taken"),
    ('    - {id: to1, name: "A", members: "delegate 1", convener: "delegate 2"}\n', "convener"),
    ('    - {id: to1, name: "A", members: "delegate 1", size: 3}\n', "unknown key 'size'"),
])
def test_bad_groups_are_file_errors_with_a_line(tmp_path: Path, groups: str, words: str) -> None:
    err = error_of(write(tmp_path, "name: t\nsetup:\n  delegates: 5\n  guests: 2\n  groups:\n" + groups + "steps: []\n"))
    assert words in err.message, err.message
    assert err.line in (6, 7)


def test_an_agenda_access_names_a_known_group(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    err = error_of(write(tmp_path, "name: t\nsetup:\n  delegates: 5\n  agenda:\n"
                         "    - {title: M, documents: [a.pdf], access: to9}\nsteps: []\n"))
    assert err.line == 5 and "group id" in err.message


def test_group_and_messages_go_together(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, HEAD + "  - {as: chair, expect: {group: to1}}\n"))
    assert err.line == 5 and "'group' and 'messages' go together" in err.message


def test_post_needs_group_and_text(tmp_path: Path) -> None:
    assert "'post' needs 'text'" in error_of(write(tmp_path, HEAD + "  - {as: chair, do: post, group: to1}\n")).message
