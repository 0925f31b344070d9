"""Indexes for the supervisor dashboard's figures (ivr/metrics, docs/metrics.md).

``calls (caller, started_at)`` replaces ``calls (caller)``: it finds a caller's next call
within 24 h from the index alone, and still serves a returning caller's history. ``turns (at)``
finds the turns of a period; ``callbacks (call_id)`` the calls that became callbacks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the dashboard's indexes (indexes only: no table is copied)."""
    op.create_index(op.f("ix_callbacks_call_id"), "callbacks", ["call_id"])
    op.drop_index(op.f("ix_calls_caller"), table_name="calls")
    op.create_index(op.f("ix_calls_caller_started_at"), "calls", ["caller", "started_at"])
    op.create_index(op.f("ix_turns_at"), "turns", ["at"])


def downgrade() -> None:
    """Drop them, and put back the index on ``calls (caller)``."""
    op.drop_index(op.f("ix_turns_at"), table_name="turns")
    op.drop_index(op.f("ix_calls_caller_started_at"), table_name="calls")
    op.create_index(op.f("ix_calls_caller"), "calls", ["caller"])
    op.drop_index(op.f("ix_callbacks_call_id"), table_name="callbacks")
