"""A scenario file, validated whole before any appliance starts.

Everything a file can get wrong is found here, with its line: a rehearsal that fails
at step 40 because of a typo wastes the room's time, and refusing an unsupported
action before start-up keeps a half-played sitting off a real appliance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .actions import (
    ACTIONS,
    AGENDA_KEYS,
    EXPECT_KEYS,
    GROUP_KEYS,
    MAX_DELEGATES,
    MAX_OBSERVERS,
    MOVE_DIRECTIONS,
    NEEDS_ACTOR,
    POLL_KEYS,
    SETUP_KEYS,
    STEP_KEYS,
    SUPPORTED_ACCESS,
    TOP_KEYS,
    UNSUPPORTED_SETUP,
    unsupported,
)
from .actors import Person
from .roster import RosterError, read_delegate_list
from .values import read_people, read_person, read_value
from .yamlsrc import (
    BOOL,
    STR,
    Fields,
    Source,
    check_keys,
    integer,
    mapping,
    plain,
    sequence,
    text,
)
from .yamlsrc import boolean as read_bool


@dataclass(frozen=True)
class AgendaItem:
    """An agenda item and the documents ingested for it before step 1."""

    title: str
    documents: tuple[Path, ...] = ()
    access: str | None = None


@dataclass(frozen=True)
class GroupSpec:
    """A discussion group formed before step 1: its id in the file, name, members, convener."""

    id: str
    name: str
    members: tuple[Person, ...]
    convener: Person | None = None


@dataclass(frozen=True)
class Setup:
    """The body, its delegates (names when a list file was given), guests and groups."""

    body: str | None
    delegates: int
    delegate_names: tuple[str, ...] | None
    guests: int
    agenda: tuple[AgendaItem, ...]
    groups: tuple[GroupSpec, ...] = ()
    observers: int = 1  # live display connections held open during the run (extension)


@dataclass(frozen=True)
class Step:
    """One step: an action by some participants, an expectation, or both."""

    n: int
    line: int
    raw: dict[str, Any]
    action: str | None = None
    actors: tuple[Person, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)
    expect_error: str | None = None
    concurrent: bool = False
    repeat: int | None = None
    expect: dict[str, Any] | None = None


@dataclass(frozen=True)
class Scenario:
    """A whole, valid scenario file."""

    path: Path
    name: str
    setup: Setup
    steps: tuple[Step, ...]


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario; raises ``ScenarioFileError`` with a line."""
    src = Source(path)
    root = src.compose()
    top = mapping(src, root, "the scenario")
    check_keys(src, top, TOP_KEYS, "the scenario")
    for key in ("name", "setup", "steps"):
        if key not in top:
            raise src.error(root, f"the scenario needs '{key}'")
    name = text(src, top["name"][1], "name")
    setup = _setup(src, top["setup"][1])
    step_nodes = sequence(src, top["steps"][1], "steps")
    steps = tuple(_step(src, node, n, setup) for n, node in enumerate(step_nodes, start=1))
    return Scenario(path=path, name=name, setup=setup, steps=steps)


def _setup(src: Source, node: yaml.Node) -> Setup:
    fields = mapping(src, node, "setup")
    check_keys(src, fields, SETUP_KEYS, "setup")
    for key in UNSUPPORTED_SETUP & fields.keys():
        raise src.error(fields[key][0], unsupported(f"setup.{key}"))
    if "delegates" not in fields:
        raise src.error(node, "setup needs 'delegates' (a number or a CSV/XLSX list)")
    value = fields["delegates"][1]
    names: tuple[str, ...] | None = None
    if isinstance(value, yaml.ScalarNode) and value.tag == STR:
        list_path = (src.path.parent / str(value.value)).resolve()
        if not list_path.is_file():
            raise src.error(value, f"setup.delegates: no file {list_path}")
        try:
            names = tuple(read_delegate_list(list_path))
        except RosterError as exc:
            raise src.error(value, f"setup.delegates: {exc}") from exc
        count = len(names)
    else:
        count = integer(src, value, "setup.delegates", minimum=1)
    if count > MAX_DELEGATES:  # judged before anything is generated: a million names took 48 s and 800 MB
        raise src.error(value, f"setup.delegates must be at most {MAX_DELEGATES} (the box numbers seats 1-{MAX_DELEGATES})")
    body = text(src, fields["body"][1], "setup.body") if "body" in fields else None
    guests = integer(src, fields["guests"][1], "setup.guests") if "guests" in fields else 0
    if guests > MAX_DELEGATES:
        raise src.error(fields["guests"][1], f"setup.guests must be at most {MAX_DELEGATES}")
    observers = 1
    if "observers" in fields:
        observers = integer(src, fields["observers"][1], "setup.observers")
        if observers > MAX_OBSERVERS:
            raise src.error(fields["observers"][1], f"setup.observers must be at most {MAX_OBSERVERS}")
    groups: tuple[GroupSpec, ...] = ()
    if "groups" in fields:
        groups = _groups(src, fields["groups"][1], Setup(body, count, names, guests, ()))
    known = {g.id for g in groups}
    agenda: tuple[AgendaItem, ...] = ()
    if "agenda" in fields:
        agenda = tuple(
            _agenda_item(src, item, n, known)
            for n, item in enumerate(sequence(src, fields["agenda"][1], "setup.agenda"), 1)
        )
    return Setup(body, count, names, guests, agenda, groups, observers)


