"""People numbers on calls; callbacks and their transitions (schema version 3).

The second shipped layout, commit b2dfdcd: ``calls`` gains who was rung and answered, the
call's numbers (resolved by the bot, abandoned) and an index on ``caller`` (a returning
caller's history); the callback worker's ``callbacks`` and ``callback_transitions`` appear.
Revision ids follow the old ``schema_version`` numbers; version 2 never shipped, so there is no
revision 0002.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)  # ivr.store.schema.UTCDateTime stores this type

CALL_COLUMNS = (
    ("transferred_at", TIME),
    ("answered_at", TIME),
    ("agent", sa.String()),
    ("resolved_by_bot", sa.Boolean()),
    ("abandoned", sa.Boolean()),
)


def upgrade() -> None:
    """Add the people columns to ``calls``; create the two callback tables."""
    with op.batch_alter_table("calls") as calls:
        for name, kind in CALL_COLUMNS:
            calls.add_column(sa.Column(name, kind, nullable=True))
        calls.create_index(calls.f("ix_calls_caller"), ["caller"])
    _create_callbacks()
    _create_callback_transitions()


def _create_callbacks() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(), nullable=True),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("from_number", sa.String(), nullable=True),
        sa.Column("agent_id", sa.String(), nullable=True),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("promised_at", TIME, nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_after_minutes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", TIME, nullable=True),
        sa.Column("dial_sid", sa.String(), nullable=True),
        sa.Column("dial_to", sa.String(), nullable=True),
        sa.Column("dial_started_at", TIME, nullable=True),
        sa.Column("connected_at", TIME, nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_status_due_at"), "callbacks", ["status", "due_at"])
    op.create_index(op.f("ix_callbacks_number"), "callbacks", ["number"])


def _create_callback_transitions() -> None:
    op.create_table(
        "callback_transitions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.String(length=32), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name=op.f("fk_callback_transitions_callback_id_callbacks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_transitions")),
    )
    op.create_index(
        op.f("ix_callback_transitions_callback_id_id"),
        "callback_transitions",
        ["callback_id", "id"],
    )


def downgrade() -> None:
    """Drop the callback tables (every booked callback) and the people columns of ``calls``."""
    op.drop_table("callback_transitions")
    op.drop_table("callbacks")
    with op.batch_alter_table("calls") as calls:
        calls.drop_index(calls.f("ix_calls_caller"))
        for name, _ in reversed(CALL_COLUMNS):
            calls.drop_column(name)
