"""Who answers: the agents of each queue on shift (routing), or one number per queue (directory).

The queues and agents themselves are declared in the flow (``flows/people.yaml``, loaded by
:mod:`bot.flow.people`); this package only decides, given a clock reading passed in.
"""

from ivr.people.routing import agents_to_try, expected_wait_seconds, next_agent, queue_is_open

__all__ = ["agents_to_try", "expected_wait_seconds", "next_agent", "queue_is_open"]
