package mediavault_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	mediavault "github.com/wronai/mediavault-go"
)

func TestMediaShareWithPasswordAndRange(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	text := []byte("a document shared with a password")
	media, err := c.Upload(ctx, bytes.NewReader(text), mediavault.UploadOptions{Filename: "shared.txt"})
	if err != nil {
		t.Fatal(err)
	}
	share, err := c.CreateShare(ctx, mediavault.ShareCreate{MediaID: media.ID, Password: "share password", ExpiresIn: time.Hour})
	if err != nil || share.Token == nil || share.URL == nil || !strings.HasSuffix(*share.URL, *share.Token) ||
		!share.HasPassword || !share.AllowDownload || share.ExpiresAt == nil || *share.MediaID != media.ID {
		t.Fatalf("create: %+v, %v", share, err)
	}
	if until := time.Until(*share.ExpiresAt); until < 59*time.Minute || until > 61*time.Minute {
		t.Fatalf("expires at %v", share.ExpiresAt)
	}
	visitor := anonymous(t)
	if _, err := visitor.OpenShare(ctx, *share.Token, mediavault.OpenShareOptions{}); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("no password: want ErrUnauthorized, got %v", err)
	}
	opened, err := visitor.OpenShare(ctx, *share.Token, mediavault.OpenShareOptions{Password: "share password"})
	if err != nil || opened.Type != "media" || opened.Media == nil || opened.Media.ID != media.ID || opened.Collection != nil {
		t.Fatalf("open: %+v, %v", opened, err)
	}
	var part bytes.Buffer
	_, err = visitor.DownloadShared(ctx, *share.Token, &part, mediavault.SharedDownload{
		Password: "share password", DownloadOptions: mediavault.DownloadOptions{Offset: 2, Length: 8},
	})
	if err != nil || part.String() != string(text[2:10]) {
		t.Fatalf("shared range: %q, %v", part.String(), err)
	}
	listed, err := c.ListShares(ctx, mediavault.ListOptions{})
	if err != nil || len(listed.Items) != 1 || listed.Items[0].Token != nil || listed.Items[0].ID != share.ID {
		t.Fatalf("list: %+v, %v", listed, err)
	}
	if err := c.DeleteShare(ctx, share.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := visitor.OpenShare(ctx, *share.Token, mediavault.OpenShareOptions{Password: "share password"}); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("deleted link: want ErrNotFound, got %v", err)
	}
}

func TestCollectionShareWithoutDownloads(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	album, err := c.CreateCollection(ctx, mediavault.CollectionCreate{Name: "Public"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		media, err := c.Upload(ctx, strings.NewReader(strings.Repeat("z", i+1)), mediavault.UploadOptions{Filename: "z.txt"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, media.ID)
	}
	if _, err := c.AddToCollection(ctx, album.ID, ids...); err != nil {
		t.Fatal(err)
	}
	open, err := c.CreateShare(ctx, mediavault.ShareCreate{CollectionID: album.ID})
	if err != nil || open.ExpiresAt != nil || open.HasPassword {
		t.Fatalf("create: %+v, %v", open, err)
	}
	visitor := anonymous(t)
	opened, err := visitor.OpenShare(ctx, *open.Token, mediavault.OpenShareOptions{PerPage: 2})
	if err != nil || opened.Type != "collection" || opened.Collection.ID != album.ID || len(opened.Items) != 2 ||
		opened.Pagination == nil || opened.Pagination.Total != 3 || opened.Media != nil {
		t.Fatalf("open: %+v, %v", opened, err)
	}
	member := opened.Items[0]
	var got bytes.Buffer
	if _, err := visitor.DownloadShared(ctx, *open.Token, &got, mediavault.SharedDownload{MediaID: member.ID}); err != nil ||
		int64(got.Len()) != member.Size {
		t.Fatalf("member content: %d bytes, %v", got.Len(), err)
	}
	closed, err := c.CreateShare(ctx, mediavault.ShareCreate{CollectionID: album.ID, AllowDownload: mediavault.Bool(false)})
	if err != nil || closed.AllowDownload {
		t.Fatalf("create: %+v, %v", closed, err)
	}
	if _, err := visitor.DownloadShared(ctx, *closed.Token, io.Discard, mediavault.SharedDownload{MediaID: member.ID}); !errors.Is(err, mediavault.ErrForbidden) {
		t.Fatalf("downloads off: want ErrForbidden, got %v", err)
	}
	if _, err := c.CreateShare(ctx, mediavault.ShareCreate{MediaID: ids[0], CollectionID: album.ID}); !errors.Is(err, mediavault.ErrValidation) {
		t.Fatalf("both targets: want ErrValidation, got %v", err)
	}
	count := 0
	for it := c.IterShares(ctx, mediavault.ListOptions{PerPage: 1}); it.Next(); {
		count++
	}
	if count != 2 {
		t.Fatalf("iterate shares: %d", count)
	}
}
