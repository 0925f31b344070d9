"""Problems found in a flow, each pointing at the YAML line an admin can fix."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.flow.model import Location


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the current directory when it lies below it, else absolute."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    return absolute if relative.startswith(os.pardir) else relative


@dataclass(frozen=True)
class FlowProblem:
    """One thing wrong with a flow.

    ``str(problem)`` gives ``flows/main.yaml:42: step 'billing_info': <message>``; the step
    part is left out when ``step`` is None.
    """

    location: Location
    step: str | None
    message: str

    def __str__(self) -> str:
        where = f"step '{self.step}': " if self.step is not None else ""
        return f"{self.location}: {where}{self.message}"


class FlowError(Exception):
    """A flow that cannot be used; ``problems`` lists every reason, in file order."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the flow:\n{lines}")
