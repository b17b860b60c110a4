"""Scenario YAML read as nodes, so every file error can name its line and key.

A scenario is written by people outside the team (acceptance checks, IT staff
rehearsing a sitting); an error that says "line 14: unknown key 'anwser'" saves them
a guess. ``yaml.compose`` keeps the marks that ``yaml.safe_load`` throws away, and it
keeps each scalar's resolved tag, which is how ``doc: 1.2`` (a float) is told apart
from ``doc: "1.2"`` (a string).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"


class ScenarioFileError(Exception):
    """The scenario file is invalid; printed as ``FILE:LINE: message`` and exit 2."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


class Source:
    """One scenario file: its path and a helper to raise errors at a node's line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: yaml.Node | None, message: str) -> ScenarioFileError:
        """An error pointing at ``node`` (line 1 when there is no node)."""
        line = node.start_mark.line + 1 if node is not None else 1
        return ScenarioFileError(self.path, line, message)

    def compose(self) -> yaml.Node:
        """Parse the file into nodes; YAML syntax errors keep their line."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioFileError(self.path, 1, f"cannot read the file: {exc}") from exc
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            raise ScenarioFileError(self.path, line, f"YAML syntax: {exc.problem}") from exc
        except yaml.YAMLError as exc:
            raise ScenarioFileError(self.path, 1, f"YAML syntax: {exc}") from exc
        if node is None:
            raise ScenarioFileError(self.path, 1, "the file is empty")
        return node


def plain(node: yaml.Node) -> Any:
    """The Python value of a node (for values passed through or reported back)."""
    return SafeConstructor().construct_object(node, deep=True)


Fields = dict[str, tuple[yaml.Node, yaml.Node]]


def mapping(src: Source, node: yaml.Node, where: str) -> Fields:
    """A mapping's keys with their key and value nodes; duplicate keys are an error."""
    if not isinstance(node, yaml.MappingNode):
        raise src.error(node, f"{where} must be a mapping (key: value)")
    fields: Fields = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR:
            raise src.error(key_node, f"{where}: keys must be plain words")
        key = str(key_node.value)
        if key in fields:
            raise src.error(key_node, f"{where}: key '{key}' appears twice")
        fields[key] = (key_node, value_node)
    return fields


def check_keys(src: Source, fields: Fields, allowed: set[str] | frozenset[str], where: str) -> None:
    """Unknown keys are an error (SCENARIO.md), never ignored."""
    for key, (key_node, _) in fields.items():
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise src.error(key_node, f"{where}: unknown key '{key}' (allowed: {known})")


def sequence(src: Source, node: yaml.Node, where: str) -> list[yaml.Node]:
    """The items of a YAML list."""
    if not isinstance(node, yaml.SequenceNode):
        raise src.error(node, f"{where} must be a list")
    return list(node.value)


def text(src: Source, node: yaml.Node, where: str) -> str:
    """A string value; numbers and booleans are refused so ``"1.2"`` stays exact."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != STR:
        raise src.error(node, f"{where} must be a quoted or plain string")
    return str(node.value)


def integer(src: Source, node: yaml.Node, where: str, minimum: int = 0) -> int:
    """A whole number at least ``minimum``."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
        raise src.error(node, f"{where} must be a whole number")
    value = plain(node)
    assert isinstance(value, int)
    if value < minimum:
        raise src.error(node, f"{where} must be at least {minimum}")
    return value


def number(src: Source, node: yaml.Node, where: str) -> float:
    """A number (whole or decimal) that is not negative."""
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (INT, FLOAT):
        raise src.error(node, f"{where} must be a number")
    value = float(plain(node))
    if value < 0:
        raise src.error(node, f"{where} must not be negative")
    return value


def boolean(src: Source, node: yaml.Node, where: str) -> bool:
    """``true`` or ``false``."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
        raise src.error(node, f"{where} must be true or false")
    return bool(plain(node))


def texts(src: Source, node: yaml.Node, where: str) -> list[str]:
    """A list of strings (answer codes, candidate names, file paths)."""
    return [text(src, item, f"{where} item") for item in sequence(src, node, where)]
