"""Who acts in a step: the ``as`` forms of SCENARIO.md.

The chair is delegate 1 and the vice chair delegate 2 (one participant, one device
each), so ``chair`` and ``delegate 1`` compare equal; the label keeps how the file
wrote it, so a report shows participants the way the author named them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SINGLE_ROLES = ("secretary", "technician", "display", "stranger")
_DELEGATE = re.compile(r"^delegate (\d+)$")
_GUEST = re.compile(r"^guest (\d+)$")
_RANGE = re.compile(r"^(delegates|guests) (\d+) ?- ?(\d+)$")
_LIST = re.compile(r"^(delegates|guests) (\d+(?: ?, ?\d+)*)$")


@dataclass(frozen=True)
class Person:
    """One simulated participant: ``kind`` is delegate, guest or a single role."""

    kind: str
    number: int = 0
    label: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.label or canonical_label(self)


def canonical_label(person: Person) -> str:
    """How a report names a participant the file did not name itself."""
    if person.kind == "delegate":
        if person.number == 1:
            return "chair"
        if person.number == 2:
            return "vice_chair"
        return f"delegate {person.number}"
    if person.kind == "guest":
        return f"guest {person.number}"
    return person.kind


class ActorError(ValueError):
    """An ``as`` value that names nobody."""


def parse_people(value: str) -> tuple[Person, ...]:
    """Every participant an ``as`` value names, in the order written."""
    spoken = " ".join(value.strip().lower().split())
    if spoken == "chair":
        return (Person("delegate", 1, value),)
    if spoken in ("vice_chair", "vice chair"):
        return (Person("delegate", 2, value),)
    if spoken in SINGLE_ROLES:
        return (Person(spoken, 0, value),)
    for pattern, kind in ((_DELEGATE, "delegate"), (_GUEST, "guest")):
        match = pattern.match(spoken)
        if match:
            return (Person(kind, _positive(match.group(1)), value),)
    match = _RANGE.match(spoken)
    if match:
        kind = match.group(1)[:-1]
        first, last = _positive(match.group(2)), _positive(match.group(3))
        if last < first:
            raise ActorError(f"'{value}': the range runs backwards")
        return tuple(Person(kind, n, f"{kind} {n}") for n in range(first, last + 1))
    match = _LIST.match(spoken)
    if match:
        kind = match.group(1)[:-1]
        numbers = [_positive(part) for part in match.group(2).replace(" ", "").split(",")]
        return tuple(Person(kind, n, f"{kind} {n}") for n in numbers)
    raise ActorError(
        f"'{value}' names nobody; use chair, vice_chair, secretary, technician, display, "
        "'delegate N', 'delegates A-B', 'delegates 1,4,7', 'guest N' or stranger"
    )


def parse_person(value: str) -> Person:
    """Exactly one participant (``to:``, list entries in expectations)."""
    people = parse_people(value)
    if len(people) != 1:
        raise ActorError(f"'{value}' must name exactly one participant")
    return people[0]


def _positive(digits: str) -> int:
    number = int(digits)
    if number < 1:
        raise ActorError("participant numbers start at 1")
    return number
