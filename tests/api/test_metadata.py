"""Custom metadata of media: set on upload, changed by a JSON merge patch (RFC 7396), filtered on by
``metadata.<key>=<value>`` in ``GET /media`` and ``GET /search``, size-limited, kept on every engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api._checks import concurrently, error, fields, success
from tests.conftest import PREFIX, Account
from tests.files import make_png


def _upload(account: Account, name: str, metadata: Any, **form: str) -> dict[str, Any]:
    return account.upload(make_png(), name, metadata=json.dumps(metadata), **form)


def _ids(account: Account, path: str, **params: str) -> list[str]:
    return [m["id"] for m in success(account.client.get(f"{PREFIX}{path}", headers=account.headers, params=params))]


def test_upload_sets_metadata_and_media_shows_it(alice: Account) -> None:
    plain = alice.upload(make_png(), "plain.png")
    assert plain["metadata"] == {} and plain["version"] == 1
    given = {"camera": "X100V", "rating": 5, "nested": {"a": [1, "two", None]}, "ok": True}
    media = _upload(alice, "a.png", given)
    assert media["metadata"] == given
    assert success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers))["metadata"] == given
    listed = success(alice.client.get(f"{PREFIX}/media", headers=alice.headers))
    assert {m["id"]: m["metadata"] for m in listed} == {plain["id"]: {}, media["id"]: given}


@pytest.mark.parametrize(
    "text",
    ["[1, 2]", '"text"', "{not json", "null", json.dumps({"big": "x" * 16_400}), '{"nul": "a\\u0000b"}'],
)
def test_upload_refuses_bad_metadata(alice: Account, text: str) -> None:
    response = alice.client.post(
        f"{PREFIX}/media/upload",
        headers=alice.headers,
        files={"file": ("a.png", make_png())},
        data={"metadata": text},
    )
    assert fields(error(response, 400, "validation_error")) == {"metadata"}
    assert success(alice.client.get(f"{PREFIX}/media", headers=alice.headers)) == []


def test_patch_is_a_json_merge_patch(alice: Account) -> None:
    media = _upload(alice, "a.png", {"keep": 1, "drop": "x", "obj": {"a": 1, "b": 2}})
    url = f"{PREFIX}/media/{media['id']}"
    patch = {"metadata": {"drop": None, "new": "n", "obj": {"b": None, "c": 3}}}
    changed = success(alice.client.patch(url, headers=alice.headers, json=patch))
    assert changed["metadata"] == {"keep": 1, "new": "n", "obj": {"a": 1, "c": 3}}
    assert success(alice.client.get(url, headers=alice.headers))["metadata"] == changed["metadata"]
    # the filters follow the change: a removed entry no longer matches, a new one does
    assert _ids(alice, "/media", **{"metadata.drop": "x"}) == []
    assert _ids(alice, "/media", **{"metadata.new": "n"}) == [media["id"]]
    # a patch that is not an object is refused (the metadata stays an object), as is one over the limit
    error(alice.client.patch(url, headers=alice.headers, json={"metadata": [1]}), 400, "validation_error")
    big = {"metadata": {"big": "x" * 16_400}}
    assert fields(error(alice.client.patch(url, headers=alice.headers, json=big), 400, "validation_error")) == {
        "metadata"
    }
    assert success(alice.client.get(url, headers=alice.headers))["metadata"] == changed["metadata"]


def test_concurrent_patches_apply_one_after_the_other(alice: Account) -> None:
    """Merge patches racing on one item each add their key (none lost), and tag lists racing leave one of them
    (not their union); the filters agree with what is kept."""
    media = _upload(alice, "a.png", {"start": 0})
    path = f"/media/{media['id']}"
    merges = [("PATCH", path, {"headers": alice.headers, "json": {"metadata": {f"k{i}": i}}}) for i in range(6)]
    answers = alice.client.blocking_portal.call(concurrently, alice.client.app, merges)
    assert [a.status_code for a in answers] == [200] * 6
    kept = success(alice.client.get(f"{PREFIX}{path}", headers=alice.headers))
    assert kept["metadata"] == {"start": 0, **{f"k{i}": i for i in range(6)}}
    assert _ids(alice, "/media", **{"metadata.k3": "3"}) == [media["id"]]
    tag_sets = [("PATCH", path, {"headers": alice.headers, "json": {"tags": [f"t{i}", "both"]}}) for i in range(6)]
    answers = alice.client.blocking_portal.call(concurrently, alice.client.app, tag_sets)
    assert [a.status_code for a in answers] == [200] * 6
    tags = success(alice.client.get(f"{PREFIX}{path}", headers=alice.headers))["tags"]
    assert len(tags) == 2 and tags[1] == "both" and tags[0] in {f"t{i}" for i in range(6)}, tags


def test_filters_all_apply_and_compare_as_strings(alice: Account, bob: Account) -> None:
    a = _upload(alice, "holiday-a.png", {"project": "apollo", "n": 5, "flag": True}, title="holiday")
    b = _upload(alice, "holiday-b.png", {"project": "apollo", "n": "6"}, title="holiday")
    c = _upload(alice, "other.png", {"project": "gemini", "n": 5})
    _upload(bob, "bob.png", {"project": "apollo"})  # another user's media never match
    assert sorted(_ids(alice, "/media", **{"metadata.project": "apollo"})) == sorted([a["id"], b["id"]])
    assert sorted(_ids(alice, "/media", **{"metadata.n": "5"})) == sorted([a["id"], c["id"]])
    assert _ids(alice, "/media", **{"metadata.project": "apollo", "metadata.n": "5"}) == [a["id"]]
    assert _ids(alice, "/media", **{"metadata.flag": "true"}) == [a["id"]]
    assert _ids(alice, "/media", **{"metadata.project": "APOLLO"}) == []
    assert _ids(alice, "/media", **{"metadata.missing": "x"}) == []
    assert _ids(alice, "/search", q="holiday", **{"metadata.n": "6"}) == [b["id"]]
    # pagination links keep the filter
    page = alice.client.get(
        f"{PREFIX}/media", headers=alice.headers, params={"metadata.project": "apollo", "per_page": 1}
    )
    assert "metadata.project=apollo" in page.json()["meta"]["pagination"]["links"]["next"]
    assert page.json()["meta"]["pagination"]["total"] == 2


def test_filter_without_a_key_is_refused(alice: Account) -> None:
    response = alice.client.get(f"{PREFIX}/media", headers=alice.headers, params={"metadata.": "x"})
    error(response, 400, "validation_error")


def test_keys_and_values_of_any_length_and_characters(alice: Account) -> None:
    key, value = "ключ with spaces.and.dots=" + "k" * 3000, "v" * 8000
    media = _upload(alice, "long.png", {key: value})
    assert _ids(alice, "/media", **{f"metadata.{key}": value}) == [media["id"]]
