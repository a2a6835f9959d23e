"""Media processing end to end: a real ``mediavault serve`` killed with SIGKILL while it processes photos; the
next server on the same data dir processes every one of them, and their share links never carry GPS."""

from __future__ import annotations

import io
import signal
import time
from pathlib import Path

from PIL import Image

from tests.e2e.conftest import ServerFactory, register_and_login
from tests.files import make_photo

ENV = {"MEDIAVAULT_PROCESSING_TIMEOUT": "2", "MEDIAVAULT_PROCESSING_POLL_INTERVAL": "0.2"}


def test_photos_of_a_killed_server_are_processed_after_restart(vault_servers: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "vault-data"
    photos = [make_photo(2400 + i, 1600, orientation=6, gps=(48.8584, 2.2945)) for i in range(2)]
    first = vault_servers.start(data_dir, env=ENV)
    with first.client() as client:
        auth = register_and_login(client, "crash@example.com")
        ids = []
        for i, photo in enumerate(photos):
            response = client.post("/media/upload", headers=auth, files={"file": (f"p{i}.jpg", photo)})
            assert response.status_code == 201, response.text
            ids.append(response.json()["data"]["id"])
        share = client.post("/shares", headers=auth, json={"media_id": ids[-1]}).json()["data"]
    first.proc.send_signal(signal.SIGKILL)  # the worker is busy with the photos (a few hundred ms each)
    first.proc.wait(5)
    assert first.stop() == -signal.SIGKILL

    second = vault_servers.start(data_dir, env=ENV)
    with second.client() as client:
        states = {}
        for _ in range(600):  # leases of the killed server run out after 2 s, then this one takes the photos
            states = {i: client.get(f"/media/{i}/metadata", headers=auth).json()["data"] for i in ids}
            if all(s["status"] != "pending" for s in states.values()):
                break
            time.sleep(0.05)
        for state in states.values():
            assert state["status"] == "done" and state["errors"] == {}
            assert sorted(v["name"] for v in state["variants"]) == ["share", "thumb-1024", "thumb-256"]
            assert state["metadata"]["image"]["orientation"] == 6
        thumb = client.get(f"/media/{ids[0]}/thumbnail?size=1024", headers=auth)
        assert Image.open(io.BytesIO(thumb.content)).size == (683, 1024)  # 2400 x 1600 stored, shown turned
        shared = client.get(f"/s/{share['token']}/content")
        assert shared.status_code == 200
        assert dict(Image.open(io.BytesIO(shared.content)).getexif().get_ifd(0x8825)) == {}
