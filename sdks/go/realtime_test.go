package mediavault_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	mediavault "github.com/wronai/mediavault-go"
)

func TestRealtimeEvents(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	media, err := c.Upload(ctx, strings.NewReader("watched"), mediavault.UploadOptions{Filename: "watched.txt"})
	if err != nil {
		t.Fatal(err)
	}
	socket, err := c.Realtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer socket.Close()
	if err := socket.Subscribe(ctx, mediavault.ChannelMedia, media.ID); err != nil {
		t.Fatal(err)
	}
	other, _ := loggedIn(t)
	theirs, err := other.Upload(ctx, strings.NewReader("not yours"), mediavault.UploadOptions{Filename: "x.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if err := socket.Subscribe(ctx, mediavault.ChannelMedia, theirs.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("someone else's media: want ErrNotFound, got %v", err)
	}
	if _, err := c.UpdateMedia(ctx, media.ID, mediavault.MediaUpdate{Title: mediavault.Set("Renamed")}); err != nil {
		t.Fatal(err)
	}
	event, err := socket.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if event.Event != mediavault.EventMediaUpdated || event.Channel != mediavault.ChannelMedia || event.ResourceID != media.ID ||
		event.ID == "" || event.Timestamp.IsZero() || json.Unmarshal(event.Data, &data) != nil || data.ID != media.ID ||
		data.Title != "Renamed" {
		t.Fatalf("event: %+v %s", event, event.Data)
	}
	if err := socket.Unsubscribe(ctx, mediavault.ChannelMedia, media.ID); err != nil {
		t.Fatal(err)
	}
	// All of the caller's media, new ones included.
	if err := socket.Subscribe(ctx, mediavault.ChannelMedia, ""); err != nil {
		t.Fatal(err)
	}
	added, err := c.Upload(ctx, strings.NewReader("new"), mediavault.UploadOptions{Filename: "new.txt"})
	if err != nil {
		t.Fatal(err)
	}
	event, err = socket.Next(ctx)
	if err != nil || event.Event != mediavault.EventMediaUploaded || event.ResourceID != added.ID {
		t.Fatalf("upload event: %+v, %v", event, err)
	}
	// Logging out ends the socket's login: the server closes it with 4401.
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = socket.Next(ctx); err != nil {
			break
		}
	}
	if !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("after logout: want ErrUnauthorized, got %v", err)
	}
}

func TestRealtimeWithAPIKeyAndRefusedCredentials(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	key, err := c.CreateAPIKey(ctx, "socket")
	if err != nil {
		t.Fatal(err)
	}
	keyed := anonymous(t, mediavault.WithAPIKey(key.Key))
	socket, err := keyed.Realtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer socket.Close()
	if err := socket.Subscribe(ctx, mediavault.ChannelCollections, ""); err != nil {
		t.Fatal(err)
	}
	album, err := c.CreateCollection(ctx, mediavault.CollectionCreate{Name: "Live"})
	if err != nil {
		t.Fatal(err)
	}
	event, err := socket.Next(ctx)
	if err != nil || event.Event != mediavault.EventCollectionCreated || event.ResourceID != album.ID {
		t.Fatalf("collection event: %+v, %v", event, err)
	}
	refused := anonymous(t, mediavault.WithAPIKey("mvk_not-a-key"))
	if _, err := refused.Realtime(ctx); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("bad key: want ErrUnauthorized, got %v", err)
	}
}
