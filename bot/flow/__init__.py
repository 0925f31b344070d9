"""The flow language: load admins' YAML into a typed, validated :class:`Flow`.

Use :func:`load_flow` to get a flow or a :class:`FlowError`; :func:`check_flow` to get every
problem without raising. The model lives in :mod:`bot.flow.model`.
"""

from __future__ import annotations

from bot.flow.errors import FlowError, FlowProblem
from bot.flow.loader import check_flow, flow_files, load_flow
from bot.flow.model import Flow, Location
from bot.flow.validate import Sources, validate

__all__ = [
    "Flow",
    "FlowError",
    "FlowProblem",
    "Location",
    "Sources",
    "check_flow",
    "flow_files",
    "load_flow",
    "validate",
]
