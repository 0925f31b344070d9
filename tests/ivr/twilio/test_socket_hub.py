"""The socket hub: one thread reads every connection handed to it, each in order, each alone."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask
from simple_websocket import Client  # type: ignore[import-untyped]
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Request

from ivr.twilio.socket_hub import SocketHub
from ivr.twilio.websocket import route
from tests.fixtures.live_server import serving
from tests.fixtures.socket_client import hang_up
from tests.fixtures.waiting import wait_for


@dataclass
class Seen:
    """What the route's ``take`` got, per connection, and on which threads."""

    messages: dict[str, list[str]] = field(default_factory=dict)
    threads: set[str] = field(default_factory=set)
    ended: list[str] = field(default_factory=list)
    until: dict[str, threading.Event] = field(default_factory=dict)
    route_threads: dict[str, int] = field(default_factory=dict)  # native thread ids, by name
    reads: list[int] = field(default_factory=list)  # messages per take


@pytest.fixture
def hub_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Seen, SocketHub]]:
    """A route that reads a name on its own thread, then hands the socket to the hub.

    ``take`` echoes each message, ends the connection on "bye", raises on "boom", and on
    "close" closes our side a moment later from another thread (as a call's own thread does),
    setting the connection's ``until`` and letting it go. A connection named "closed-early"
    has its ``until`` set before it is handed to the hub.
    """
    seen, hub = Seen(), SocketHub(tick_s=getattr(request, "param", 0.0))
    blueprint = Blueprint("hub", __name__)

    @route(blueprint, "/hub")
    def handler(ws: Any) -> None:
        time.sleep(0.2)  # what the peer sends at once is then read with the name, in one read
        name = ws.receive()
        got = seen.messages.setdefault(name, [])
        until = seen.until.setdefault(name, threading.Event())

        def take(messages: list[str | bytes]) -> bool:
            seen.threads.add(threading.current_thread().name)
            seen.reads.append(len(messages))
            for message in messages:
                assert isinstance(message, str)
                if message == "boom":
                    raise RuntimeError("a connection's own failure")
                if message == "close":
                    threading.Timer(0.1, close_our_side).start()
                    return True
                got.append(message)
                ws.send(f"{name}: {message}")
                if message == "bye":
                    return False
            return True

        def close_our_side() -> None:
            ws.close()
            until.set()
            hub.let_go(ws)

        if name == "unreadable":
            ws.read_ready = broken_read  # its socket fails to read (a bug, a protocol error)
        if name == "closed-early":
            ws.close()
            until.set()
        seen.route_threads[name] = threading.get_native_id()
        hub.serve(ws, take, until=until)
        seen.ended.append(name)

    app = Flask(__name__)
    app.register_blueprint(blueprint)
    with serving(app) as url:
        yield url.replace("http://", "ws://") + "/hub", seen, hub


def broken_read() -> tuple[list[str | bytes], bool]:
    raise RuntimeError("the socket could not be read")


def connect(url: str, name: str) -> Any:
    client = Client.connect(url)
    client.send(name)
    return client


def test_one_thread_reads_every_connection_each_in_its_own_order(
    hub_server: tuple[str, Seen, SocketHub],
) -> None:
    url, seen, hub = hub_server
    clients = {name: connect(url, name) for name in ("a", "b", "c", "d")}
    try:
        for n in range(30):
            for client in clients.values():
                client.send(f"{n}")
        for name, client in clients.items():
            replies = [client.receive(timeout=5) for _ in range(30)]
            assert replies == [f"{name}: {n}" for n in range(30)]
        assert seen.threads == {"socket-hub"}
        assert hub.connections == 4
        for client in clients.values():
            client.send("bye")
        wait_for("every route to end", lambda: sorted(seen.ended) == ["a", "b", "c", "d"], 5)
        assert hub.connections == 0
    finally:
        for client in clients.values():
            hang_up(client)


def test_messages_sent_with_the_first_are_not_lost(
    hub_server: tuple[str, Seen, SocketHub],
) -> None:
    """What one read brought before the hub took over (here: with the name) comes first."""
    url, seen, _ = hub_server
    client = Client.connect(url)
    try:
        for message in ("early", "1", "2", "3", "bye"):
            client.send(message)  # sent at once: often read along with "early"
        wait_for("the route to end", lambda: seen.ended == ["early"], 5)
        assert seen.messages["early"] == ["1", "2", "3", "bye"]
    finally:
        hang_up(client)


