from tests.conftest import PREFIX, Account
from tests.files import make_pdf, make_png


def test_upload_list_download_delete(alice: Account) -> None:
    png = make_png(30, 20)
    media = alice.upload(png, "photo.png", title="Red", tags="A, b")
    assert (media["content_type"], media["type"], media["width"], media["height"]) == ("image/png", "image", 30, 20)
    assert media["tags"] == ["a", "b"]
    pdf = alice.upload(make_pdf(), "doc.pdf")
    assert (pdf["content_type"], pdf["type"], pdf["width"]) == ("application/pdf", "document", None)
    listed = alice.client.get(f"{PREFIX}/media", headers=alice.headers).json()
    assert [m["id"] for m in listed["data"]] == [pdf["id"], media["id"]]
    content = alice.client.get(media["content_url"], headers=alice.headers)
    assert content.status_code == 200 and content.content == png
    assert alice.client.delete(f"{PREFIX}/media/{media['id']}", headers=alice.headers).status_code == 204
    assert alice.client.get(media["content_url"], headers=alice.headers).status_code == 404
