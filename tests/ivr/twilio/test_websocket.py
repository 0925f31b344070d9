"""The socket route: WebSocket messages both ways, read on the request's thread alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask
from simple_websocket import Client, ConnectionClosed  # type: ignore[import-untyped]

from ivr.twilio.websocket import route
from tests.fixtures.live_server import serving
from tests.fixtures.socket_client import hang_up
from tests.fixtures.waiting import wait_for

READERS = "simple_websocket.Base._thread"  # the name simple_websocket gives a reader thread


def reader_threads() -> int:
    return sum(READERS in thread.name for thread in threading.enumerate())


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """An app whose socket answers each message with how many reader threads exist."""
    ended: list[str] = []
    blueprint = Blueprint("sockets", __name__)

    @route(blueprint, "/echo")
    def echo(ws: Any) -> None:
        try:
            while (message := ws.receive()) != "bye":
                ws.send(f"{message} {reader_threads()}")
            ws.close()  # as a call ends: our side closes
            ended.append("closed by us")
        except ConnectionClosed:
            ended.append("closed by the peer")

    app = Flask(__name__)
    app.register_blueprint(blueprint)
    with serving(app) as url:
        yield url.replace("http://", "ws://") + "/echo", ended


def test_messages_go_both_ways_with_no_reader_thread_on_the_server(
    server: tuple[str, list[str]],
) -> None:
    url, ended = server
    client = Client.connect(url)  # the client has a reader thread of its own: one in all
    try:
        replies = []
        for n in range(20):
            client.send(f"frame {n}")
            replies.append(client.receive(timeout=5))
        assert replies == [f"frame {n} 1" for n in range(20)]
        client.send("bye")
        wait_for("the server's close", lambda: ended == ["closed by us"], timeout=5)
        with pytest.raises(ConnectionClosed):
            while client.receive(timeout=5) is not None:
                pass
    finally:
        hang_up(client)


def test_a_peer_that_hangs_up_ends_the_route(server: tuple[str, list[str]]) -> None:
    url, ended = server
    client = Client.connect(url)
    client.send("hello")
    assert client.receive(timeout=5) == "hello 1"
    client.close()
    wait_for("the route to end", lambda: ended == ["closed by the peer"], timeout=5)


def test_pings_between_messages_are_answered_and_the_messages_go_on(
    server: tuple[str, list[str]],
) -> None:
    """The first ping hands the connection to wsproto: it answers, and reads what follows."""
    url, _ = server
    client = Client.connect(url, ping_interval=0.05)  # closes itself if a pong does not come
    try:
        replies = []
        for n in range(12):
            client.send(f"frame {n}")
            replies.append(client.receive(timeout=5))
            time.sleep(0.03)  # pings come between the messages
        assert replies == [f"frame {n} 1" for n in range(12)]
        assert client.pong_received and client.connected
    finally:
        hang_up(client)


def reads_for(messages: int, gap_s: float, read_every_s: float, urgent: bool) -> list[list[str]]:
    """Send ``messages`` ``gap_s`` apart: the messages the route got, grouped by socket read."""
    groups: list[list[str]] = [[]]
    done = threading.Event()
    blueprint = Blueprint("paced", __name__)

    @route(blueprint, "/paced")
    def paced(ws: Any) -> None:
        ws.urgent = lambda: urgent
        while (message := ws.receive()) != "bye":
            groups[-1].append(message)
            if not ws.buffered:  # the last message this read brought
                groups.append([])
        done.set()

    app = Flask(__name__)
    app.config["SOCK_SERVER_OPTIONS"] = {"read_every_s": read_every_s}
    app.register_blueprint(blueprint)
    with serving(app) as url:
        client = Client.connect(url.replace("http://", "ws://") + "/paced")
        try:
            for n in range(messages):
                client.send(f"frame {n}")
                time.sleep(gap_s)
            client.send("bye")
            assert done.wait(5), "the route never saw the last message"
        finally:
            hang_up(client)
    return [group for group in groups if group]


def test_a_paced_socket_takes_the_messages_that_came_meanwhile_in_one_read() -> None:
    groups = reads_for(8, gap_s=0.05, read_every_s=0.3, urgent=False)
    assert [message for group in groups for message in group] == [f"frame {n}" for n in range(8)]
    # 8 messages over 0.4 s, read at most every 0.3 s: the first at once, the rest in one or
    # two reads (each message alone would be 8 reads).
    assert len(groups) <= 3 and max(len(group) for group in groups) >= 3


def test_an_urgent_socket_reads_each_message_as_it_comes() -> None:
    groups = reads_for(6, gap_s=0.1, read_every_s=0.3, urgent=True)
    assert [message for group in groups for message in group] == [f"frame {n}" for n in range(6)]
    assert len(groups) >= 5  # one read per message (a stall of 100 ms may join two)
