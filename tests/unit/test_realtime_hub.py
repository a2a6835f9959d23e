"""The realtime broker: routing of events to channels, and the bounded backlog of slow subscribers."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import anyio

from mediavault.events import Event
from mediavault.realtime import RealtimeHub, event_targets
from tests.conftest import make_config


def test_event_targets() -> None:
    media, coll, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    assert event_targets("media.updated", {"id": media}) == [("media_updates", media)]
    assert event_targets("collection.created", {"id": coll}) == [("collection_updates", coll)]
    assert event_targets("collection.media_added", {"id": other, "collection_id": coll}) == [
        ("collection_updates", coll)
    ]
    assert event_targets("media.updated", {"id": media, "collection_ids": [coll, other]}) == [
        ("media_updates", media),
        ("collection_updates", coll),
        ("collection_updates", other),
    ]
    assert event_targets("share.created", {"id": other, "collection_id": coll}) == [("collection_updates", coll)]
    assert event_targets("user.registered", {"id": other, "user_id": other}) == []


def _id(message: bytes) -> int:
    return int(json.loads(message)["payload"]["data"]["id"])


def test_a_slow_subscriber_holds_at_most_the_backlog(tmp_path: Path) -> None:
    hub = RealtimeHub(make_config(tmp_path, realtime_max_backlog=10))
    user = uuid.uuid4()

    async def run() -> list[int]:
        async with hub:
            subscriber = await hub.channels.subscribe(hub.user_channel(user))
            for i in range(500):  # nobody reads: the consumer is as slow as it gets
                await hub.on_event(Event(id=uuid.uuid4(), name="media.updated", data={"id": str(i)}, user_id=user))
            with anyio.fail_after(30):  # a bound for a hang only: the wait ends once the last event is queued
                # (published to the backend, then fanned out to the subscriber: no event to wait on)
                while not subscriber.qsize or _id(subscriber._queue._queue[-1]) != 499:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            assert subscriber.qsize <= 10
            kept = []
            while subscriber.qsize:
                kept.append(_id(subscriber._queue.get_nowait()))
            await hub.channels.unsubscribe(subscriber)
            return kept

    kept = anyio.run(run)
    assert kept == list(range(490, 500))  # the oldest were dropped, the newest kept


def test_events_of_other_users_stay_on_their_channel(tmp_path: Path) -> None:
    hub = RealtimeHub(make_config(tmp_path))
    alice, bob = uuid.uuid4(), uuid.uuid4()
    assert hub.user_channel(alice) != hub.user_channel(bob)
    assert str(alice) in hub.user_channel(alice)
