package mediavault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// UploadOptions describe an upload (Upload, UploadFile).
type UploadOptions struct {
	// Filename to store (default: the file's base name, or "upload"); the server sanitises it and sniffs the
	// content type from the bytes.
	Filename    string
	Title       string
	Description string
	Tags        []string // stored trimmed and lower-cased; a tag cannot contain a comma
	// Metadata is custom metadata (a JSON object, at most 16 KiB encoded); nil sends none.
	Metadata map[string]interface{}
	// Size is the number of bytes the reader will give, when known and the reader is not an io.Seeker (whose
	// remaining length is measured). With a size the request carries a Content-Length, so the server refuses an
	// oversized file (ErrPayloadTooLarge) before it is sent; without one the body is sent chunked.
	Size int64
	// Progress, when set, is called after each chunk read from the reader, with the bytes sent so far and the
	// total (-1 when unknown). It runs on the HTTP transport's goroutine: keep it quick. A resumable upload first
	// reports the offset it starts from (0, or where the server got).
	Progress func(sent, total int64)

	// Resumable picks one POST /media/upload or a resumable upload (tus; see UploadResumable). By default a
	// source of known size of at least the client's threshold (64 MiB) without Metadata goes resumable.
	Resumable Resumable
	// ChunkSize is the bytes per PATCH of a resumable upload (default: the client's, 8 MiB); a failed chunk is
	// sent again whole.
	ChunkSize int64
	// Checksum sends each chunk's SHA-256 (Upload-Checksum); a chunk refused for it (460: corrupted on the way,
	// nothing kept) is sent once more, then the upload fails with ErrChecksumMismatch.
	Checksum bool
	// UploadURL continues this resumable upload (its URL, path or id, as OnUploadURL told it).
	UploadURL string
	// ResumeKey names the source in the client's ResumeStore (UploadFile: its path, size and modification time).
	ResumeKey string
	// OnUploadURL is told a resumable upload's URL as soon as it is known (made or continued), e.g. to keep it.
	OnUploadURL func(uploadURL string)
}

// upload is a multipart/form-data body streamed from a reader: the form fields and the file part's head
// (prefix), the reader's bytes, then the closing boundary (suffix). Only prefix and suffix are in memory.
type upload struct {
	src      io.Reader
	seeker   io.Seeker // non-nil when src can be rewound to start for a second attempt
	start    int64
	size     int64 // -1: unknown
	prefix   []byte
	suffix   []byte
	boundary string
	progress func(sent, total int64)

	mu       sync.Mutex
	err      error // the source failed (changed size): the attempt's error
	attempts int
}

func newUpload(r io.Reader, o UploadOptions) (*upload, error) {
	for _, tag := range o.Tags {
		if strings.Contains(tag, ",") {
			return nil, fmt.Errorf("mediavault: tag %q: a tag cannot contain a comma (the upload form sends tags comma-separated)", tag)
		}
	}
	u := &upload{src: r, size: -1, progress: o.Progress}
	if o.Size > 0 {
		u.size = o.Size
	}
	if s, ok := r.(io.Seeker); ok {
		start, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			end, err := s.Seek(0, io.SeekEnd)
			if err != nil {
				return nil, fmt.Errorf("mediavault: measuring the upload: %w", err)
			}
			if _, err := s.Seek(start, io.SeekStart); err != nil {
				return nil, fmt.Errorf("mediavault: measuring the upload: %w", err)
			}
			u.seeker, u.start, u.size = s, start, end-start
		}
	}
	filename := filenameOf(r, o.Filename)
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	fields := [][2]string{{"title", o.Title}, {"description", o.Description}, {"tags", strings.Join(o.Tags, ",")}}
	if o.Metadata != nil {
		encoded, err := json.Marshal(o.Metadata)
		if err != nil {
			return nil, fmt.Errorf("mediavault: metadata: %w", err)
		}
		fields = append(fields, [2]string{"metadata", string(encoded)})
	}
	for _, field := range fields {
		if field[1] != "" {
			if err := w.WriteField(field[0], field[1]); err != nil {
				return nil, err
			}
		}
	}
	if _, err := w.CreateFormFile("file", filename); err != nil {
		return nil, err
	}
	head := form.Len()
	if err := w.Close(); err != nil {
		return nil, err
	}
	u.prefix, u.suffix, u.boundary = form.Bytes()[:head], form.Bytes()[head:], w.Boundary()
	return u, nil
}

// filenameOf is the name an upload is stored under: the given one, else an *os.File's base name, else "upload".
func filenameOf(r io.Reader, filename string) string {
	if f, ok := r.(*os.File); ok && filename == "" {
		filename = filepath.Base(f.Name())
	}
	if filename == "" {
		filename = "upload"
	}
	return filename
}

func (u *upload) contentType() string { return "multipart/form-data; boundary=" + u.boundary }

// replayable reports whether the body can be sent (again).
func (u *upload) replayable() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.attempts == 0 || u.seeker != nil
}

func (u *upload) failure() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// open returns the body of one attempt and its length (-1: unknown).
func (u *upload) open() (io.Reader, int64, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.attempts > 0 {
		if u.seeker == nil {
			return nil, 0, errors.New("mediavault: the upload's reader cannot be read twice")
		}
		if _, err := u.seeker.Seek(u.start, io.SeekStart); err != nil {
			return nil, 0, fmt.Errorf("mediavault: rewinding the upload: %w", err)
		}
	}
	u.attempts++
	u.err = nil
	length := int64(-1)
	if u.size >= 0 {
		length = int64(len(u.prefix)) + u.size + int64(len(u.suffix))
	}
	body := io.MultiReader(bytes.NewReader(u.prefix), &uploadSource{upload: u}, bytes.NewReader(u.suffix))
	return body, length, nil
}

