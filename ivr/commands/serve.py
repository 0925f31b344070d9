"""``ivr serve``: the Twilio-facing web app on a port, for development.

Production runs the same app under gunicorn (the ``web`` entry of the ``Procfile``).
"""

from __future__ import annotations

import click

from ivr.config import DEVELOPMENT_PUBLIC_URL, load_config


@click.command("serve")
@click.option("--port", type=int, default=None, help="Port (default: IVR_PORT or 8000).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--flows",
    "flows_path",
    type=click.Path(exists=True),
    default=None,
    help="Flow folder (default: IVR_FLOWS or flows/).",
)
def serve_command(port: int | None, host: str, flows_path: str | None) -> None:
    """Answer Twilio calls: webhooks, the media stream and /healthz."""
    from werkzeug.serving import make_server

    from ivr.parts import build_parts
    from ivr.twilio.urls import PublicUrls
    from ivr.web import create_app

    overrides: dict[str, object] = {}
    if port is not None:
        overrides["PORT"] = port
    if flows_path is not None:
        overrides["FLOWS"] = flows_path
    config = load_config(overrides)
    parts = build_parts(config)
    app = create_app(config, parts)
    server = make_server(host, int(config["PORT"]), app, threaded=True)
    public = config["PUBLIC_URL"] or DEVELOPMENT_PUBLIC_URL
    urls = PublicUrls(app, public)
    click.echo(
        f"serve: listening on http://{host}:{server.server_port} (Twilio sees {public})\n"
        f"  voice webhook  {urls('twilio.voice.incoming_call')}\n"
        f"  status         {urls('twilio.voice.call_status')}\n"
        f"  health         {PublicUrls(app, f'http://{host}:{server.server_port}')('health.health')}",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        parts.close()
