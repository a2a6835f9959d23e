package mediavault_test

import (
	"errors"
	"strings"
	"testing"

	mediavault "github.com/wronai/mediavault-go"
)

func TestCollections(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	var ids []string
	for _, name := range []string{"a.txt", "b.txt", "c.txt"} {
		media, err := c.Upload(ctx, strings.NewReader("contents of "+name), mediavault.UploadOptions{Filename: name})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, media.ID)
	}
	album, err := c.CreateCollection(ctx, mediavault.CollectionCreate{Name: "  Trip  ", Description: "summer"})
	if err != nil || album.Name != "Trip" || *album.Description != "summer" || album.MediaCount != 0 {
		t.Fatalf("create: %+v, %v", album, err)
	}
	album, err = c.AddToCollection(ctx, album.ID, ids...)
	if err != nil || album.MediaCount != 3 {
		t.Fatalf("add: %+v, %v", album, err)
	}
	if album, err = c.AddToCollection(ctx, album.ID, ids[0]); err != nil || album.MediaCount != 3 {
		t.Fatalf("add again (idempotent): %+v, %v", album, err)
	}
	other, _ := loggedIn(t)
	theirs, err := other.Upload(ctx, strings.NewReader("not yours"), mediavault.UploadOptions{Filename: "x.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddToCollection(ctx, album.ID, ids[0], theirs.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("someone else's media: want ErrNotFound, got %v", err)
	}
	if _, err := other.GetCollection(ctx, album.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("someone else's collection: want ErrNotFound, got %v", err)
	}
	var names []string
	it := c.IterCollectionMedia(ctx, album.ID, mediavault.MediaQuery{PerPage: 2, Sort: mediavault.SortFilename})
	for it.Next() {
		names = append(names, it.Item().Filename)
	}
	if it.Err() != nil || strings.Join(names, ",") != "a.txt,b.txt,c.txt" {
		t.Fatalf("members: %v, %v", names, it.Err())
	}
	if err := c.RemoveFromCollection(ctx, album.ID, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveFromCollection(ctx, album.ID, ids[1]); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("not a member: want ErrNotFound, got %v", err)
	}
	page, err := c.ListCollectionMedia(ctx, album.ID, mediavault.MediaQuery{Q: "c.txt"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids[2] {
		t.Fatalf("filtered members: %+v, %v", page, err)
	}
	album, err = c.UpdateCollection(ctx, album.ID, mediavault.CollectionUpdate{Name: "Trip 2026", Description: mediavault.Null[string]()})
	if err != nil || album.Name != "Trip 2026" || album.Description != nil || album.MediaCount != 2 {
		t.Fatalf("update: %+v, %v", album, err)
	}
	if _, err := c.CreateCollection(ctx, mediavault.CollectionCreate{Name: "Second"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListCollections(ctx, mediavault.ListOptions{})
	if err != nil || list.Pagination.Total != 2 || list.Items[0].Name != "Second" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	count := 0
	for it := c.IterCollections(ctx, mediavault.ListOptions{PerPage: 1}); it.Next(); {
		count++
	}
	if count != 2 {
		t.Fatalf("iterate collections: %d", count)
	}
	if err := c.DeleteCollection(ctx, album.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCollection(ctx, album.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("deleted: want ErrNotFound, got %v", err)
	}
	if _, err := c.GetMedia(ctx, ids[0]); err != nil {
		t.Fatalf("a member of a deleted collection: %v", err)
	}
}