def test_a_failing_connection_ends_alone(hub_server: tuple[str, Seen, SocketHub]) -> None:
    url, seen, _ = hub_server
    good, bad = connect(url, "good"), connect(url, "bad")
    try:
        good.send("1")
        assert good.receive(timeout=5) == "good: 1"
        bad.send("boom")
        wait_for("the failing route to end", lambda: seen.ended == ["bad"], 5)
        good.send("2")
        assert good.receive(timeout=5) == "good: 2"
    finally:
        hang_up(good)
        hang_up(bad)


def test_a_connection_that_cannot_be_read_ends_alone_and_the_hub_reads_on(
    hub_server: tuple[str, Seen, SocketHub],
) -> None:
    url, seen, hub = hub_server
    good, bad = connect(url, "good"), connect(url, "unreadable")
    try:
        wait_for("both on the hub", lambda: hub.connections == 2, 5)
        bad.send("1")
        wait_for("the unreadable route to end", lambda: seen.ended == ["unreadable"], 5)
        good.send("2")
        assert good.receive(timeout=5) == "good: 2"
        assert hub.connections == 1
    finally:
        hang_up(good)
        hang_up(bad)


def test_our_close_ends_the_route_though_the_peer_says_nothing_more(
    hub_server: tuple[str, Seen, SocketHub],
) -> None:
    """A peer that never answers our close frame (a raw client that stops reading)."""
    url, seen, hub = hub_server
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    peer = WSConnection(ConnectionType.CLIENT)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(peer.send(Request(host=host, target="/hub")))
        while not any(isinstance(e, AcceptConnection) for e in peer.events()):
            peer.receive_data(raw.recv(4096))
        raw.sendall(peer.send(Message(data="quiet")))
        time.sleep(0.3)  # the name is read on the route's thread; the hub takes "close"
        raw.sendall(peer.send(Message(data="close")))
        wait_for("the route to end", lambda: seen.ended == ["quiet"], 5)
        assert hub.connections == 0


def test_a_connection_closed_before_the_hub_took_it_ends_the_route(
    hub_server: tuple[str, Seen, SocketHub],
) -> None:
    url, seen, hub = hub_server
    client = connect(url, "closed-early")
    try:
        wait_for("the route to end", lambda: seen.ended == ["closed-early"], 5)
        assert hub.connections == 0
    finally:
        hang_up(client)


def test_the_waiting_route_sleeps_until_its_connection_ends(
    hub_server: tuple[str, Seen, SocketHub],
) -> None:
    """No polling: the request's thread does not wake while its call goes on."""
    url, seen, hub = hub_server
    client = connect(url, "quiet")
    try:
        wait_for("the route on the hub", lambda: hub.connections == 1, 5)
        time.sleep(0.1)
        before = wake_ups(seen.route_threads["quiet"])
        for n in range(10):
            client.send(f"{n}")
            assert client.receive(timeout=5) == f"quiet: {n}"
            time.sleep(0.1)
        assert wake_ups(seen.route_threads["quiet"]) == before
        client.send("bye")
        wait_for("the route to end", lambda: seen.ended == ["quiet"], 5)
    finally:
        hang_up(client)


def wake_ups(native_id: int) -> int:
    """How many times a thread of this process has gone to sleep and woken (Linux)."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return int(status.split("voluntary_ctxt_switches:")[1].split()[0])


def test_a_peer_that_hangs_up_ends_the_route(hub_server: tuple[str, Seen, SocketHub]) -> None:
    url, seen, hub = hub_server
    client = connect(url, "gone")
    client.send("1")
    assert client.receive(timeout=5) == "gone: 1"
    client.close()
    wait_for("the route to end", lambda: seen.ended == ["gone"], 5)
    assert hub.connections == 0


@pytest.mark.parametrize("hub_server", [0.1], indirect=True)
def test_with_a_tick_one_wake_up_takes_what_came_meanwhile(
    hub_server: tuple[str, Seen, SocketHub],
) -> None:
    """Messages 10 ms apart, read every 100 ms: a few reads of several messages, in order."""
    url, seen, _ = hub_server
    client = connect(url, "paced")
    try:
        wait_for("the route on the hub", lambda: seen.threads or seen.messages, 5)
        time.sleep(0.3)  # the name's read is done; the hub has it
        for n in range(30):
            client.send(f"{n}")
            time.sleep(0.01)
        client.send("bye")
        wait_for("the route to end", lambda: seen.ended == ["paced"], 5)
        assert seen.messages["paced"] == [str(n) for n in range(30)] + ["bye"]
        assert len(seen.reads) <= 8 and max(seen.reads) >= 3, seen.reads
    finally:
        hang_up(client)
