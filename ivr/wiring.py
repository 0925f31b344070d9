"""How a blueprint reaches the process's parts: by type, from the app's extensions.

``create_app`` provides each part once (:func:`provide`); a handler asks for what it needs
(:func:`use`), typed, without importing the module that assembled it (which would import the
blueprints back).
"""

from __future__ import annotations

from typing import TypeVar

from flask import Flask, current_app

T = TypeVar("T")

EXTENSION = "ivr.parts"


def provide(app: Flask, *parts: object) -> None:
    """Make ``parts`` available to ``app``'s handlers, each under its own type."""
    registry: dict[type, object] = app.extensions.setdefault(EXTENSION, {})
    for part in parts:
        registry[type(part)] = part


def use(kind: type[T]) -> T:
    """The part of type ``kind`` the current app was given.

    Raises:
        LookupError: ``create_app`` did not provide one (a wiring bug, not a request problem).
    """
    registry: dict[type, object] = current_app.extensions.get(EXTENSION, {})
    part = registry.get(kind)
    if not isinstance(part, kind):
        raise LookupError(f"no {kind.__name__} was provided to the app")
    return part


def maybe_use(kind: type[T]) -> T | None:
    """The part of type ``kind`` if the current app was given one (an optional surface)."""
    registry: dict[type, object] = current_app.extensions.get(EXTENSION, {})
    part = registry.get(kind)
    return part if isinstance(part, kind) else None