// uploadSource reads the file's bytes of one attempt, reports progress and checks the declared size.
type uploadSource struct {
	upload *upload
	sent   int64
}

func (s *uploadSource) Read(p []byte) (int, error) {
	u := s.upload
	if u.size >= 0 && s.sent == u.size {
		// Everything declared was sent: the reader must be at its end.
		var extra [1]byte
		if n, _ := io.ReadFull(u.src, extra[:]); n > 0 {
			return 0, s.fail(fmt.Errorf("mediavault: the upload's reader gave more than its %d bytes", u.size))
		}
		return 0, io.EOF
	}
	if u.size >= 0 && int64(len(p)) > u.size-s.sent {
		p = p[:u.size-s.sent]
	}
	n, err := u.src.Read(p)
	s.sent += int64(n)
	if n > 0 && u.progress != nil {
		u.progress(s.sent, u.size)
	}
	if err == io.EOF {
		if u.size >= 0 && s.sent < u.size {
			return n, s.fail(fmt.Errorf("mediavault: the upload's reader ended after %d of its %d bytes", s.sent, u.size))
		}
		return n, io.EOF
	}
	if err != nil {
		return n, s.fail(fmt.Errorf("mediavault: reading the upload: %w", err))
	}
	return n, nil
}

func (s *uploadSource) fail(err error) error {
	s.upload.mu.Lock()
	defer s.upload.mu.Unlock()
	s.upload.err = err
	return err
}

// DownloadOptions pick the bytes of a download (Open*, Download*).
type DownloadOptions struct {
	// Offset and Length ask for part of the content (a Range request, answered 206): Length bytes from Offset,
	// Length 0 meaning up to the end. A range past the end is ErrRangeNotSatisfiable.
	Offset, Length int64
	// Progress, when set, is called after each chunk read, with the bytes received so far and the answer's
	// length (-1 when unknown).
	Progress func(received, total int64)
}

func (o DownloadOptions) header() http.Header {
	h := http.Header{}
	if o.Offset > 0 || o.Length > 0 {
		end := ""
		if o.Length > 0 {
			end = strconv.FormatInt(o.Offset+o.Length-1, 10)
		}
		h.Set("Range", fmt.Sprintf("bytes=%d-%s", o.Offset, end))
	}
	return h
}

// Content is a download being received: read it, then Close it.
type Content struct {
	io.ReadCloser
	ContentType  string
	Length       int64     // bytes in this answer; -1 when unknown
	Start        int64     // offset of the first byte in the whole content (0 unless Partial)
	Total        int64     // length of the whole content; -1 when unknown
	Partial      bool      // a 206 answer to a range
	ETag         string    // strong validator (the quoted SHA-256 of the content)
	LastModified time.Time // zero when absent
	Filename     string    // from Content-Disposition
}

// openContent sends a download request (with o's Range) and returns the answer as a Content.
func (c *Client) openContent(ctx context.Context, r *request, o DownloadOptions) (*Content, error) {
	header := o.header()
	for name, values := range r.header {
		header[name] = values
	}
	r.header, r.download = header, true
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	ranged := r.header.Get("Range") != ""
	if ranged && resp.StatusCode != http.StatusPartialContent {
		discard(resp)
		return nil, fmt.Errorf("mediavault: asked %s for %s and got the whole content (%s)", r.path, r.header.Get("Range"), resp.Status)
	}
	content := &Content{
		ReadCloser:  resp.Body,
		ContentType: resp.Header.Get("Content-Type"),
		Length:      resp.ContentLength,
		Total:       resp.ContentLength,
		Partial:     resp.StatusCode == http.StatusPartialContent,
		ETag:        resp.Header.Get("ETag"),
	}
	if modified, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		content.LastModified = modified
	}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		content.Filename = params["filename"]
	}
	if content.Partial {
		// Content-Range: bytes <first>-<last>/<total or *>
		var first, last int64
		var total string
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%s", &first, &last, &total); err != nil {
			discard(resp)
			return nil, fmt.Errorf("mediavault: unreadable Content-Range %q", resp.Header.Get("Content-Range"))
		}
		content.Start, content.Total = first, -1
		if n, err := strconv.ParseInt(total, 10, 64); err == nil {
			content.Total = n
		}
	}
	if o.Progress != nil {
		content.ReadCloser = &progressReader{ReadCloser: resp.Body, progress: o.Progress, total: content.Length}
	}
	return content, nil
}

type progressReader struct {
	io.ReadCloser
	progress func(received, total int64)
	received int64
	total    int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.received += int64(n)
		p.progress(p.received, p.total)
	}
	return n, err
}

// copyContent writes a download into w and closes it; returns the byte count.
func copyContent(content *Content, err error, w io.Writer) (int64, error) {
	if err != nil {
		return 0, err
	}
	defer content.Close()
	n, err := io.Copy(w, content)
	if err != nil {
		return n, fmt.Errorf("mediavault: download cut off after %d bytes: %w", n, err)
	}
	return n, nil
}

// writeFile streams a download into path through a temporary file beside it, renamed when complete, so an
// interrupted download never leaves half a file.
func writeFile(path string, download func(io.Writer) (int64, error)) (int64, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".part-*")
	if err != nil {
		return 0, err
	}
	n, err := download(tmp)
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}
