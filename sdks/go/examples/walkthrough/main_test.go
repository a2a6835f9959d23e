package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wronai/mediavault-go/internal/vaulttest"
)

// TestWalkthrough runs the walk-through against a real `mediavault serve`, twice (the second run finds the
// account registered).
func TestWalkthrough(t *testing.T) {
	server, err := vaulttest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop()
	photo := filepath.Join(t.TempDir(), "photo.png")
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var encoded bytes.Buffer
	if err := png.Encode(&encoded, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photo, encoded.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var out bytes.Buffer
		err := run(ctx, &out, server.URL, photo)
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v\n%s\n--- server log:\n%s", round, err, out.String(), server.LogTail())
		}
		text := out.String()
		size := encoded.Len()
		id := regexp.MustCompile(`\n([0-9a-f-]{36}): image image/png, (\d+) bytes\n`).FindStringSubmatch(text)
		want := []string{
			"uploaded " + itoa(size) + " of " + itoa(size) + " bytes\n",
			"listed: photo.png (" + itoa(size) + " bytes)\n",
			"first bytes: 89504e470d0a1a0a\n", // the PNG signature
			"share link: " + server.URL + "/api/v1/s/",
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Fatalf("round %d: output lacks %q:\n%s", round, w, text)
			}
		}
		if id == nil || id[2] != itoa(size) || !strings.HasSuffix(text, "event: media.updated "+id[1]+"\n") {
			t.Fatalf("round %d: output:\n%s", round, text)
		}
		if listed := strings.Count(text, "listed: "); listed != round {
			t.Fatalf("round %d listed %d media", round, listed)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDocsShowThisProgram checks that docs/sdk.md shows main.go exactly, in a ```go block.
func TestDocsShowThisProgram(t *testing.T) {
	source, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "docs", "sdk.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```go\n"+string(source)+"```\n") {
		t.Fatal("docs/sdk.md does not show sdks/go/examples/walkthrough/main.go verbatim: copy the file into its ```go block")
	}
}
