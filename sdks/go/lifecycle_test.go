package mediavault_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	mediavault "github.com/wronai/mediavault-go"
)

// TestMetadataVersionsAndTrash: custom metadata on upload, update and the list filter; ReplaceContent and the
// versions it keeps; the trash (the test server keeps one).
func TestMetadataVersionsAndTrash(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	media, err := c.Upload(ctx, strings.NewReader("first"), mediavault.UploadOptions{
		Filename: "notes.txt", Metadata: map[string]interface{}{"project": "apollo", "n": 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if media.Version != 1 || media.Metadata["project"] != "apollo" {
		t.Fatalf("media: %+v", media)
	}
	found, err := c.ListMedia(ctx, mediavault.MediaQuery{Metadata: map[string]string{"project": "apollo", "n": "1"}})
	if err != nil || len(found.Items) != 1 || found.Items[0].ID != media.ID {
		t.Fatalf("filtered: %+v, %v", found, err)
	}
	patched, err := c.UpdateMedia(ctx, media.ID, mediavault.MediaUpdate{Metadata: map[string]interface{}{"n": nil}})
	if err != nil || len(patched.Metadata) != 1 || patched.Metadata["project"] != "apollo" {
		t.Fatalf("patched: %+v, %v", patched, err)
	}

	replaced, err := c.ReplaceContent(ctx, media.ID, strings.NewReader("second"), mediavault.UploadOptions{Filename: "notes.txt"})
	if err != nil || replaced.ID != media.ID || replaced.Version != 2 || replaced.Size != 6 {
		t.Fatalf("replaced: %+v, %v", replaced, err)
	}
	versions, err := c.ListVersions(ctx, media.ID)
	if err != nil || len(versions) != 2 || versions[0].Version != 2 || !versions[0].Current || versions[1].Current {
		t.Fatalf("versions: %+v, %v", versions, err)
	}
	var old bytes.Buffer
	if _, err := c.DownloadVersion(ctx, media.ID, 1, &old, mediavault.DownloadOptions{}); err != nil || old.String() != "first" {
		t.Fatalf("version 1: %q, %v", old.String(), err)
	}
	if restored, err := c.RestoreVersion(ctx, media.ID, 1); err != nil || restored.Version != 3 {
		t.Fatalf("restored: %+v, %v", restored, err)
	}

	if err := c.DeleteMedia(ctx, media.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetMedia(ctx, media.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("a trashed item: %v", err)
	}
	trash, err := c.ListTrash(ctx, mediavault.ListOptions{})
	if err != nil || len(trash.Items) != 1 || trash.Items[0].ID != media.ID || !trash.Items[0].PurgeAt.After(trash.Items[0].DeletedAt) {
		t.Fatalf("trash: %+v, %v", trash, err)
	}
	if back, err := c.RestoreMedia(ctx, media.ID); err != nil || back.ID != media.ID {
		t.Fatalf("restore: %+v, %v", back, err)
	}
	if err := c.DeleteMedia(ctx, media.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.PurgeMedia(ctx, media.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RestoreMedia(ctx, media.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("restore of a purged item: %v", err)
	}
	other, err := c.Upload(ctx, strings.NewReader("other"), mediavault.UploadOptions{Filename: "other.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMedia(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.EmptyTrash(ctx); err != nil {
		t.Fatal(err)
	}
	if trash, err := c.ListTrash(ctx, mediavault.ListOptions{}); err != nil || len(trash.Items) != 0 {
		t.Fatalf("emptied trash: %+v, %v", trash, err)
	}
}