def _groups(src: Source, node: yaml.Node, setup: Setup) -> tuple[GroupSpec, ...]:
    """``groups: [{id, name, members: "delegates 1-10" or a list}]``; members are delegates."""
    out: list[GroupSpec] = []
    for n, item in enumerate(sequence(src, node, "setup.groups"), 1):
        where = f"setup.groups {n}"
        fields = mapping(src, item, where)
        check_keys(src, fields, GROUP_KEYS, where)
        for key in ("id", "name", "members"):
            if key not in fields:
                raise src.error(item, f"{where} needs '{key}'")
        gid = text(src, fields["id"][1], f"{where}.id")
        if gid in {g.id for g in out} or gid in ("public", "delegates", "confidential"):
            raise src.error(fields["id"][1], f"{where}.id '{gid}' is taken")
        value = fields["members"][1]
        if isinstance(value, yaml.SequenceNode):
            members = tuple(p for m in value.value for p in read_people(src, m, f"{where}.members", setup))
        else:
            members = read_people(src, value, f"{where}.members", setup)
        if not members or any(p.kind != "delegate" for p in members) or len(set(members)) != len(members):
            raise src.error(value, f"{where}.members must name delegates, each once")
        convener = None
        if "convener" in fields:
            convener = read_person(src, fields["convener"][1], text(src, fields["convener"][1], where), where, setup)
            if convener not in members:
                raise src.error(fields["convener"][1], f"{where}.convener must be one of its members")
        out.append(GroupSpec(gid, text(src, fields["name"][1], f"{where}.name"), members, convener))
    return tuple(out)


def _agenda_item(src: Source, node: yaml.Node, n: int, groups: set[str]) -> AgendaItem:
    where = f"agenda item {n}"
    fields = mapping(src, node, where)
    check_keys(src, fields, AGENDA_KEYS, where)
    if "title" not in fields:
        raise src.error(node, f"{where} needs a 'title'")
    title = text(src, fields["title"][1], f"{where}.title")
    documents: list[Path] = []
    if "documents" in fields:
        for doc_node in sequence(src, fields["documents"][1], f"{where}.documents"):
            doc_path = (src.path.parent / text(src, doc_node, f"{where}.documents")).resolve()
            if not doc_path.is_file():
                raise src.error(doc_node, f"{where}.documents: no file {doc_path}")
            documents.append(doc_path)
    access = None
    if "access" in fields:
        access = text(src, fields["access"][1], f"{where}.access")
        if access not in SUPPORTED_ACCESS and access not in groups:
            raise src.error(fields["access"][1], f"{where}.access must be public, delegates or a group id of setup.groups")
    return AgendaItem(title, tuple(documents), access)


