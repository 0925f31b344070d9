"""People at the edge: which agent to ring for a queue, and how long callers wait for one.

The queues and agents themselves are declared in the flow (``flows/people.yaml``, loaded by
:mod:`bot.flow.people`); this package only decides, given a clock reading passed in.
"""

from ivr.people.routing import agents_to_try, expected_wait_seconds, next_agent, queue_is_open

__all__ = ["agents_to_try", "expected_wait_seconds", "next_agent", "queue_is_open"]
