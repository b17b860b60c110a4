"""The hall's extras around one appliance: the floor timer and the hardware board.

``install`` attaches them as listeners of the service (called once from ``create_app``);
the controllers find them again with ``timer_of`` and ``board_of``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from appliance.web.floor_timer import FloorTimer
from appliance.web.hardware import HardwareBoard

if TYPE_CHECKING:
    from appliance.web.service import Appliance

_TIMERS: weakref.WeakKeyDictionary[Appliance, FloorTimer] = weakref.WeakKeyDictionary()
_BOARDS: weakref.WeakKeyDictionary[Appliance, HardwareBoard] = weakref.WeakKeyDictionary()


def install(appliance: Appliance) -> None:
    """Create the timer and the board and let them hear every published change."""
    if appliance in _TIMERS:
        return
    timer, board = FloorTimer(appliance), HardwareBoard(appliance)
    _TIMERS[appliance], _BOARDS[appliance] = timer, board
    appliance.listeners.append(timer.saw)
    appliance.listeners.append(board.saw)


def timer_of(appliance: Appliance) -> FloorTimer:
    """The appliance's floor timer."""
    install(appliance)
    return _TIMERS[appliance]


def board_of(appliance: Appliance) -> HardwareBoard:
    """The appliance's hardware board."""
    install(appliance)
    return _BOARDS[appliance]
