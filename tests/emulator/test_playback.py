"""Twilio's playback buffer with a made-up clock: audio by wall time, marks, clear."""

from __future__ import annotations

from twilio_emulator.playback import Playback

SECOND = b"\x10" * 8000  # one second of (non-silent) audio


def test_a_mark_is_echoed_at_once_when_nothing_is_buffered() -> None:
    playback = Playback()
    assert playback.push_mark("idle", 5.0) == ["idle"]
    assert playback.idle_since(5.0) is not None


def test_a_mark_waits_for_the_audio_queued_before_it() -> None:
    playback = Playback()
    playback.push_media(SECOND, 10.0)
    assert playback.push_mark("after-one-second", 10.1) == []
    assert playback.due_marks(10.99) == []
    assert playback.is_playing(10.99)
    assert playback.idle_since(10.99) is None
    assert playback.due_marks(11.0) == ["after-one-second"]
    assert playback.due_marks(12.0) == []
    assert playback.idle_since(11.5) == 11.0


def test_audio_sent_faster_than_real_time_queues_back_to_back() -> None:
    playback = Playback()
    playback.push_media(SECOND, 0.0)
    playback.push_mark("first", 0.0)
    playback.push_media(SECOND, 0.1)  # arrives while the first is playing
    playback.push_mark("second", 0.1)
    assert playback.buffered_seconds(0.5) == 1.5
    assert playback.due_marks(1.0) == ["first"]
    assert playback.due_marks(1.99) == []
    assert playback.due_marks(2.0) == ["second"]


def test_playback_starts_when_audio_arrives_if_idle() -> None:
    playback = Playback()
    playback.push_media(SECOND, 0.0)
    playback.push_media(SECOND, 3.0)  # long after the first finished: no back-dating
    assert playback.push_mark("m", 3.0) == []
    assert playback.due_marks(3.99) == []
    assert playback.due_marks(4.0) == ["m"]


def test_clear_discards_unplayed_audio_and_echoes_every_outstanding_mark() -> None:
    playback = Playback()
    playback.push_media(SECOND, 0.0)
    playback.push_mark("a", 0.0)
    playback.push_media(SECOND, 0.0)
    playback.push_mark("b", 0.0)
    assert playback.clear(0.25) == ["a", "b"]
    assert playback.discarded_bytes == 16000 - 2000
    assert not playback.is_playing(0.25)
    assert playback.due_marks(5.0) == []
    assert playback.push_mark("c", 0.3) == ["c"]  # nothing buffered any more


def test_render_places_audio_at_wall_time_with_silence_around_it() -> None:
    playback = Playback()
    playback.push_media(b"\x01" * 800, 1.0)  # 0.1 s at t=1.0
    playback.push_media(b"\x02" * 800, 1.0)  # queued behind it
    playback.push_media(b"\x03" * 8000, 2.0)
    playback.clear(2.05)  # only 0.05 s of the last one played
    heard = playback.render(origin=0.5, until=2.5)
    assert len(heard) == 16000
    assert heard[:4000] == b"\xff" * 4000
    assert heard[4000:4800] == b"\x01" * 800
    assert heard[4800:5600] == b"\x02" * 800
    assert heard[5600:12000] == b"\xff" * 6400
    assert heard[12000:12400] == b"\x03" * 400
    assert heard[12400:] == b"\xff" * 3600


def test_render_cuts_audio_queued_past_the_end() -> None:
    playback = Playback()
    playback.push_media(SECOND, 0.0)
    assert playback.render(0.0, 0.5) == b"\x10" * 4000
