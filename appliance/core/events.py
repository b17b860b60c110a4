"""Events: the facts a sitting is made of. Typed dataclasses with a registry.

An event is what ``appliance.meeting`` decides and what the journal stores. It must be
JSON-serialisable through ``to_dict``/``from_dict`` so the journal can replay it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

_REGISTRY: dict[str, type[Event]] = {}

E = TypeVar("E", bound="Event")


@dataclasses.dataclass(frozen=True)
class Event:
    """Base of every event; subclasses set ``type`` and are registered by ``@event``."""

    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        """``{"type": ..., **fields}``."""
        return {"type": self.type, **dataclasses.asdict(self)}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Event:
        """Rebuild a registered event from its dict form."""
        body = dict(data)
        kind = body.pop("type")
        cls = _REGISTRY.get(kind)
        if cls is None:
            raise ValueError(f"unknown event type {kind!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _thaw(v) for k, v in body.items() if k in names})


def _thaw(value: Any) -> Any:
    # JSON turns tuples into lists; frozen events keep tuples for hashability.
    if isinstance(value, list):
        return tuple(_thaw(v) for v in value)
    return value


def event(name: str) -> Any:
    """Class decorator: ``@event("ballot_cast")`` registers a frozen dataclass event."""

    def wrap(cls: type[E]) -> type[E]:
        cls.type = name
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"event type {name!r} registered twice")
        _REGISTRY[name] = cls
        return cls

    return wrap


def registered() -> dict[str, type[Event]]:
    """All event types, for tests and docs."""
    return dict(_REGISTRY)
