"""GET /media/{id} and GET /media: ownership, pagination, filters, sort."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.api._checks import error, success
from tests.conftest import PREFIX, Account
from tests.files import make_pdf, make_png


def _list(account: Account, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = account.client.get(f"{PREFIX}/media", headers=account.headers, params=params)
    data = success(response)
    return data, response.json()["meta"]["pagination"]


def _query(link: str) -> dict[str, list[str]]:
    parts = urlsplit(link)
    assert parts.path == "/media"
    return parse_qs(parts.query)


# ----------------------------------------------------------------------------- ownership


def test_get_own(alice: Account) -> None:
    media = alice.upload(make_png(), "a.png", title="mine")
    assert success(alice.client.get(f"{PREFIX}/media/{media['id']}", headers=alice.headers)) == media


def test_other_users_media_is_404_everywhere(client: TestClient[Litestar], alice: Account, bob: Account) -> None:
    png = make_png()
    media = alice.upload(png, "a.png", title="private", tags="secret")
    url = f"{PREFIX}/media/{media['id']}"
    unknown = error(
        client.get(f"{PREFIX}/media/00000000-0000-4000-8000-000000000000", headers=bob.headers), 404, "not_found"
    )
    seen = error(client.get(url, headers=bob.headers), 404, "not_found")
    assert seen["message"] == unknown["message"]  # existence is not revealed
    error(client.patch(url, headers=bob.headers, json={"title": "pwned", "tags": ["x"]}), 404, "not_found")
    error(client.delete(url, headers=bob.headers), 404, "not_found")
    error(client.get(f"{url}/content", headers=bob.headers), 404, "not_found")
    head = client.head(f"{url}/content", headers=bob.headers)
    assert head.status_code == 404 and head.content == b""
    assert _list(bob)[0] == []
    assert _list(bob, q="private")[0] == [] and _list(bob, tag="secret")[0] == []
    # the owner's media is unchanged
    assert success(client.get(url, headers=alice.headers)) == media
    assert client.get(f"{url}/content", headers=alice.headers).content == png


@pytest.mark.parametrize("bad", ["not-a-uuid", "123", "00000000-0000-0000-0000", "%20", "' OR 1=1 --"])
def test_malformed_id_is_404(shared_alice: Account, bad: str) -> None:
    client = shared_alice.client
    shared_alice.upload(make_png(), "a.png")
    url = f"{PREFIX}/media/{bad}"
    error(client.get(url, headers=shared_alice.headers), 404, "not_found")
    error(client.patch(url, headers=shared_alice.headers, json={"title": "x"}), 404, "not_found")
    error(client.delete(url, headers=shared_alice.headers), 404, "not_found")
    error(client.get(f"{url}/content", headers=shared_alice.headers), 404, "not_found")


# ----------------------------------------------------------------------------- pagination


@pytest.fixture(scope="module")
def pager(shared_client: TestClient[Litestar]) -> Account:
    return Account(shared_client, "pager@example.com")


@pytest.fixture(scope="module")
def five(pager: Account) -> list[dict[str, Any]]:
    """Five media, uploaded oldest first, all tagged 'all', every other one 'odd'."""
    return [
        pager.upload(b"file number %d " % i * (i + 1), f"f{i}.txt", tags="all,odd" if i % 2 else "all")
        for i in range(5)
    ]


def test_pagination(pager: Account, five: list[dict[str, Any]]) -> None:
    newest_first = [m["id"] for m in reversed(five)]
    seen = []
    for page, expected_count in ((1, 2), (2, 2), (3, 1)):
        data, pagination = _list(pager, page=page, per_page=2)
        assert pagination["total"] == 5
        assert pagination["count"] == expected_count == len(data)
        assert pagination["per_page"] == 2
        assert pagination["current_page"] == page
        assert pagination["total_pages"] == 3
        links = pagination["links"]
        if page < 3:
            assert _query(links["next"]) == {"page": [str(page + 1)], "per_page": ["2"]}
        else:
            assert links["next"] is None
        if page > 1:
            assert _query(links["prev"]) == {"page": [str(page - 1)], "per_page": ["2"]}
        else:
            assert links["prev"] is None
        seen += [m["id"] for m in data]
    assert seen == newest_first


def test_page_past_end(pager: Account, five: list[dict[str, Any]]) -> None:
    data, pagination = _list(pager, page=9, per_page=2)
    assert data == []
    assert pagination["total"] == 5 and pagination["count"] == 0 and pagination["current_page"] == 9
    assert pagination["links"]["next"] is None


@pytest.mark.parametrize("page", [10**6, 2**62, 10**20])
def test_huge_page_is_empty_not_an_error(pager: Account, five: list[dict[str, Any]], page: int) -> None:
    data, pagination = _list(pager, page=page, per_page=100)
    assert data == []
    assert (pagination["total"], pagination["count"], pagination["current_page"]) == (5, 0, page)
    assert pagination["links"]["next"] is None


def test_single_page_has_no_links(pager: Account, five: list[dict[str, Any]]) -> None:
    data, pagination = _list(pager)
    assert len(data) == 5
    assert pagination["links"] == {"next": None, "prev": None}
    assert (pagination["per_page"], pagination["total_pages"]) == (20, 1)


def test_links_keep_other_params(pager: Account, five: list[dict[str, Any]]) -> None:
    data, pagination = _list(pager, page=2, per_page=1, tag="odd", sort="size", q="txt")
    assert pagination["total"] == 2
    assert [m["id"] for m in data] == [five[3]["id"]]
    prev = _query(pagination["links"]["prev"])
    assert prev == {"page": ["1"], "per_page": ["1"], "tag": ["odd"], "sort": ["size"], "q": ["txt"]}
    assert pagination["links"]["next"] is None
    first, p1 = _list(pager, **{k: v[0] for k, v in prev.items()})
    assert [m["id"] for m in first] == [five[1]["id"]]
    nxt = _query(p1["links"]["next"])
    assert nxt == {"page": ["2"], "per_page": ["1"], "tag": ["odd"], "sort": ["size"], "q": ["txt"]}


def test_following_links_walks_everything(pager: Account, five: list[dict[str, Any]]) -> None:
    link: str | None = "/media?per_page=2&sort=filename"
    ids: list[str] = []
    while link:
        response = pager.client.get(PREFIX + link, headers=pager.headers)
        ids += [m["id"] for m in success(response)]
        link = response.json()["meta"]["pagination"]["links"]["next"]
    assert ids == [m["id"] for m in five]


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": 0},
        {"per_page": 101},
        {"per_page": "abc"},
        {"per_page": -1},
        {"page": 0},
        {"page": "x"},
        {"per_page": "1.5"},
    ],
)
def test_bad_pagination_params(shared_alice: Account, params: dict[str, Any]) -> None:
    err = error(
        shared_alice.client.get(f"{PREFIX}/media", headers=shared_alice.headers, params=params), 400, "validation_error"
    )
    name = next(iter(params))
    assert name in {d["field"] for d in err["details"]} or name in err["message"]


@pytest.mark.parametrize("per_page", [1, 100])
def test_per_page_bounds_ok(shared_alice: Account, per_page: int) -> None:
    _, pagination = _list(shared_alice, per_page=per_page)
    assert pagination["per_page"] == per_page


# ----------------------------------------------------------------------------- sort


@pytest.fixture(scope="module")
def sorter(shared_client: TestClient[Litestar]) -> Account:
    return Account(shared_client, "sorter@example.com")


@pytest.fixture(scope="module")
def sortable(sorter: Account) -> list[dict[str, Any]]:
    # created order: b, c, a; sizes: b=30, c=10, a=20
    return [
        sorter.upload(b"b" * 30, "b.txt"),
        sorter.upload(b"c" * 10, "c.txt"),
        sorter.upload(b"a" * 20, "a.txt"),
    ]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["a.txt", "c.txt", "b.txt"]),
        ("-created_at", ["a.txt", "c.txt", "b.txt"]),
        ("created_at", ["b.txt", "c.txt", "a.txt"]),
        ("filename", ["a.txt", "b.txt", "c.txt"]),
        ("-filename", ["c.txt", "b.txt", "a.txt"]),
        ("size", ["c.txt", "a.txt", "b.txt"]),
        ("-size", ["b.txt", "a.txt", "c.txt"]),
    ],
)
def test_sort(sorter: Account, sortable: list[dict[str, Any]], sort: str | None, expected: list[str]) -> None:
    data, _ = _list(sorter, **({"sort": sort} if sort else {}))
    assert [m["filename"] for m in data] == expected


@pytest.mark.parametrize("sort", ["name", "+size", "size,filename", "CREATED_AT", "", "owner_id"])
def test_bad_sort(shared_alice: Account, sort: str) -> None:
    err = error(
        shared_alice.client.get(f"{PREFIX}/media", headers=shared_alice.headers, params={"sort": sort}),
        400,
        "validation_error",
    )
    assert "sort" in err["message"] or "sort" in {d["field"] for d in err["details"]}


# ----------------------------------------------------------------------------- filters


@pytest.fixture(scope="module")
def searcher(shared_client: TestClient[Litestar]) -> Account:
    return Account(shared_client, "searcher@example.com")


@pytest.fixture(scope="module")
def mixed(searcher: Account) -> dict[str, dict[str, Any]]:
    return {
        "png": searcher.upload(make_png(), "Holiday.PNG", title="Beach day", tags="Summer,trip"),
        "pdf": searcher.upload(make_pdf(), "report.pdf", description="Quarterly NUMBERS", tags="work"),
        "txt": searcher.upload(b"plain", "notes.txt", title="Groceries"),
    }


def _ids(data: list[dict[str, Any]]) -> set[str]:
    return {m["id"] for m in data}


def test_type_filter(searcher: Account, mixed: dict[str, dict[str, Any]]) -> None:
    assert _ids(_list(searcher, type="image")[0]) == {mixed["png"]["id"]}
    data, pagination = _list(searcher, type="document")
    assert _ids(data) == {mixed["pdf"]["id"], mixed["txt"]["id"]} and pagination["total"] == 2
    assert _list(searcher, type="video")[0] == []
    assert _list(searcher, type="audio")[0] == []
    assert _list(searcher, type="other")[0] == []


@pytest.mark.parametrize("kind", ["picture", "IMAGE", "images", "1"])
def test_bad_type(shared_alice: Account, kind: str) -> None:
    error(
        shared_alice.client.get(f"{PREFIX}/media", headers=shared_alice.headers, params={"type": kind}),
        400,
        "validation_error",
    )


def test_tag_filter(searcher: Account, mixed: dict[str, dict[str, Any]]) -> None:
    assert _ids(_list(searcher, tag="summer")[0]) == {mixed["png"]["id"]}
    assert _ids(_list(searcher, tag="SUMMER")[0]) == {mixed["png"]["id"]}
    assert _ids(_list(searcher, tag="work")[0]) == {mixed["pdf"]["id"]}
    assert _list(searcher, tag="sum")[0] == []  # exact tag, not substring
    assert _list(searcher, tag="nope")[0] == []


def test_checksum_filter(searcher: Account, shared_bob: Account, mixed: dict[str, dict[str, Any]]) -> None:
    png = mixed["png"]
    checksum = hashlib.sha256(make_png()).hexdigest()
    assert png["checksum_sha256"] == checksum
    data, pagination = _list(searcher, checksum_sha256=checksum)
    assert _ids(data) == {png["id"]} and pagination["total"] == 1
    assert _ids(_list(searcher, checksum_sha256=checksum.upper())[0]) == {png["id"]}  # hex in any case
    assert _list(searcher, checksum_sha256=hashlib.sha256(b"other").hexdigest())[0] == []
    assert _list(searcher, checksum_sha256=checksum, type="document")[0] == []  # combines with the other filters
    # exact match on the caller's own media only: the same bytes of another user are not visible
    assert _list(shared_bob, checksum_sha256=hashlib.sha256(make_pdf()).hexdigest())[0] == []
    link = _list(searcher, checksum_sha256=checksum, per_page=1)[1]
    assert link["links"]["next"] is None and link["total_pages"] == 1


@pytest.mark.parametrize("bad", ["", "abc", "g" * 64, "a" * 63, "a" * 65, " " + "a" * 64, "a" * 64 + "' OR 1=1"])
def test_bad_checksum_filter(shared_alice: Account, bad: str) -> None:
    err = error(
        shared_alice.client.get(f"{PREFIX}/media", headers=shared_alice.headers, params={"checksum_sha256": bad}),
        400,
        "validation_error",
    )
    assert "checksum_sha256" in err["message"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("holiday", {"png"}),  # filename, case-insensitive
        ("HOLIDAY.png", {"png"}),
        ("beach", {"png"}),  # title
        ("numbers", {"pdf"}),  # description
        ("quarterly numbers", {"pdf"}),
        ("GROCER", {"txt"}),
        (".", {"png", "pdf", "txt"}),
        ("%", set()),  # LIKE wildcards are literal
        ("_", set()),
        ("zzz", set()),
    ],
)
def test_q_filter(searcher: Account, mixed: dict[str, dict[str, Any]], q: str, expected: set[str]) -> None:
    data, pagination = _list(searcher, q=q)
    assert _ids(data) == {mixed[k]["id"] for k in expected}
    assert pagination["total"] == len(expected)


@pytest.mark.parametrize("q", ["été", "ÉTÉ", "à BIENTÔT", "ärger", "GROßE"])
def test_q_is_case_insensitive_beyond_ascii(shared_client: TestClient[Litestar], q: str) -> None:
    """SQLite's lower() folds ASCII only; the vault folds every letter, as PostgreSQL does (found by the matrix)."""
    account = Account(shared_client, f"unicode-q-{len(q)}-{ord(q[0])}@example.com")
    media = account.upload(b"x", "Été.txt", title="À bientôt", description="Große Ärger")
    data, pagination = _list(account, q=q)
    assert _ids(data) == {media["id"]} and pagination["total"] == 1
    assert _list(account, q="ete")[0] == []  # case-insensitive, not accent-insensitive, on both engines


def test_filters_combine(searcher: Account, mixed: dict[str, dict[str, Any]]) -> None:
    assert _ids(_list(searcher, type="document", q="report")[0]) == {mixed["pdf"]["id"]}
    assert _list(searcher, type="image", tag="work")[0] == []


def test_list_is_per_user(searcher: Account, shared_bob: Account, mixed: dict[str, dict[str, Any]]) -> None:
    bobs = shared_bob.upload(make_png(), "shared_bob.png")
    data, pagination = _list(shared_bob)
    assert _ids(data) == {bobs["id"]} and pagination["total"] == 1
    assert bobs["id"] not in _ids(_list(searcher)[0])
