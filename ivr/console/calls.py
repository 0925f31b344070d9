"""The call page: who is calling, what they said and why the bot handed over, and notes.

GET  /console/calls/<id>         the page (its transcript kept live by /events/calls/<id>)
POST /console/calls/<id>/notes   a note about the caller, shown on their next calls
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ivr.call.switchboard import Switchboard
from ivr.console.users import user
from ivr.console.views import call_page
from ivr.parts import Parts
from ivr.store import NoteStore
from ivr.store.notes import MAX_NOTE_CHARS
from ivr.wiring import use

blueprint = Blueprint("calls", __name__, url_prefix="/calls")


class NoteForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no type hints
    """A note about the caller."""

    text = TextAreaField("Note", validators=[DataRequired(), Length(max=MAX_NOTE_CHARS)])


@blueprint.get("/<call_id>")
def show(call_id: str) -> str:
    """Everything about one call."""
    page = call_page(use(Parts), use(Switchboard), call_id)
    if page is None:
        abort(404, f"No call {call_id} is stored.")
    return render_template("call.html", page=page, form=NoteForm())


@blueprint.post("/<call_id>/notes")
def add_note(call_id: str) -> Response | tuple[str, int]:
    """Keep a note about this call's caller."""
    parts = use(Parts)
    store = parts.call_store()
    call = store.get_call(call_id)
    if call is None:
        abort(404, f"No call {call_id} is stored.")
    if not call.caller:
        abort(400, "This call has no caller number to keep a note against.")
    form = NoteForm()
    if not form.validate_on_submit():
        page = call_page(parts, use(Switchboard), call_id)
        flash(f"A note needs some text, at most {MAX_NOTE_CHARS} characters.", "error")
        return render_template("call.html", page=page, form=form), 400
    NoteStore(store).add(call.caller, user().name, form.text.data or "", parts.clock(), call_id)
    flash("Note kept: it shows on this caller's next calls.", "info")
    return redirect(url_for("console.calls.show", call_id=call_id) + "#notes")
