"""Imports every feature module of the rules so their handlers, appliers and view sections
register. Add a line here for a new module (groups, poll series, ...)."""

from __future__ import annotations

import appliance.meeting.attendance_pin  # noqa: F401
import appliance.meeting.custom_roles  # noqa: F401
import appliance.meeting.device_trust  # noqa: F401
import appliance.meeting.doc_rules  # noqa: F401
import appliance.meeting.floor  # noqa: F401
import appliance.meeting.groups  # noqa: F401
import appliance.meeting.minutes  # noqa: F401
import appliance.meeting.participants  # noqa: F401
import appliance.meeting.poll_commands  # noqa: F401
import appliance.meeting.poll_events  # noqa: F401
import appliance.meeting.poll_prepared  # noqa: F401
import appliance.meeting.public_view  # noqa: F401
import appliance.meeting.seating  # noqa: F401
from appliance.meeting import provisioned  # noqa: F401