def _step(src: Source, node: yaml.Node, n: int, setup: Setup) -> Step:
    where = f"step {n}"
    fields = mapping(src, node, where)
    raw = plain(node)
    if "do" not in fields and "expect" not in fields:
        raise src.error(node, f"{where} needs 'do' (an action) or 'expect'")
    actors: tuple[Person, ...] = ()
    if "as" in fields:
        actors = read_people(src, fields["as"][1], f"{where}.as", setup)
    if "do" not in fields:
        check_keys(src, fields, {"as", "expect"}, where)
        only = _expect(src, fields["expect"][1], where, actors, setup)
        return Step(n, node.start_mark.line + 1, raw, actors=actors, expect=only)
    do_node = fields["do"][1]
    action = text(src, do_node, f"{where}.do")
    spec = ACTIONS.get(action)
    if spec is None:
        known = ", ".join(sorted(ACTIONS))
        raise src.error(do_node, f"{where}: unknown action '{action}' (known: {known})")
    if not spec.supported:
        raise src.error(do_node, f"{where}: " + unsupported(f"action '{action}'"))
    check_keys(src, fields, STEP_KEYS | spec.keys.keys(), where)
    for key in sorted(spec.required - fields.keys()):
        raise src.error(node, f"{where}: '{action}' needs '{key}'")
    if spec.needs_actor and not actors:
        raise src.error(node, f"{where}: '{action}' needs 'as' (who acts)")
    if not spec.needs_actor and actors:
        raise src.error(fields["as"][0], f"{where}: '{action}' is not done by a participant")
    args = {
        key: read_value(src, fields[key][1], kind, f"{where}.{key}", setup)
        for key, kind in spec.keys.items()
        if key in fields
    }
    _check_action(src, action, args, fields, where, setup)
    expect: dict[str, Any] | None = None
    if "expect" in fields:
        expect = _expect(src, fields["expect"][1], where, actors[:1], setup)
    return Step(
        n,
        node.start_mark.line + 1,
        raw,
        action=action,
        actors=actors,
        args=args,
        expect_error=(
            text(src, fields["expect_error"][1], f"{where}.expect_error")
            if "expect_error" in fields
            else None
        ),
        concurrent=(
            read_bool(src, fields["concurrent"][1], f"{where}.concurrent")
            if "concurrent" in fields
            else False
        ),
        repeat=(
            integer(src, fields["repeat"][1], f"{where}.repeat", minimum=1)
            if "repeat" in fields
            else None
        ),
        expect=expect,
    )


def _check_action(
    src: Source, action: str, args: dict[str, Any], fields: Fields, where: str, setup: Setup
) -> None:
    if action == "vote" and ("answer" in args) == ("answers" in args):
        raise src.error(
            fields["do"][1], f"{where}: 'vote' needs exactly one of 'answer' or 'answers'"
        )
    if action == "request_floor" and args.get("kind", "speak") not in ("speak", "rebuttal"):
        raise src.error(fields["kind"][1], f"{where}.kind must be speak or rebuttal")
    if action == "move_request" and args["direction"] not in MOVE_DIRECTIONS:
        raise src.error(fields["direction"][1], f"{where}.direction must be up or down")
    groups = {g.id for g in setup.groups}
    if action == "upload_document" and "access" in args and args["access"] not in SUPPORTED_ACCESS | groups:
        raise src.error(fields["access"][1], f"{where}.access must be public, delegates or a group id of setup.groups")


def _expect(
    src: Source, node: yaml.Node, where: str, actors: tuple[Person, ...], setup: Setup
) -> dict[str, Any]:
    where = f"{where}.expect"
    fields = mapping(src, node, where)
    check_keys(src, fields, set(EXPECT_KEYS), where)
    if not fields:
        raise src.error(node, f"{where} names nothing to check")
    for key, (key_node, _) in fields.items():
        if not EXPECT_KEYS[key][1]:
            raise src.error(key_node, f"{where}: " + unsupported(f"expectation '{key}'"))
    if len(actors) > 1:
        raise src.error(node, f"{where}: an expectation is read by one participant")
    result: dict[str, Any] = {}
    for key, (key_node, value_node) in fields.items():
        kind = EXPECT_KEYS[key][0]
        if kind == "bool" and isinstance(value_node, yaml.ScalarNode) and value_node.tag != BOOL:
            raise src.error(value_node, f"{where}.{key} must be true or false")
        result[key] = read_value(src, value_node, kind, f"{where}.{key}", setup)
        if key in POLL_KEYS and "poll" not in fields:
            raise src.error(key_node, f"{where}: '{key}' needs 'poll' (which poll)")
        if key in NEEDS_ACTOR and not actors:
            raise src.error(key_node, f"{where}: '{key}' needs 'as' (seen by whom)")
    if ("document" in fields) != ("pages" in fields):
        raise src.error(node, f"{where}: 'document' and 'pages' go together")
    if ("group" in fields) != ("messages" in fields):
        raise src.error(node, f"{where}: 'group' and 'messages' go together")
    return result
