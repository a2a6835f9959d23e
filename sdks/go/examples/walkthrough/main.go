// Command walkthrough logs in to a vault, uploads a file with progress, lists, downloads a range, shares the
// file and follows a change in real time: the Go walk-through of docs/sdk.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	mediavault "github.com/wronai/mediavault-go"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8080", "the vault's address")
	photo := flag.String("photo", "photo.jpg", "the file to upload")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, *server, *photo); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer, server, photo string) error {
	vault, err := mediavault.New(server)
	if err != nil {
		return err
	}

	// Log in (registering first: a second run finds the account there).
	_, err = vault.Register(ctx, mediavault.Registration{Email: "ada@example.com", Password: "correct horse battery"})
	if err != nil && !errors.Is(err, mediavault.ErrConflict) {
		return err
	}
	if _, err := vault.Login(ctx, "ada@example.com", "correct horse battery"); err != nil {
		return err
	}

	// Upload with progress: the file is streamed, never read into memory.
	media, err := vault.UploadFile(ctx, photo, mediavault.UploadOptions{
		Title: "Holiday",
		Tags:  []string{"beach", "2026"},
		Progress: func(sent, total int64) {
			fmt.Fprintf(out, "\ruploaded %d of %d bytes", sent, total)
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s: %s %s, %d bytes\n", media.ID, media.Type, media.ContentType, media.Size)

	// List: every page, one request per page.
	it := vault.IterMedia(ctx, mediavault.MediaQuery{Tag: "beach", Sort: mediavault.SortLargestFirst})
	for it.Next() {
		fmt.Fprintf(out, "listed: %s (%d bytes)\n", it.Item().Filename, it.Item().Size)
	}
	if err := it.Err(); err != nil {
		return err
	}

	// Download a range: the first 8 bytes.
	var head bytes.Buffer
	if _, err := vault.Download(ctx, media.ID, &head, mediavault.DownloadOptions{Offset: 0, Length: 8}); err != nil {
		return err
	}
	fmt.Fprintf(out, "first bytes: %x\n", head.Bytes())

	// Share it for a day: the token is shown only now.
	share, err := vault.CreateShare(ctx, mediavault.ShareCreate{MediaID: media.ID, ExpiresIn: 24 * time.Hour})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "share link: %s%s\n", server, *share.URL)

	// Realtime: follow changes to the file.
	socket, err := vault.Realtime(ctx)
	if err != nil {
		return err
	}
	defer socket.Close()
	if err := socket.Subscribe(ctx, mediavault.ChannelMedia, media.ID); err != nil {
		return err
	}
	if _, err := vault.UpdateMedia(ctx, media.ID, mediavault.MediaUpdate{Title: mediavault.Set("Holiday 2026")}); err != nil {
		return err
	}
	event, err := socket.Next(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "event: %s %s\n", event.Event, event.ResourceID)
	return nil
}
