package mediavault_test

// The SDK's resumable uploads (tus 1.0.0 on /uploads) against the real server, with a small threshold and chunks
// (1 MiB, 256 KiB) for speed: Upload picks tus over the threshold, byte-exact; an upload interrupted after two
// chunks is continued by a fresh client from the server's offset (through the resume file, and through a kept
// upload URL with a reader read in order and with a seeker), ending in one media; ReplaceContent through tus (a new version of the
// item, resumable); a 409 is answered from HEAD; chunk checksums, a corrupted chunk sent again, and termination. Requests are watched through the client's http.Client (the
// standard transport underneath).

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	mediavault "github.com/wronai/mediavault-go"
)

const (
	kib   = 1 << 10
	mib   = 1 << 20
	chunk = 256 * kib
)

// seenRequest is one request a client sent and its answer.
type seenRequest struct {
	method, path, offset string // offset: the request's Upload-Offset
	status               int
	answered             string // the answer's Upload-Offset
}

// watcher is an http.RoundTripper recording every request; before may act first (fail, corrupt the body, send
// another request) and return the request to send.
type watcher struct {
	mu     sync.Mutex
	seen   []seenRequest
	before func(req *http.Request, earlier []seenRequest) (*http.Request, error)
}

func (w *watcher) RoundTrip(req *http.Request) (*http.Response, error) {
	if w.before != nil {
		var err error
		if req, err = w.before(req, w.requests()); err != nil {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, seenRequest{req.Method, req.URL.Path, req.Header.Get("Upload-Offset"), resp.StatusCode,
		resp.Header.Get("Upload-Offset")})
	return resp, nil
}

func (w *watcher) requests() []seenRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]seenRequest(nil), w.seen...)
}

// summary lists "METHOD path Upload-Offset(request or answer) status" with upload and media ids as <id>.
func (w *watcher) summary() []string {
	ids := regexp.MustCompile(`[0-9a-f-]{32,}`)
	var lines []string
	for _, r := range w.requests() {
		offset := r.offset
		if offset == "" {
			offset = r.answered
		}
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s %s %d %s", r.method, ids.ReplaceAllString(r.path, "<id>"), r.status, offset)))
	}
	return lines
}

func patches(seen []seenRequest) int {
	n := 0
	for _, r := range seen {
		if r.method == http.MethodPatch {
			n++
		}
	}
	return n
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	return data
}

// resumableClient is a client of the user of tokens with the test's threshold and chunks, watched by w.
func resumableClient(t *testing.T, tokens [2]string, w *watcher, options ...mediavault.Option) *mediavault.Client {
	t.Helper()
	options = append([]mediavault.Option{
		mediavault.WithTokens(tokens[0], tokens[1]),
		mediavault.WithResumableThreshold(mib),
		mediavault.WithChunkSize(chunk),
		mediavault.WithResumeStore(nil),
		mediavault.WithHTTPClient(&http.Client{Transport: w}),
	}, options...)
	return anonymous(t, options...)
}

