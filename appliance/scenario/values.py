"""Reading one key's value by its kind (actions.py): participants, documents, files.

Split from ``model.py``, which reads the file's structure; this module reads the
values inside it, each error at the value's own line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from .actors import ActorError, Person, parse_people, parse_person
from .yamlsrc import NULL, STR, Source, check_keys, integer, mapping, plain, sequence, text, texts
from .yamlsrc import boolean as read_bool
from .yamlsrc import number as read_number

if TYPE_CHECKING:
    from .model import Setup

_DOC = re.compile(r"^([1-9]\d*)\.([1-9]\d*)$")


def read_value(src: Source, node: yaml.Node, kind: str, where: str, setup: Setup) -> Any:
    """Check one key's value against its kind and return the Python value."""
    if kind == "int":
        return integer(src, node, where)
    if kind == "number":
        return read_number(src, node, where)
    if kind == "bool":
        return read_bool(src, node, where)
    if kind == "str":
        return text(src, node, where)
    if kind == "texts":
        return texts(src, node, where)
    if kind == "doc":
        return read_doc(src, node, where)
    if kind == "file":
        path = (src.path.parent / text(src, node, where)).resolve()
        if not path.is_file():
            raise src.error(node, f"{where}: no file {path}")
        return path
    if kind == "answers":
        fields = mapping(src, node, where)
        return {key: text(src, value, f"{where}.{key}") for key, (_, value) in fields.items()}
    if kind == "person":
        return read_person(src, node, text(src, node, where), where, setup)
    if kind in ("person_or_next", "person_or_all"):
        word = "next" if kind == "person_or_next" else "all"
        value = text(src, node, where)
        if value.strip().lower() == word:
            return word
        return read_person(src, node, value, where, setup)
    if kind == "people":
        return [
            read_person(src, item, text(src, item, where), where, setup)
            for item in sequence(src, node, where)
        ]
    if kind == "presenting":
        return _presenting(src, node, where)
    if kind == "allowances":
        return _allowances(src, node, where, setup)
    return plain(node)


def _presenting(src: Source, node: yaml.Node, where: str) -> dict[str, Any] | None:
    """``null`` (nothing shown) or ``{doc: "1.2", page: 3}``, either key alone too."""
    if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
        return None
    fields = mapping(src, node, where)
    check_keys(src, fields, {"doc", "page"}, where)
    if not fields:
        raise src.error(node, f'{where} names nothing to check (doc: "1.2", page: N, or null)')
    out: dict[str, Any] = {}
    if "doc" in fields:
        out["doc"] = read_doc(src, fields["doc"][1], f"{where}.doc")
    if "page" in fields:
        out["page"] = integer(src, fields["page"][1], f"{where}.page", minimum=1)
    return out


def _allowances(src: Source, node: yaml.Node, where: str, setup: Setup) -> dict[Person, int | float | None]:
    """``{"delegate 3": 480}``: seconds, or null for a speech without a limit."""
    out: dict[Person, int | float | None] = {}
    for key, (key_node, value_node) in mapping(src, node, where).items():
        person = read_person(src, key_node, key, where, setup)
        if isinstance(value_node, yaml.ScalarNode) and value_node.tag == NULL:
            out[person] = None
        else:
            seconds = read_number(src, value_node, f"{where}.{key}")
            out[person] = int(seconds) if seconds.is_integer() else seconds
    return out


def read_doc(src: Source, node: yaml.Node, where: str) -> str:
    """A document reference "1.2": agenda item 1, its second document."""
    if isinstance(node, yaml.ScalarNode) and node.tag != STR:
        raise src.error(
            node,
            f'{where} must be a quoted string such as "1.2" (item 1, document 2); '
            f"an unquoted {node.value} is read as a number",
        )
    value = text(src, node, where)
    if not _DOC.match(value):
        raise src.error(node, f'{where} must look like "1.2" (agenda item 1, its 2nd document)')
    return value


def read_people(src: Source, node: yaml.Node, where: str, setup: Setup) -> tuple[Person, ...]:
    """Everyone an ``as`` value names, each checked against the setup."""
    value = text(src, node, where)
    try:
        people = parse_people(value)
    except ActorError as exc:
        raise src.error(node, f"{where}: {exc}") from exc
    for person in people:
        _exists(src, node, person, where, setup)
    return people


def read_person(src: Source, node: yaml.Node, value: str, where: str, setup: Setup) -> Person:
    """Exactly one participant who exists in the setup."""
    try:
        person = parse_person(value)
    except ActorError as exc:
        raise src.error(node, f"{where}: {exc}") from exc
    _exists(src, node, person, where, setup)
    return person


def _exists(src: Source, node: yaml.Node, person: Person, where: str, setup: Setup) -> None:
    limit = {"delegate": setup.delegates, "guest": setup.guests}.get(person.kind)
    if limit is not None and person.number > limit:
        raise src.error(
            node, f"{where}: {person.kind} {person.number} does not exist (setup has {limit})"
        )
