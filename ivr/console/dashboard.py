"""The supervisor's dashboard and wall screen (figures from :mod:`ivr.metrics`)."""

from __future__ import annotations

from flask import Blueprint, render_template

from ivr.console.users import supervisor_only

blueprint = Blueprint("dashboard", __name__)


@blueprint.get("/dashboard")
@supervisor_only
def show() -> str:
    """The figures over a period."""
    return render_template("error.html", code=200, message="pending")


@blueprint.get("/wall")
@supervisor_only
def wall() -> str:
    """The real-time view."""
    return render_template("error.html", code=200, message="pending")
