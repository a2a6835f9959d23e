package mediavault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	mediavault "github.com/wronai/mediavault-go"
)

// progressLog records progress calls (they come from the transport's goroutine).
type progressLog struct {
	mu    sync.Mutex
	sent  []int64
	total []int64
}

func (p *progressLog) record(sent, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent, p.total = append(p.sent, sent), append(p.total, total)
}

func (p *progressLog) check(t *testing.T, size, wantTotal int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sent) == 0 || p.sent[len(p.sent)-1] != size {
		t.Fatalf("progress ended at %v, want %d", p.sent, size)
	}
	for i := range p.sent {
		if p.total[i] != wantTotal || (i > 0 && p.sent[i] <= p.sent[i-1]) {
			t.Fatalf("progress call %d: sent %d total %d (want increasing, total %d)", i, p.sent[i], p.total[i], wantTotal)
		}
	}
}

func checksum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestUploadFileWithProgressThenDownloadAndRanges(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	photo := pngImage(t, 300, 200)
	path := filepath.Join(t.TempDir(), "holiday.png")
	if err := os.WriteFile(path, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	progress := &progressLog{}
	media, err := c.UploadFile(ctx, path, mediavault.UploadOptions{
		Title: "Holiday", Tags: []string{"Beach", "2026"}, Progress: progress.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	progress.check(t, int64(len(photo)), int64(len(photo)))
	if media.Filename != "holiday.png" || media.Type != mediavault.KindImage || media.ContentType != "image/png" ||
		media.Size != int64(len(photo)) || media.ChecksumSHA256 != checksum(photo) || *media.Width != 300 ||
		*media.Height != 200 || *media.Title != "Holiday" || strings.Join(media.Tags, ",") != "beach,2026" ||
		media.Description != nil || media.CreatedAt.IsZero() {
		t.Fatalf("media: %+v", media)
	}

	var whole bytes.Buffer
	n, err := c.Download(ctx, media.ID, &whole, mediavault.DownloadOptions{})
	if err != nil || n != int64(len(photo)) || !bytes.Equal(whole.Bytes(), photo) {
		t.Fatalf("download: %d bytes, %v", n, err)
	}

	content, err := c.OpenContent(ctx, media.ID, mediavault.DownloadOptions{Offset: 10, Length: 20})
	if err != nil {
		t.Fatal(err)
	}
	part, err := io.ReadAll(content)
	content.Close()
	if err != nil || !bytes.Equal(part, photo[10:30]) || !content.Partial || content.Start != 10 ||
		content.Length != 20 || content.Total != int64(len(photo)) || content.ETag != `"`+media.ChecksumSHA256+`"` ||
		content.ContentType != "image/png" || content.LastModified.IsZero() {
		t.Fatalf("range: %q %+v, %v", part, content, err)
	}

	var tail bytes.Buffer
	if _, err := c.Download(ctx, media.ID, &tail, mediavault.DownloadOptions{Offset: int64(len(photo)) - 5}); err != nil ||
		!bytes.Equal(tail.Bytes(), photo[len(photo)-5:]) {
		t.Fatalf("open-ended range: %v", err)
	}
	_, err = c.Download(ctx, media.ID, io.Discard, mediavault.DownloadOptions{Offset: int64(len(photo)) + 10})
	if !errors.Is(err, mediavault.ErrRangeNotSatisfiable) {
		t.Fatalf("range past the end: want ErrRangeNotSatisfiable, got %v", err)
	}

	copyPath := filepath.Join(t.TempDir(), "copy.png")
	received := &progressLog{}
	if _, err := c.DownloadFile(ctx, media.ID, copyPath, mediavault.DownloadOptions{Progress: received.record}); err != nil {
		t.Fatal(err)
	}
	received.check(t, int64(len(photo)), int64(len(photo)))
	if got, _ := os.ReadFile(copyPath); !bytes.Equal(got, photo) {
		t.Fatal("downloaded file differs")
	}
	// A refused download leaves no file, not even a temporary one.
	missing := filepath.Join(t.TempDir(), "missing.png")
	if _, err := c.DownloadFile(ctx, "no-such-id", missing, mediavault.DownloadOptions{}); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("unknown media: want ErrNotFound, got %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(missing)); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

// onlyReader hides every method of a reader but Read (no io.Seeker: the size is unknown, sent chunked).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestUploadFromAReaderOfUnknownSize(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	text := []byte(strings.Repeat("a note to self\n", 1000))
	progress := &progressLog{}
	media, err := c.Upload(ctx, onlyReader{bytes.NewReader(text)}, mediavault.UploadOptions{
		Filename: "../notes.txt", Description: "streamed", Progress: progress.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	progress.check(t, int64(len(text)), -1)
	if media.Filename != "notes.txt" || media.Size != int64(len(text)) || media.Type != mediavault.KindDocument ||
		*media.Description != "streamed" || media.Title != nil {
		t.Fatalf("media: %+v", media)
	}
	// With Size given, the same reader is sent with a Content-Length; a reader that ends early fails clearly.
	if _, err := c.Upload(ctx, onlyReader{bytes.NewReader(text)}, mediavault.UploadOptions{Size: int64(len(text)) + 1}); err == nil ||
		!strings.Contains(err.Error(), "ended after") {
		t.Fatalf("short reader: %v", err)
	}
	if _, err := c.Upload(ctx, onlyReader{bytes.NewReader(text)}, mediavault.UploadOptions{Size: 10}); err == nil ||
		!strings.Contains(err.Error(), "more than its 10 bytes") {
		t.Fatalf("long reader: %v", err)
	}
	if _, err := c.Upload(ctx, bytes.NewReader(nil), mediavault.UploadOptions{}); !errors.Is(err, mediavault.ErrValidation) {
		t.Fatalf("empty file: want ErrValidation, got %v", err)
	}
	if _, err := c.Upload(ctx, bytes.NewReader(text), mediavault.UploadOptions{Tags: []string{"a,b"}}); err == nil ||
		!strings.Contains(err.Error(), "comma") {
		t.Fatalf("tag with a comma: %v", err)
	}
	page, err := c.ListMedia(ctx, mediavault.MediaQuery{})
	if err != nil || page.Pagination.Total != 1 {
		t.Fatalf("a refused upload kept something: %+v, %v", page, err)
	}
}

// pattern gives size bytes of a repeating pattern without holding them.
type pattern struct{ left int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := range b {
		b[i] = byte(i % 251)
	}
	p.left -= int64(len(b))
	return len(b), nil
}

func TestOversizedUploadsAreRefusedWithTheEnvelope(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	size := int64(maxUpload + 1)
	// Known size: refused from the Content-Length, before the body is sent.
	_, err := c.Upload(ctx, &pattern{size}, mediavault.UploadOptions{Filename: "big.bin", Size: size})
	if !errors.Is(err, mediavault.ErrPayloadTooLarge) {
		t.Fatalf("known size: want ErrPayloadTooLarge, got %v", err)
	}
	// Unknown size (chunked): cut off while streaming, and the 413 still reaches the client.
	_, err = c.Upload(ctx, onlyReader{&pattern{size}}, mediavault.UploadOptions{Filename: "big.bin"})
	if !errors.Is(err, mediavault.ErrPayloadTooLarge) {
		t.Fatalf("unknown size: want ErrPayloadTooLarge, got %v", err)
	}
	if page, err := c.ListMedia(ctx, mediavault.MediaQuery{}); err != nil || page.Pagination.Total != 0 {
		t.Fatalf("kept: %+v, %v", page, err)
	}
}

func TestUploadMemoryStaysFlat(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	size := int64(12 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	media, err := c.Upload(ctx, &pattern{size}, mediavault.UploadOptions{Filename: "big.bin", Size: size})
	runtime.ReadMemStats(&after)
	if err != nil || media.Size != size {
		t.Fatalf("upload: %+v, %v", media, err)
	}
	t.Logf("uploading %d bytes allocated %d bytes", size, after.TotalAlloc-before.TotalAlloc)
	// Everything this process allocated while sending 12 MiB (the test's own reads included).
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > uint64(size/4) {
		t.Fatalf("uploading %d bytes allocated %d bytes", size, allocated)
	}
}

func TestSeekableUploadIsSentAgainAfterARefreshedToken(t *testing.T) {
	ctx := ctxOf(t)
	login, _ := loggedIn(t)
	_, refreshToken := login.Tokens()
	c := anonymous(t, mediavault.WithTokens("expired-token", refreshToken))
	data := []byte("sent twice: once refused for the token, once stored")
	media, err := c.Upload(ctx, bytes.NewReader(data), mediavault.UploadOptions{Filename: "twice.txt"})
	if err != nil || media.Size != int64(len(data)) {
		t.Fatalf("upload: %+v, %v", media, err)
	}
	// A reader that cannot be rewound is not sent twice: the 401 is the answer.
	stale := anonymous(t, mediavault.WithTokens("expired-token", "unknown-refresh-token"))
	_, err = stale.Upload(ctx, onlyReader{bytes.NewReader(data)}, mediavault.UploadOptions{Filename: "once.txt"})
	if !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("want ErrUnauthorized, got %v", err)
	}
}

func TestListFiltersSortAndIterate(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	for i := 0; i < 5; i++ {
		body := strings.Repeat("x", 100*(i+1))
		tags := []string{"report"}
		if i%2 == 0 {
			tags = append(tags, "even")
		}
		_, err := c.Upload(ctx, strings.NewReader(body), mediavault.UploadOptions{
			Filename: fmt.Sprintf("report-%d.txt", i), Title: fmt.Sprintf("Quarterly report %d", i), Tags: tags,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Upload(ctx, bytes.NewReader(pngImage(t, 8, 8)), mediavault.UploadOptions{Filename: "dot.png"}); err != nil {
		t.Fatal(err)
	}

	page, err := c.ListMedia(ctx, mediavault.MediaQuery{PerPage: 2, Tag: "report", Sort: mediavault.SortLargestFirst})
	if err != nil || len(page.Items) != 2 || page.Items[0].Size != 500 || page.Pagination.Total != 5 ||
		page.Pagination.TotalPages != 3 || page.Pagination.Links.Next == nil || page.Pagination.Links.Prev != nil {
		t.Fatalf("page: %+v, %v", page, err)
	}
	var sizes []int64
	it := c.IterMedia(ctx, mediavault.MediaQuery{PerPage: 2, Tag: "report", Sort: mediavault.SortSmallestFirst})
	for it.Next() {
		sizes = append(sizes, it.Item().Size)
	}
	if it.Err() != nil || fmt.Sprint(sizes) != "[100 200 300 400 500]" {
		t.Fatalf("iterate: %v, %v", sizes, it.Err())
	}
	it = c.IterMedia(ctx, mediavault.MediaQuery{Page: 2, PerPage: 2, Tag: "even", Sort: mediavault.SortFilename})
	var names []string
	for it.Next() {
		names = append(names, it.Item().Filename)
	}
	if it.Err() != nil || fmt.Sprint(names) != "[report-4.txt]" {
		t.Fatalf("from page 2: %v, %v", names, it.Err())
	}
	images, err := c.ListMedia(ctx, mediavault.MediaQuery{Type: mediavault.KindImage})
	if err != nil || len(images.Items) != 1 || images.Items[0].Filename != "dot.png" {
		t.Fatalf("type filter: %+v, %v", images, err)
	}
	found, err := c.Search(ctx, mediavault.MediaQuery{Q: "quarter rep", Sort: mediavault.SortFilename})
	if err != nil || found.Pagination.Total != 5 || found.Items[0].Filename != "report-0.txt" {
		t.Fatalf("search: %+v, %v", found, err)
	}
	count := 0
	for it := c.IterSearch(ctx, mediavault.MediaQuery{Q: "even", PerPage: 1}); it.Next(); {
		count++
	}
	if count != 3 {
		t.Fatalf("search iterate: %d", count)
	}
	if _, err := c.Search(ctx, mediavault.MediaQuery{}); !errors.Is(err, mediavault.ErrValidation) {
		t.Fatalf("search without q: want ErrValidation, got %v", err)
	}
	if _, err := c.ListMedia(ctx, mediavault.MediaQuery{Sort: "sideways"}); !errors.Is(err, mediavault.ErrValidation) {
		t.Fatalf("bad sort: want ErrValidation, got %v", err)
	}
	bad := c.IterMedia(ctx, mediavault.MediaQuery{PerPage: 1000})
	if bad.Next() || !errors.Is(bad.Err(), mediavault.ErrValidation) {
		t.Fatalf("iterator error: %v", bad.Err())
	}
}

func TestUpdateGetDeleteAndOwnership(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	media, err := c.Upload(ctx, strings.NewReader("hello"), mediavault.UploadOptions{
		Filename: "hello.txt", Title: "Hello", Description: "first", Tags: []string{"a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	updated, err := c.UpdateMedia(ctx, media.ID, mediavault.MediaUpdate{
		Title: mediavault.Set("Hi"), Description: mediavault.Null[string](),
	})
	if err != nil || *updated.Title != "Hi" || updated.Description != nil || strings.Join(updated.Tags, ",") != "a" {
		t.Fatalf("update: %+v, %v", updated, err)
	}
	updated, err = c.UpdateMedia(ctx, media.ID, mediavault.MediaUpdate{Tags: mediavault.Set([]string{})})
	if err != nil || len(updated.Tags) != 0 || *updated.Title != "Hi" {
		t.Fatalf("clear tags: %+v, %v", updated, err)
	}
	got, err := c.GetMedia(ctx, media.ID)
	if err != nil || got.ID != media.ID || *got.Title != "Hi" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	other, _ := loggedIn(t)
	if _, err := other.GetMedia(ctx, media.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("someone else's media: want ErrNotFound, got %v", err)
	}
	if err := other.DeleteMedia(ctx, media.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("deleting someone else's: want ErrNotFound, got %v", err)
	}
	if err := c.DeleteMedia(ctx, media.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetMedia(ctx, media.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("deleted: want ErrNotFound, got %v", err)
	}
	if _, err := c.GetMedia(ctx, "../../users/me"); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("an id is one path segment: want ErrNotFound, got %v", err)
	}
}

func TestProcessingMetadataAndThumbnail(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	media, err := c.Upload(ctx, bytes.NewReader(pngImage(t, 640, 480)), mediavault.UploadOptions{Filename: "big.png"})
	if err != nil {
		t.Fatal(err)
	}
	// The server's worker processes the image in the background: wait for the condition, not for a time.
	var processing *mediavault.MediaProcessing
	for deadline := time.Now().Add(time.Minute); ; {
		if processing, err = c.GetMetadata(ctx, media.ID); err != nil {
			t.Fatal(err)
		}
		if processing.Status != "pending" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if processing.Status != "done" || processing.MediaID != media.ID || processing.Metadata["image"]["width"] != float64(640) ||
		len(processing.Variants) == 0 {
		t.Fatalf("processing: %+v", processing)
	}
	var thumb *mediavault.Variant
	for i := range processing.Variants {
		if processing.Variants[i].Name == "thumb-256" {
			thumb = &processing.Variants[i]
		}
	}
	if thumb == nil || *thumb.Width != 256 || *thumb.Height != 192 || thumb.URL == nil {
		t.Fatalf("variants: %+v", processing.Variants)
	}
	content, err := c.OpenThumbnail(ctx, media.ID, 256, mediavault.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(content)
	content.Close()
	// The default thumbnail format is WebP: a RIFF container of type WEBP.
	if err != nil || content.ContentType != thumb.ContentType || int64(len(data)) != thumb.Size ||
		string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		t.Fatalf("thumbnail: %s, %d bytes, %v", content.ContentType, len(data), err)
	}
	if _, err := c.DownloadThumbnail(ctx, media.ID, 7, io.Discard, mediavault.DownloadOptions{}); !errors.Is(err, mediavault.ErrValidation) {
		t.Fatalf("unknown size: want ErrValidation, got %v", err)
	}
}

func TestAnswerThatIsNotTheEnvelope(t *testing.T) {
	ctx := ctxOf(t)
	// A proxy in front of a vault that is down answers with its own page.
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "<html>upstream unavailable</html>")
	})}
	listener := listen(t)
	go func() { _ = proxy.Serve(listener) }()
	t.Cleanup(func() { _ = proxy.Close() })
	c, err := mediavault.New("http://" + listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Health(ctx)
	var vaultErr *mediavault.Error
	if !errors.As(err, &vaultErr) || vaultErr.StatusCode != 503 || !errors.Is(err, mediavault.ErrServiceUnavailable) ||
		!strings.Contains(vaultErr.Message, "upstream unavailable") || vaultErr.RetryAfter != 7*time.Second {
		t.Fatalf("want a 503 *Error, got %#v", err)
	}
}

// cancelAfter gives bytes of a pattern and cancels its context once it has given limit bytes.
type cancelAfter struct {
	pattern
	given  int64
	limit  int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.given >= c.limit {
		c.cancel()
	}
	n, err := c.pattern.Read(p)
	c.given += int64(n)
	return n, err
}

func TestCancelledUploadStopsAndKeepsNothing(t *testing.T) {
	c, _ := loggedIn(t)
	ctx, cancel := context.WithCancel(ctxOf(t))
	defer cancel()
	size := int64(8 << 20)
	source := &cancelAfter{pattern: pattern{size}, limit: 1 << 20, cancel: cancel}
	_, err := c.Upload(ctx, source, mediavault.UploadOptions{Filename: "cut.bin", Size: size})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if source.given >= size {
		t.Fatalf("the whole file was read (%d bytes) after the cancel", source.given)
	}
	page, err := c.ListMedia(ctxOf(t), mediavault.MediaQuery{})
	if err != nil || page.Pagination.Total != 0 {
		t.Fatalf("kept: %+v, %v", page, err)
	}
}