// newUser registers and logs in a new user and returns the login's tokens, shared by the test's clients (none of
// them outlives the access token).
func newUser(t *testing.T) [2]string {
	t.Helper()
	c, _ := loggedIn(t)
	token, refresh := c.Tokens()
	return [2]string{token, refresh}
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestResumableUploadOverTheThreshold(t *testing.T) {
	ctx := ctxOf(t)
	user := newUser(t)
	data := randomBytes(t, mib+1000)
	path := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	w := &watcher{}
	progress := &progressLog{}
	media, err := resumableClient(t, user, w).UploadFile(ctx, path, mediavault.UploadOptions{
		Title: "Through tus", Tags: []string{"tus", "go"}, Checksum: true, Progress: progress.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	if media.Size != int64(len(data)) || media.ChecksumSHA256 != checksum(data) || media.Filename != "big.bin" ||
		*media.Title != "Through tus" || strings.Join(media.Tags, ",") != "tus,go" {
		t.Fatalf("media: %+v", media)
	}
	equalLines(t, "requests", w.summary(), []string{
		"POST /api/v1/uploads 201 0",
		"PATCH /api/v1/uploads/<id> 204 0", "PATCH /api/v1/uploads/<id> 204 262144", "PATCH /api/v1/uploads/<id> 204 524288",
		"PATCH /api/v1/uploads/<id> 204 786432", "PATCH /api/v1/uploads/<id> 204 1048576",
		"GET /api/v1/media/<id> 200",
	})
	if progress.sent[0] != 0 {
		t.Fatalf("progress starts at %d, want 0 (the offset)", progress.sent[0])
	}
	progress.sent = progress.sent[1:] // then grows to the size
	progress.total = progress.total[1:]
	progress.check(t, int64(len(data)), int64(len(data)))

	// Under the threshold, or with custom metadata (a tus upload has no place for it): one POST /media/upload.
	small := &watcher{}
	if _, err := resumableClient(t, user, small).Upload(ctx, bytes.NewReader(data[:mib-1]), mediavault.UploadOptions{Filename: "small.bin"}); err != nil {
		t.Fatal(err)
	}
	withMetadata := mediavault.UploadOptions{Filename: "meta.bin", Metadata: map[string]interface{}{"camera": "x"}}
	if _, err := resumableClient(t, user, small).Upload(ctx, bytes.NewReader(data), withMetadata); err != nil {
		t.Fatal(err)
	}
	equalLines(t, "one-request uploads", small.summary(), []string{"POST /api/v1/media/upload 201", "POST /api/v1/media/upload 201"})
	if _, err := resumableClient(t, user, small).UploadResumable(ctx, bytes.NewReader(data), withMetadata); err == nil ||
		!strings.Contains(err.Error(), "metadata") {
		t.Fatalf("UploadResumable with Metadata: want an error, got %v", err)
	}
	if _, err := resumableClient(t, user, small).UploadResumable(ctx, io.MultiReader(bytes.NewReader(data)), mediavault.UploadOptions{}); err == nil ||
		!strings.Contains(err.Error(), "Size") {
		t.Fatalf("UploadResumable of a reader of unknown size: want an error, got %v", err)
	}
}

func TestResumableReplaceContentMakesANewVersion(t *testing.T) {
	ctx := ctxOf(t)
	user := newUser(t)
	c := resumableClient(t, user, &watcher{})
	item, err := c.Upload(ctx, bytes.NewReader(randomBytes(t, 1000)), mediavault.UploadOptions{Filename: "v1.bin"})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, mib+5)
	storePath := filepath.Join(t.TempDir(), "uploads.json")
	store := mediavault.WithResumeStore(mediavault.NewResumeFile(storePath))
	options := mediavault.UploadOptions{Filename: "v2.bin", ResumeKey: "v2.bin|1048581"}
	if _, err := resumableClient(t, user, &watcher{before: dropThirdChunk}, store).
		ReplaceContent(ctx, item.ID, bytes.NewReader(data), options); !errors.Is(err, errDropped) {
		t.Fatalf("first attempt: want the dropped connection, got %v", err)
	}
	raw, err := os.ReadFile(storePath)
	if err != nil || !strings.Contains(string(raw), `"v2.bin|1048581|replaces `+item.ID+`"`) {
		t.Fatalf("resume file: %s, %v (want the key apart from a new item's)", raw, err)
	}
	second := &watcher{}
	replaced, err := resumableClient(t, user, second, store).ReplaceContent(ctx, item.ID, bytes.NewReader(data), options)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, "the fresh client's first requests", second.summary()[:2], []string{
		"HEAD /api/v1/uploads/<id> 200 524288", "PATCH /api/v1/uploads/<id> 204 524288",
	})
	if replaced.ID != item.ID || replaced.Version != 2 || replaced.Filename != "v2.bin" || replaced.ChecksumSHA256 != checksum(data) {
		t.Fatalf("replaced: %+v", replaced)
	}
	if versions, err := c.ListVersions(ctx, item.ID); err != nil || len(versions) != 2 {
		t.Fatalf("versions: %+v, %v", versions, err)
	}
}

var errDropped = errors.New("connection dropped (test)")

// dropThirdChunk fails the third PATCH before it is sent, as a dropped connection: two chunks are on the server.
func dropThirdChunk(req *http.Request, earlier []seenRequest) (*http.Request, error) {
	if req.Method == http.MethodPatch && patches(earlier) == 2 {
		return req, errDropped
	}
	return req, nil
}

func TestResumableUploadInterruptedIsContinuedByAFreshClient(t *testing.T) {
	ctx := ctxOf(t)
	user := newUser(t)
	data := randomBytes(t, mib+300*kib)
	dir := t.TempDir()
	path := filepath.Join(dir, "interrupted.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "state", "uploads.json")

	first := &watcher{before: dropThirdChunk}
	uploadURL := ""
	_, err := resumableClient(t, user, first, mediavault.WithResumeStore(mediavault.NewResumeFile(storePath))).
		UploadFile(ctx, path, mediavault.UploadOptions{OnUploadURL: func(u string) { uploadURL = u }})
	if !errors.Is(err, errDropped) {
		t.Fatalf("first attempt: want the dropped connection, got %v", err)
	}
	// <real path>|<size>|<mtime ns>: the Python SDK's own key of the file (so either SDK continues the other's upload)
	key, err := mediavault.FileResumeKey(path)
	python := os.Getenv("MEDIAVAULT_PYTHON")
	if python == "" {
		python = "python3"
	}
	pythonKey, pyErr := exec.Command(python, "-c", "import sys\nfrom pathlib import Path\n"+
		"from mediavault_sdk._resumable import ResumeFile\nprint(ResumeFile.key(Path(sys.argv[1])))", path).Output()
	if err != nil || pyErr != nil || key != strings.TrimSpace(string(pythonKey)) || !strings.Contains(key, fmt.Sprintf("|%d|", len(data))) {
		t.Fatalf("key %q, %v; the Python SDK's: %q, %v", key, err, pythonKey, pyErr)
	}
	uploadID := uploadURL[strings.LastIndex(uploadURL, "/")+1:]
	if uploadURL != server.URL+"/api/v1/uploads/"+uploadID {
		t.Fatalf("upload URL %q", uploadURL)
	}
	readStore := func() map[string]string {
		entries := map[string]string{}
		raw, err := os.ReadFile(storePath)
		if err != nil || json.Unmarshal(raw, &entries) != nil {
			t.Fatalf("resume file: %s, %v", raw, err)
		}
		return entries
	}
	if entries := readStore(); len(entries) != 1 || entries[key] != uploadID {
		t.Fatalf("resume file after the interruption: %v, want {%q: %q}", entries, key, uploadID)
	}

	// A new client (a new process would do the same) finds the upload in the file and sends only the rest.
	second := &watcher{}
	progress := &progressLog{}
	media, err := resumableClient(t, user, second, mediavault.WithResumeStore(mediavault.NewResumeFile(storePath))).
		UploadFile(ctx, path, mediavault.UploadOptions{Progress: progress.record})
	if err != nil {
		t.Fatal(err)
	}
	seen := second.summary()
	equalLines(t, "the fresh client's first requests", seen[:3], []string{
		"HEAD /api/v1/uploads/<id> 200 524288", "PATCH /api/v1/uploads/<id> 204 524288", "PATCH /api/v1/uploads/<id> 204 786432",
	})
	if strings.Contains(strings.Join(seen, "\n"), "POST") {
		t.Fatalf("the fresh client made a new upload: %q", seen)
	}
	if progress.sent[0] != 2*chunk {
		t.Fatalf("progress starts at %d, want %d (the server's offset)", progress.sent[0], 2*chunk)
	}
	if media.ChecksumSHA256 != checksum(data) || media.Size != int64(len(data)) {
		t.Fatalf("media: %+v", media)
	}
	if entries := readStore(); len(entries) != 0 {
		t.Fatalf("resume file after the upload: %v, want {}", entries)
	}
	same, err := resumableClient(t, user, &watcher{}).ListMedia(ctx, mediavault.MediaQuery{ChecksumSHA256: checksum(data)})
	if err != nil || same.Pagination.Total != 1 {
		t.Fatalf("media with these bytes: %+v, %v (want exactly one)", same, err)
	}
}

func TestResumableUploadByKeptURLAnswersAConflictFromHead(t *testing.T) {
	ctx := ctxOf(t)
	user := newUser(t)
	data := randomBytes(t, mib+10)
	// A reader that is no io.Seeker: read once, in order, a chunk at a time (so Size is needed).
	options := mediavault.UploadOptions{Filename: "kept.bin", Size: int64(len(data))}
	uploadURL := ""
	options.OnUploadURL = func(u string) { uploadURL = u }
	_, err := resumableClient(t, user, &watcher{before: dropThirdChunk}).
		UploadResumable(ctx, io.MultiReader(bytes.NewReader(data)), options)
	if !errors.Is(err, errDropped) || uploadURL == "" {
		t.Fatalf("first attempt: want the dropped connection and a URL, got %v, %q", err, uploadURL)
	}

	// Another client sends half of the next chunk just before this one's first PATCH: the server answers 409, and
	// the client asks the offset again and goes on from there, mid-chunk (the rest of the chunk it had read).
	raced := false
	second := &watcher{before: func(req *http.Request, _ []seenRequest) (*http.Request, error) {
		if req.Method == http.MethodPatch && !raced {
			raced = true
			other, err := http.NewRequestWithContext(req.Context(), http.MethodPatch, req.URL.String(), bytes.NewReader(data[2*chunk:2*chunk+chunk/2]))
			if err != nil {
				return req, err
			}
			other.Header = req.Header.Clone()
			other.Header.Set("Upload-Offset", fmt.Sprint(2*chunk))
			other.Header.Del("Upload-Checksum")
			resp, err := http.DefaultTransport.RoundTrip(other)
			if err != nil {
				return req, err
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return req, fmt.Errorf("the other client's PATCH: %s", resp.Status)
			}
		}
		return req, nil
	}}
	options.UploadURL = uploadURL
	media, err := resumableClient(t, user, second).UploadResumable(ctx, io.MultiReader(bytes.NewReader(data)), options)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, "requests", second.summary(), []string{
		"HEAD /api/v1/uploads/<id> 200 524288",
		"PATCH /api/v1/uploads/<id> 409 524288",
		"HEAD /api/v1/uploads/<id> 200 655360",
		"PATCH /api/v1/uploads/<id> 204 655360",
		"PATCH /api/v1/uploads/<id> 204 917504",
		"GET /api/v1/media/<id> 200",
	})
	if media.ChecksumSHA256 != checksum(data) || media.Filename != "kept.bin" {
		t.Fatalf("media: %+v", media)
	}
}

// seekOnly hides a bytes.Reader's io.ReaderAt: chunks are read after a Seek.
type seekOnly struct{ io.ReadSeeker }

func TestResumableUploadOfASeekerContinuedByKeptURL(t *testing.T) {
	ctx := ctxOf(t)
	user := newUser(t)
	data := randomBytes(t, mib+chunk/2)
	uploadURL := ""
	options := mediavault.UploadOptions{Filename: "seek.bin", OnUploadURL: func(u string) { uploadURL = u }}
	if _, err := resumableClient(t, user, &watcher{before: dropThirdChunk}).
		Upload(ctx, seekOnly{bytes.NewReader(data)}, options); !errors.Is(err, errDropped) {
		t.Fatalf("first attempt: want the dropped connection, got %v", err)
	}
	// Another file (another length) is not sent into it.
	wrong := &watcher{}
	_, err := resumableClient(t, user, wrong).UploadResumable(ctx, bytes.NewReader(data[:1000]), mediavault.UploadOptions{UploadURL: uploadURL})
	if err == nil || !strings.Contains(err.Error(), "is of 1179648 bytes, the source of 1000") {
		t.Fatalf("a kept upload of another length: want an error, got %v", err)
	}
	equalLines(t, "requests", wrong.summary(), []string{"HEAD /api/v1/uploads/<id> 200 524288"})

	second := &watcher{}
	options.UploadURL = uploadURL
	media, err := resumableClient(t, user, second).Upload(ctx, seekOnly{bytes.NewReader(data)}, options)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, "requests", second.summary(), []string{
		"HEAD /api/v1/uploads/<id> 200 524288", "PATCH /api/v1/uploads/<id> 204 524288",
		"PATCH /api/v1/uploads/<id> 204 786432", "PATCH /api/v1/uploads/<id> 204 1048576", "GET /api/v1/media/<id> 200",
	})
	if media.ChecksumSHA256 != checksum(data) || media.Filename != "seek.bin" {
		t.Fatalf("media: %+v", media)
	}
}

