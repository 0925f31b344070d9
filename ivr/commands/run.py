"""``ivr run``: what ``make run`` does once the environments exist.

Checks the flows, trains the NLU model if the flows' examples changed, brings a development
database's tables up to date (production processes refuse an old schema; ``ivr db upgrade`` is
then a deliberate step), prints where everything is, then hands over to honcho, which starts
every process of the ``Procfile``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from bot.flow import Flow
from ivr.commands.common import load_flow_or_exit
from ivr.config import (
    DEVELOPMENT_API_TOKEN,
    DEVELOPMENT_PUBLIC_URL,
    ROOT,
    load_config,
    model_paths,
)
from ivr.nlu.service import train_model

if TYPE_CHECKING:
    from ivr.twilio.urls import PublicUrls


@click.command("run")
@click.option(
    "--flows",
    "flows_path",
    type=click.Path(exists=True),
    default=None,
    help="Flow folder (default: IVR_FLOWS or flows/).",
)
def run_command(flows_path: str | None) -> None:
    """Check the flows, train if needed, and start the services of the Procfile."""
    config = load_config()
    flows_path = flows_path or config["FLOWS"]
    flow = load_flow_or_exit(flows_path, "run")
    model = train_model(flow, config)
    database = _database_ready(config)
    port = config["NLU_PORT"]
    worker_state = (
        "account set" if config["TWILIO_ACCOUNT_SID"] else "idle until TWILIO_ACCOUNT_SID is set"
    )
    bin_dir = ROOT / ".venv" / "bin"
    local, signed = _addresses(config)
    click.echo(
        f"\n  flow      {flow.name}: {len(flow.steps)} steps, {len(flow.intents)} intents"
        f" ({', '.join(flow.languages)}) from {flows_path}\n"
        f"  model     {model}\n"
        f"  speech    {_speech_line(config, flow)}\n"
        f"  database  {database}\n"
        f"  NLU       http://{config['NLU_HOST']}:{port}"
        " (Rasa, starting; loading takes about a minute)\n"
        f"  phone     {local('twilio.voice.incoming_call')}"
        f" (signed as {signed('twilio.voice.incoming_call')}),"
        f" health: {local('health.health')}\n"
        f"  worker    places due callbacks through Twilio's REST API ({worker_state})\n"
        f"  API       {local('api.list_callbacks')}"
        f" (Authorization: Bearer {config['API_TOKEN'] or DEVELOPMENT_API_TOKEN})\n"
        f"  console   {local('console.agent.home')} ({_console_state(config)})\n"
        f"{_browser_phone(config, local)}"
        f"\n  Call it with the Twilio emulator (after the NLU is up):\n"
        f"    {bin_dir}/ivr call --script docs/examples/call.txt\n"
        f"\n  Talk to the bot, in another terminal:\n"
        f"    {bin_dir}/ivr simulate --verbose\n"
        f"    {bin_dir}/ivr test                # the conversation tests in flows/tests\n"
        f"    echo 'my broadband is down' | {bin_dir}/ivr nlu parse\n"
        f"  Edit flows/*.yaml and the running service retrains and swaps the model itself.\n"
        f"  Stop with Ctrl-C.\n",
        err=True,
    )
    honcho = shutil.which("honcho", path=str(bin_dir)) or shutil.which("honcho")
    if honcho is None:
        raise SystemExit("run: honcho is not installed; run `make run` to build the environment")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "IVR_FLOWS": str(flows_path),
        # The web process talks to the nlu process: same address, one shared secret.
        "IVR_NLU_URL": f"http://{config['NLU_HOST']}:{port}",
        "IVR_NLU_TOKEN": str(config["NLU_TOKEN"]) or secrets.token_urlsafe(24),
    }
    sys.stdout.flush()
    os.execve(
        honcho,
        [honcho, "--procfile", str(ROOT / "Procfile"), "--app-root", str(ROOT), "start"],
        env,
    )


def _addresses(config: Mapping[str, Any]) -> tuple[PublicUrls, PublicUrls]:
    """The routes' addresses on this machine, and as Twilio signs them."""
    from ivr.twilio.urls import PublicUrls
    from ivr.web.app import route_map

    routes = route_map()
    local = PublicUrls(routes, f"http://127.0.0.1:{config['PORT']}")
    return local, PublicUrls(routes, str(config["PUBLIC_URL"] or DEVELOPMENT_PUBLIC_URL))


def _speech_line(config: Mapping[str, Any], flow: Flow) -> str:
    """Which of the flow's languages callers can speak, and how to get the missing models."""
    from voice import asr

    # Quiet: the line below says it once, not once per language.
    paths = model_paths(config, flow.languages, flow.default_language, quiet=True)
    heard = [lang for lang, path in paths.items() if path is not None]
    deaf = [lang for lang, path in paths.items() if path is None]
    text = f"heard in {', '.join(heard)}" if heard else "no language heard"
    if deaf:
        codes = " ".join(asr.vosk_language(lang) for lang in deaf if lang != "lv")
        text += f"; keypad and a person in {', '.join(deaf)}"
        text += f" (`ivr models download {codes}`, needs the internet)" if codes else ""
    return text


def _browser_phone(config: Mapping[str, Any], local: PublicUrls) -> str:
    """The browser phone's banner line: where it is (or nothing)."""
    from ivr.config import simulator_on

    if not simulator_on(config):
        return ""
    page = local("simulator.pages.page")
    return f"  browser   {page} (call the line from this browser, or type)\n"


def _console_state(config: Mapping[str, Any]) -> str:
    """Whether the console can be used, and how to make its first account if none exists."""
    from ivr.config import console_secret
    from ivr.store import AccountStore, Store, StoreUnavailable, database_url

    first = "create the first account: .venv/bin/ivr users add NAME --role supervisor"
    if console_secret(config) is None:
        return "off until IVR_SECRET_KEY is set"
    try:
        store = Store(database_url(str(config["DATABASE_URL"]) or None))
    except StoreUnavailable:
        return f"database unavailable; {first}"
    try:
        accounts = [account for account in AccountStore(store).list() if not account.disabled]
    except StoreUnavailable:
        return f"database unavailable; {first}"
    finally:
        store.close()
    if not accounts:
        return f"no accounts yet; {first}"
    names = ", ".join(f"{account.name} ({account.role})" for account in accounts[:5])
    more = f" and {len(accounts) - 5} more" if len(accounts) > 5 else ""
    return f"accounts: {names}{more}; add one with .venv/bin/ivr users add NAME --role agent"


def _database_ready(config: Mapping[str, Any]) -> str:
    """Migrate a development database to this code's tables; what it is, for the banner."""
    from ivr.store import StoreUnavailable, UnknownSchema, database_url
    from ivr.store.database import Database
    from ivr.store.migrate import upgrade

    if config["MODE"] != "development":
        return "as configured (production: `ivr db upgrade` migrates it)"
    try:
        database = Database(database_url(str(config["DATABASE_URL"]) or None))
    except StoreUnavailable as error:
        return f"unavailable: {error} (callers reach people until it answers)"
    try:
        done = upgrade(database)
    except StoreUnavailable as error:
        return f"unavailable: {error} (callers reach people until it answers)"
    except UnknownSchema as error:
        raise SystemExit(f"run: {error}") from None
    finally:
        database.close()
    if done.created:
        return f"{database.url} (tables created)"
    migrated = done.applied or ((done.adopted,) if done.adopted else ())
    return f"{database.url} ({'migrated' if migrated else 'up to date'})"
