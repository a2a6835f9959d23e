package mediavault_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	mediavault "github.com/wronai/mediavault-go"
)

func TestSignedAndGuestUploads(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	drop, err := c.CreateCollection(ctx, mediavault.CollectionCreate{Name: "Drop box"})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := c.SignUpload(ctx, mediavault.SignedUploadCreate{ExpiresIn: 10 * time.Minute, MaxSize: 100, CollectionID: drop.ID})
	if err != nil || signed.MaxSize != 100 || !strings.HasSuffix(signed.URL, "/uploads/signed/"+signed.Token) ||
		signed.CollectionID == nil || *signed.CollectionID != drop.ID {
		t.Fatalf("sign: %+v, %v", signed, err)
	}
	visitor := anonymous(t)
	options := mediavault.UploadOptions{Filename: "drop.txt"}
	if _, err := visitor.UploadSigned(ctx, signed.Token, strings.NewReader(strings.Repeat("x", 101)), options); !errors.Is(err, mediavault.ErrPayloadTooLarge) {
		t.Fatalf("over max_size: want ErrPayloadTooLarge, got %v", err)
	}
	byURL, err := visitor.UploadSigned(ctx, signed.Token, strings.NewReader("signed"), options)
	if err != nil || byURL.Size != 6 {
		t.Fatalf("upload: %+v, %v", byURL, err)
	}
	if _, err := visitor.UploadSigned(ctx, signed.Token, strings.NewReader("again"), options); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("used URL: want ErrNotFound, got %v", err)
	}
	guests, err := c.CreateShare(ctx, mediavault.ShareCreate{CollectionID: drop.ID, AllowUpload: true, Password: "guest password"})
	if err != nil || !guests.AllowUpload {
		t.Fatalf("create: %+v, %v", guests, err)
	}
	if _, err := visitor.UploadToShare(ctx, *guests.Token, "", strings.NewReader("guest"), options); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("no password: want ErrUnauthorized, got %v", err)
	}
	byGuest, err := visitor.UploadToShare(ctx, *guests.Token, "guest password", strings.NewReader("guest"), options)
	if err != nil || byGuest.OwnerID != "" || !strings.HasSuffix(byGuest.ContentURL, "/s/"+*guests.Token+"/media/"+byGuest.ID+"/content") {
		t.Fatalf("guest upload (the link's view: no owner): %+v, %v", byGuest, err)
	}
	if owned, err := c.GetMedia(ctx, byGuest.ID); err != nil || owned.OwnerID != byURL.OwnerID {
		t.Fatalf("guest upload, as its owner sees it: %+v, %v", owned, err)
	}
	closed, err := c.CreateShare(ctx, mediavault.ShareCreate{CollectionID: drop.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := visitor.UploadToShare(ctx, *closed.Token, "", strings.NewReader("no"), options); !errors.Is(err, mediavault.ErrForbidden) {
		t.Fatalf("no allow_upload: want ErrForbidden, got %v", err)
	}
	if got, err := c.GetCollection(ctx, drop.ID); err != nil || got.MediaCount != 2 {
		t.Fatalf("collection: %+v, %v", got, err)
	}
}