// corrupting flips a byte in the body of the first n PATCH requests, after the client hashed it.
func corrupting(n int) func(req *http.Request, _ []seenRequest) (*http.Request, error) {
	return func(req *http.Request, _ []seenRequest) (*http.Request, error) {
		if req.Method != http.MethodPatch || n == 0 {
			return req, nil
		}
		n--
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return req, err
		}
		body[7] ^= 0xff
		changed := req.Clone(req.Context())
		changed.Body = io.NopCloser(bytes.NewReader(body))
		return changed, nil
	}
}

func TestResumableUploadChecksums(t *testing.T) {
	ctx := ctxOf(t)
	user := newUser(t)
	data := randomBytes(t, mib)
	once := &watcher{before: corrupting(1)}
	options := mediavault.UploadOptions{Filename: "sum.bin", Checksum: true}
	media, err := resumableClient(t, user, once).UploadResumable(ctx, bytes.NewReader(data), options)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, "requests", once.summary()[1:6], []string{
		"PATCH /api/v1/uploads/<id> 460 0", // refused for its checksum, and sent again
		"PATCH /api/v1/uploads/<id> 204 0", "PATCH /api/v1/uploads/<id> 204 262144", "PATCH /api/v1/uploads/<id> 204 524288",
		"PATCH /api/v1/uploads/<id> 204 786432",
	})
	if media.ChecksumSHA256 != checksum(data) {
		t.Fatalf("media: %+v", media)
	}

	uploadURL := ""
	options.OnUploadURL = func(u string) { uploadURL = u }
	_, err = resumableClient(t, user, &watcher{before: corrupting(2)}).UploadResumable(ctx, bytes.NewReader(data), options)
	var vaultErr *mediavault.Error
	if !errors.Is(err, mediavault.ErrChecksumMismatch) || !errors.As(err, &vaultErr) || vaultErr.StatusCode != 460 {
		t.Fatalf("a chunk corrupted twice: want ErrChecksumMismatch (460), got %v", err)
	}
	// Nothing of the refused chunks was kept; terminating the upload removes it.
	c := resumableClient(t, user, &watcher{})
	head, err := http.NewRequestWithContext(ctx, http.MethodHead, uploadURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	head.Header.Set("Authorization", "Bearer "+user[0])
	head.Header.Set("Tus-Resumable", "1.0.0")
	resp, err := http.DefaultClient.Do(head)
	if err != nil || resp.Header.Get("Upload-Offset") != "0" {
		t.Fatalf("HEAD after two refused chunks: %v, %v", resp, err)
	}
	_ = resp.Body.Close()
	if err := c.DeleteUpload(ctx, uploadURL); err != nil {
		t.Fatal(err)
	}
	options.OnUploadURL, options.UploadURL = nil, uploadURL
	if _, err := c.UploadResumable(ctx, bytes.NewReader(data), options); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("continuing a deleted upload: want ErrNotFound, got %v", err)
	}
	if err := c.DeleteUpload(ctx, uploadURL); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("deleting it again: want ErrNotFound, got %v", err)
	}
}
