"""The tables of actions and expectation keys the runner knows.

One place to extend: when the appliance learns a new action (``set_mic_mode``,
``annotate``, ...), flip ``supported`` here and teach ``steps.py`` its request.
Unsupported entries stay listed so a file that uses them is refused with
"not yet supported" before an appliance is started, not with "unknown action".

Extensions of SCENARIO.md (new actions, new keys; nothing there changes meaning) are
marked "Extension" where they are declared below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kinds of values a key takes (checked in values.py):
#   int, number, bool, str, texts (list of strings), answers (answer code map),
#   any (passed through to the appliance unchanged), doc ("1.2"), person (exactly one),
#   person_or_next, person_or_all, people (list of participants),
#   file (a path relative to the scenario file, which must exist), presenting (null or
#   {doc, page}), allowances (participant -> seconds or null)


@dataclass(frozen=True)
class ActionSpec:
    """An action's keys (name -> value kind), which are required, and whether it acts."""

    keys: dict[str, str] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    needs_actor: bool = True
    supported: bool = True


ACTIONS: dict[str, ActionSpec] = {
    "open_sitting": ActionSpec(),
    "close_sitting": ActionSpec(),
    "check_in": ActionSpec(),
    "check_out": ActionSpec(),
    "start_item": ActionSpec({"item": "int"}, frozenset({"item"})),
    "request_floor": ActionSpec({"kind": "str"}),
    "withdraw_floor": ActionSpec(),
    "grant_floor": ActionSpec({"to": "person_or_next"}, frozenset({"to"})),
    "end_floor": ActionSpec({"to": "person_or_all"}, frozenset({"to"})),
    # Extensions (issue 7): the chair moves a waiting request one place `up` or `down`
    # among requests of its kind (POST /api/floor/move), and gives a speaker `s` more
    # seconds (POST /api/floor/extend).
    "move_request": ActionSpec({"to": "person", "direction": "str"}, frozenset({"to", "direction"})),
    "extend_floor": ActionSpec({"to": "person", "s": "number"}, frozenset({"to", "s"})),
    "open_poll": ActionSpec(
        {
            "poll": "str",
            "question": "str",
            "method": "str",
            "answers": "texts",
            "rule": "str",
            "kind": "str",
            "candidates": "texts",
            "choose": "int",
            "duration_s": "number",
            "allow_correction": "bool",
            "show_live": "bool",
        },
        frozenset({"poll"}),
    ),
    # Extension: annul a poll with a reason; `repeat_as` names the repeat it opens.
    "annul_poll": ActionSpec({"poll": "str", "reason": "str", "repeat_as": "str"}, frozenset({"poll", "reason"})),
    "vote": ActionSpec({"poll": "str", "answer": "str", "answers": "answers"}, frozenset({"poll"})),
    "close_poll": ActionSpec({"poll": "str"}, frozenset({"poll"})),
    "open_document": ActionSpec({"doc": "doc", "page": "int"}, frozenset({"doc"})),
    # The document becomes "ITEM.K", K counting on from the item's documents so far.
    # Extension: `password` opens a password-protected PDF.
    "upload_document": ActionSpec(
        {"item": "int", "file": "file", "access": "str", "password": "str"}, frozenset({"item", "file"})
    ),
    # A text note pinned near the page's top left corner; `page` is 1 when left out.
    "annotate": ActionSpec({"doc": "doc", "page": "int", "text": "str"}, frozenset({"doc", "text"})),
    "present_page": ActionSpec({"doc": "doc", "page": "int"}, frozenset({"doc"})),
    "post": ActionSpec({"group": "str", "text": "str"}, frozenset({"group", "text"})),
    # Extensions: the chair (or secretary) ends and resumes a group's discussion.
    "close_group": ActionSpec({"group": "str"}, frozenset({"group"})),
    "reopen_group": ActionSpec({"group": "str", "duration_s": "number"}, frozenset({"group"})),
    "set_mic_mode": ActionSpec({"mode": "str", "max_open": "int"}, frozenset({"mode"})),
    "restart": ActionSpec({"hard": "bool"}, needs_actor=False),
    "sleep": ActionSpec({"s": "number"}, frozenset({"s"}), needs_actor=False),
    # An action this release does not have would stay listed here with supported=False.
}

# Keys every action step may carry besides its own. `expect` on an action step is an
# extension: the expectation is checked after the action.
STEP_KEYS = frozenset({"as", "do", "expect_error", "concurrent", "repeat", "expect"})

# Expectation keys -> (value kind, supported). Poll sub-keys need `poll`.
EXPECT_KEYS: dict[str, tuple[str, bool]] = {
    "present": ("int", True),
    "quorum": ("bool", True),
    "poll": ("str", True),
    "counts": ("any", True),
    "passed": ("bool", True),
    "elected": ("texts", True),
    "flags": ("any", True),
    "turnout": ("int", True),
    "annulled": ("bool", True),
    "shares": ("any", True),
    "speaking": ("people", True),
    "queue": ("people", True),
    "mics_open": ("people", True),
    "document": ("doc", True),
    "pages": ("int", True),
    "visible_documents": ("int", True),
    "journal_verifies": ("bool", True),
    "group": ("str", True),
    "messages": ("int", True),
    # Extensions: the page shown on every screen as the acting participant sees it
    # (`presenting: {doc: "1.2", page: 3}`, or null for none); the acting participant's
    # own notes on every document they can see (`notes: 2`; 0 for a role without notes);
    # each speaker's time allowance in seconds (`allowances: {"delegate 3": 480}`, null
    # for no limit).
    "presenting": ("presenting", True),
    "notes": ("int", True),
    "allowances": ("allowances", True),
}
POLL_KEYS = frozenset({"counts", "passed", "elected", "flags", "turnout", "shares", "annulled"})
VOLATILE_KEYS = frozenset({"speaking", "queue", "mics_open", "turnout", "counts", "present", "allowances"})
NEEDS_ACTOR = frozenset({"document", "pages", "visible_documents", "notes"})
MOVE_DIRECTIONS = frozenset({"up", "down"})

# Extension (issue 11): `observers: N` holds N display connections on the live channel
# during the run (default 1, the hall display; 0 for none), each its own paired display
# device, so a rehearsal loads the fan-out as the hall's screens and observers' room do.
SETUP_KEYS = frozenset({"body", "delegates", "guests", "agenda", "groups", "observers"})
MAX_OBSERVERS = 1000
MAX_DELEGATES = 5000  # seat numbers the box accepts (appliance/meeting/decide.py)
UNSUPPORTED_SETUP: frozenset[str] = frozenset()
GROUP_KEYS = frozenset({"id", "name", "members", "convener"})
AGENDA_KEYS = frozenset({"title", "documents", "access"})
SUPPORTED_ACCESS = frozenset({"public", "delegates"})
TOP_KEYS = frozenset({"name", "setup", "steps"})


def unsupported(what: str) -> str:
    """The bilingual refusal for a feature this release does not have."""
    return f"{what} is not yet supported by this appliance release (chưa hỗ trợ)"
