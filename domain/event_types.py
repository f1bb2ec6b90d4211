"""The contract's event ``type`` names, derived from the nested event classes.

No hand-kept table: the type is the snake_case of the class name.
"""

from __future__ import annotations

from domain.partnership import Partnership, snake_case
from domain.values import SYSTEM_TYPES

EVENT_CLASSES: dict[str, type[Partnership.Event]] = {
    snake_case(cls.__name__): cls
    for cls in vars(Partnership).values()
    if isinstance(cls, type)
    and issubclass(cls, Partnership.Event)
    and cls.__name__ not in ("Event", "Created")  # the library's own bases
}

#: Every type of the contract, in declaration order.
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_CLASSES)

#: Types an officer records through the generic door (``Tracker.record_event``).
RECORDABLE: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in SYSTEM_TYPES)


def event_class(event_type: str) -> type[Partnership.Event]:
    return EVENT_CLASSES[event_type]
