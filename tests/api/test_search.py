"""GET /search: full-text over filename, title, description and tags, kept in sync; filters, sort, pagination."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api._checks import error, fields, success
from tests.conftest import PREFIX, Account
from tests.files import make_pdf, make_png


def _search(account: Account, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = account.client.get(f"{PREFIX}/search", headers=account.headers, params=params)
    return success(response), response.json()["meta"]["pagination"]


def _ids(account: Account, q: str, **params: Any) -> list[str]:
    return [m["id"] for m in _search(account, q=q, **params)[0]]


@pytest.fixture(scope="module")
def library(shared_alice: Account) -> dict[str, dict[str, Any]]:
    """A few media of shared_alice with distinct words in each searchable field."""
    alice = shared_alice
    return {
        "beach": alice.upload(make_png(), "IMG_2024_beach.png", title="Sunset at Nazaré", tags="holiday,sea"),
        "menu": alice.upload(make_pdf(), "menu.pdf", title="Dinner menu", description="Seafood restaurant in Lisbon"),
        "cat": alice.upload(make_png(8, 8), "kitty.png", description="A cat on a keyboard", tags="Pets"),
        "report": alice.upload(make_pdf(), "quarterly-report.pdf", title="Q3 numbers", tags="work"),
    }


def test_matches_every_field(shared_alice: Account, library: dict[str, dict[str, Any]]) -> None:
    assert _ids(shared_alice, "beach") == [library["beach"]["id"]]  # filename
    assert _ids(shared_alice, "sunset") == [library["beach"]["id"]]  # title
    assert _ids(shared_alice, "keyboard") == [library["cat"]["id"]]  # description
    assert _ids(shared_alice, "pets") == [library["cat"]["id"]]  # tag
    assert _ids(shared_alice, "quarterly") == [library["report"]["id"]]  # filename word split on "-"
    assert _ids(shared_alice, "2024") == [library["beach"]["id"]]  # digits, split on "_"


def test_case_insensitive_prefix_and_all_words(shared_alice: Account, library: dict[str, dict[str, Any]]) -> None:
    assert _ids(shared_alice, "BEACH") == [library["beach"]["id"]]
    assert _ids(shared_alice, "SeaFo") == [library["menu"]["id"]]  # word prefix
    assert set(_ids(shared_alice, "sea")) == {library["beach"]["id"], library["menu"]["id"]}  # tag "sea", "seafood"
    assert _ids(shared_alice, "sea lisbon") == [library["menu"]["id"]]  # every word must match
    assert _ids(shared_alice, "cat  report") == []
    assert _ids(shared_alice, "nazaré") == [library["beach"]["id"]]  # non-ASCII words
    assert _ids(shared_alice, "NAZARÉ") == [library["beach"]["id"]]
    assert _ids(shared_alice, "elephant") == []


def test_filters_sort_and_pagination(shared_alice: Account, library: dict[str, dict[str, Any]]) -> None:
    both = {library["beach"]["id"], library["menu"]["id"]}
    assert _ids(shared_alice, "sea", type="document") == [library["menu"]["id"]]
    assert _ids(shared_alice, "sea", tag="HOLIDAY") == [library["beach"]["id"]]
    assert _ids(shared_alice, "sea", sort="filename") == [library["beach"]["id"], library["menu"]["id"]]
    assert _ids(shared_alice, "sea", sort="-filename") == [library["menu"]["id"], library["beach"]["id"]]
    assert _ids(shared_alice, "sea", sort="created_at") == [library["beach"]["id"], library["menu"]["id"]]
    items, pagination = _search(shared_alice, q="sea", per_page=1)
    assert len(items) == 1 and pagination["total"] == 2 and pagination["total_pages"] == 2
    link = urlsplit(pagination["links"]["next"])
    assert link.path == "/search" and parse_qs(link.query) == {"page": ["2"], "per_page": ["1"], "q": ["sea"]}
    second, _ = _search(shared_alice, q="sea", per_page=1, page=2)
    assert {items[0]["id"], second[0]["id"]} == both
    beyond, pagination = _search(shared_alice, q="sea", page=99)
    assert beyond == [] and pagination["total"] == 2
    assert items[0] in (library["beach"], library["menu"])  # full media objects


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x", "sort": "title"},
        {"q": "x", "type": "picture"},
        {"q": "x", "per_page": 0},
    ],
)
def test_validation(shared_alice: Account, params: dict[str, Any]) -> None:
    response = shared_alice.client.get(f"{PREFIX}/search", headers=shared_alice.headers, params=params)
    err = error(response, 400, "validation_error")
    if params.get("q", "").strip() == "" and len(params) <= 1:
        assert "q" in fields(err)


def test_needs_auth(shared_alice: Account) -> None:
    error(shared_alice.client.get(f"{PREFIX}/search", params={"q": "beach"}), 401, "unauthorized")


@pytest.mark.parametrize(
    ("q", "finds_beach"),
    [
        ('"', False),
        ('beach"', True),
        ("beach*", True),
        ("*", False),
        ("beach AND NOT", False),
        ("NEAR(beach sunset)", False),
        ("title:beach", False),
        ("-beach", True),
        ("^beach", True),
        ("(beach", True),
        ("beach OR 1=1 --", False),
        ("'; DROP TABLE mediavault_media; --", False),
        ("%", False),
        ("_", True),  # no word: substring of "IMG_2024_beach.png"
        ("\\", False),
        ("{}[]", False),
        ("beach:* & !sea | (x", False),
        ("beach " * 100, True),
    ],
)
def test_query_text_is_data(
    shared_alice: Account, library: dict[str, dict[str, Any]], q: str, finds_beach: bool
) -> None:
    found = _ids(shared_alice, q)  # never a 500 from FTS syntax, never SQL
    assert (library["beach"]["id"] in found) is finds_beach
    assert success(shared_alice.client.get(f"{PREFIX}/media/{library['beach']['id']}", headers=shared_alice.headers))


def test_punctuation_only_falls_back_to_substring(account_factory: Any) -> None:
    frank = account_factory("frank@example.com")
    odd = frank.upload(make_png(), "(--).png", title="%%%")
    plain = frank.upload(make_png(), "plain.png")
    assert _ids(frank, "--") == [odd["id"]]
    assert _ids(frank, "%") == [odd["id"]]  # LIKE wildcards are escaped
    assert _ids(frank, "_") == []
    assert set(_ids(frank, ".")) == {odd["id"], plain["id"]}


def test_only_own_media(shared_alice: Account, shared_bob: Account, library: dict[str, dict[str, Any]]) -> None:
    assert _ids(shared_bob, "beach") == []
    mine = shared_bob.upload(make_png(), "bob_beach.png")
    assert _ids(shared_bob, "beach") == [mine["id"]]
    assert mine["id"] not in _ids(shared_alice, "beach")


def test_index_follows_updates_and_deletes(account_factory: Any) -> None:
    gina = account_factory("gina@example.com")
    media = gina.upload(make_png(), "draft.png", title="Old title", tags="alpha")
    url = f"{PREFIX}/media/{media['id']}"
    assert _ids(gina, "old") == [media["id"]] and _ids(gina, "alpha") == [media["id"]]
    success(gina.client.patch(url, headers=gina.headers, json={"title": "Brand new", "tags": ["omega", "Zeta"]}))
    assert _ids(gina, "old") == [] and _ids(gina, "alpha") == []
    assert _ids(gina, "brand") == [media["id"]] and _ids(gina, "zeta") == [media["id"]]
    assert _ids(gina, "draft") == [media["id"]]  # the filename stays searchable
    success(gina.client.patch(url, headers=gina.headers, json={"description": "with a Description"}))
    assert _ids(gina, "description omega") == [media["id"]]
    success(gina.client.patch(url, headers=gina.headers, json={"tags": []}))
    assert _ids(gina, "omega") == [] and _ids(gina, "brand") == [media["id"]]
    assert gina.client.delete(url, headers=gina.headers).status_code == 204
    assert _ids(gina, "brand") == [] and _ids(gina, "draft") == []
    again = gina.upload(make_png(), "draft.png")
    assert _ids(gina, "draft") == [again["id"]]
