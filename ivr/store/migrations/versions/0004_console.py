"""The console: accounts, log-in failures, presence, busy agents, notes, claims, live stage.

``calls`` gains where the call is now (``stage``) and the intent the bot acted on; a callback
can be claimed by an agent who handles it by hand. New tables: ``users`` (console accounts),
``login_failures`` (throttling), ``agent_presence``, ``agent_busy`` (one row per agent being
rung or on a call) and ``caller_notes``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)  # ivr.store.schema.UTCDateTime stores this type


def upgrade() -> None:
    """Add the live columns and the claim, and create the console's tables."""
    with op.batch_alter_table("calls") as calls:
        calls.add_column(sa.Column("stage", sa.String(), nullable=True))
        calls.add_column(sa.Column("intent", sa.String(), nullable=True))
    with op.batch_alter_table("callbacks") as callbacks:
        callbacks.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        callbacks.add_column(sa.Column("claimed_at", TIME, nullable=True))
    _create_accounts()
    _create_agents()
    _create_notes()


def _create_accounts() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_name_at"), "login_failures", ["name", "at"])
    op.create_index(op.f("ix_login_failures_address_at"), "login_failures", ["address", "at"])


def _create_agents() -> None:
    op.create_table(
        "agent_presence",
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("agent", name=op.f("pk_agent_presence")),
    )
    op.create_table(
        "agent_busy",
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(), nullable=True),
        sa.Column("callback_id", sa.String(), nullable=True),
        sa.Column("since", TIME, nullable=False),
        sa.Column("until", TIME, nullable=False),
        sa.PrimaryKeyConstraint("agent", name=op.f("pk_agent_busy")),
    )


def _create_notes() -> None:
    op.create_table(
        "caller_notes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("call_id", sa.String(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caller_notes")),
    )
    op.create_index(op.f("ix_caller_notes_number_at"), "caller_notes", ["number", "at"])


def downgrade() -> None:
    """Drop the console's tables and columns."""
    op.drop_index(op.f("ix_caller_notes_number_at"), table_name="caller_notes")
    op.drop_table("caller_notes")
    op.drop_table("agent_busy")
    op.drop_table("agent_presence")
    op.drop_index(op.f("ix_login_failures_address_at"), table_name="login_failures")
    op.drop_index(op.f("ix_login_failures_name_at"), table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("users")
    with op.batch_alter_table("callbacks") as callbacks:
        callbacks.drop_column("claimed_at")
        callbacks.drop_column("claimed_by")
    with op.batch_alter_table("calls") as calls:
        calls.drop_column("intent")
        calls.drop_column("stage")
