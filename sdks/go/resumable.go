package mediavault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Resumable uploads through the vault's tus 1.0.0 server (/uploads, docs/uploads.md). The steps and what is
// written down follow the Python SDK (mediavault_sdk._resumable):
//
//  1. An upload to continue: UploadOptions.UploadURL, or the id the ResumeStore holds for the source's key. It is
//     asked for its offset (HEAD); one the server no longer has is forgotten (a kept UploadURL: ErrNotFound).
//  2. Otherwise one is made (POST /uploads) and written down in the store at once.
//  3. The rest goes in PATCH chunks read from the source at the server's offset. A 409 (another client moved the
//     offset) is answered by asking the offset again; a chunk refused for its checksum (460) is sent once more.
//  4. The entry is removed and the media fetched (GET /media/{X-Media-Id}).

const (
	// ResumableThreshold: Upload and UploadFile send a source of known size of at least this many bytes through
	// a resumable upload by default (64 MiB, as the Python SDK; WithResumableThreshold changes it).
	ResumableThreshold int64 = 64 << 20
	// ChunkSize is the default number of bytes per PATCH (8 MiB: one S3 part on the server; what a dropped
	// connection costs again).
	ChunkSize int64 = 8 << 20
)

const (
	tusVersion      = "1.0.0"
	offsetOctets    = "application/offset+octet-stream"
	checksumRetries = 1
)

// Resumable picks how Upload sends a file.
type Resumable int

const (
	// ResumableAuto (the zero value): a resumable upload when the size is known and at least the client's
	// threshold, and UploadOptions.Metadata is nil (a tus upload has no place for it); UploadURL set: always.
	ResumableAuto Resumable = iota
	// ResumableAlways sends the file through a resumable upload whatever its size.
	ResumableAlways
	// ResumableNever sends the file in one POST /media/upload.
	ResumableNever
)

type resumableSettings struct {
	threshold, chunkSize int64
	store                ResumeStore
}

// WithResumableThreshold makes Upload and UploadFile send sources of at least n bytes through a resumable
// upload (default ResumableThreshold; n <= 0: only with ResumableAlways).
func WithResumableThreshold(n int64) Option {
	return func(c *Client) { c.resumable.threshold = n }
}

// WithChunkSize sets the bytes per PATCH of resumable uploads (default ChunkSize); UploadOptions.ChunkSize wins.
func WithChunkSize(n int64) Option {
	return func(c *Client) { c.resumable.chunkSize = n }
}

// WithResumeStore sets where unfinished resumable uploads are written down (default: the Python SDK's JSON file,
// NewResumeFile("")); nil writes nothing down (keep UploadOptions.OnUploadURL's URL instead).
func WithResumeStore(s ResumeStore) Option {
	return func(c *Client) { c.resumable.store = s }
}

// UploadResumable is Upload through a resumable upload (tus 1.0.0 on /uploads) whatever the size: POST the
// length and the fields as Upload-Metadata, PATCH chunks of o.ChunkSize bytes from the server's offset, then
// GET the new media. An upload is continued when o.UploadURL names one, or when the client's ResumeStore holds
// one under the source's key (UploadFile: the path, size and modification time; else o.ResumeKey): then only
// what the server lacks is sent, and o.Progress is first called with the offset it starts from.
//
// The source is read at the chunks' offsets when it is an io.ReaderAt (an *os.File, bytes.Reader) or an
// io.Seeker; another reader (o.Size bytes) is read once in order, a chunk at a time in memory.
//
// Errors: ErrValidation (an empty file, bad fields), ErrPayloadTooLarge or ErrQuotaExceeded (refused before
// any byte is sent), ErrNotFound (a kept UploadURL the server no longer has), ErrChecksumMismatch (o.Checksum:
// a chunk refused twice), an error for o.Metadata or an unknown size, and the network's or the context's
// errors as they come: calling again continues the upload. A kept upload of another length than the source's is
// an error too (nothing is sent into it).
func (c *Client) UploadResumable(ctx context.Context, r io.Reader, o UploadOptions) (*Media, error) {
	o.Resumable = ResumableAlways
	return c.Upload(ctx, r, o)
}

// DeleteUpload ends an unfinished resumable upload and removes its bytes (DELETE /uploads/{id}, tus
// termination); uploadURL is its URL (UploadOptions.OnUploadURL) or id.
//
// Errors: ErrNotFound (unknown, expired, or someone else's).
func (c *Client) DeleteUpload(ctx context.Context, uploadURL string) error {
	id, err := uploadIDOf(uploadURL)
	if err != nil {
		return err
	}
	return c.do(ctx, &request{method: http.MethodDelete, path: "/uploads/" + pathID(id), header: tusHeader(),
		expect: http.StatusNoContent}, nil)
}

// wantsResumable reports whether Upload sends r through a resumable upload.
func (c *Client) wantsResumable(r io.Reader, o UploadOptions) (bool, error) {
	switch o.Resumable {
	case ResumableNever:
		return false, nil
	case ResumableAlways:
		if o.Metadata != nil {
			return false, errors.New("mediavault: custom metadata goes with one-request uploads: leave Resumable unset or ResumableNever")
		}
		return true, nil
	}
	if o.Metadata != nil {
		return false, nil
	}
	if o.UploadURL != "" {
		return true, nil
	}
	size, err := sizeOf(r, o.Size)
	return err == nil && size >= 0 && c.resumable.threshold > 0 && size >= c.resumable.threshold, err
}

// sizeOf returns the bytes left in r: measured for an io.Seeker, else declared (-1: unknown).
func sizeOf(r io.Reader, declared int64) (int64, error) {
	if s, ok := r.(io.Seeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			end, err := s.Seek(0, io.SeekEnd)
			if err != nil {
				return 0, fmt.Errorf("mediavault: measuring the upload: %w", err)
			}
			if _, err := s.Seek(start, io.SeekStart); err != nil {
				return 0, fmt.Errorf("mediavault: measuring the upload: %w", err)
			}
			return end - start, nil
		}
	}
	if declared > 0 {
		return declared, nil
	}
	return -1, nil
}

// chunkSource gives the bytes [start, start+n) of an upload's source, as a reader that can be opened again.
type chunkSource interface {
	chunk(start, n int64) (func() io.Reader, error)
}

// atSource reads chunks where they are (an io.ReaderAt, base: the source's offset when the upload began).
type atSource struct {
	r    io.ReaderAt
	base int64
}

func (s atSource) chunk(start, n int64) (func() io.Reader, error) {
	return func() io.Reader { return io.NewSectionReader(s.r, s.base+start, n) }, nil
}

// seekSource reads a chunk into memory after seeking to it (an io.Seeker that is no io.ReaderAt).
type seekSource struct {
	r    io.ReadSeeker
	base int64
}

func (s seekSource) chunk(start, n int64) (func() io.Reader, error) {
	if _, err := s.r.Seek(s.base+start, io.SeekStart); err != nil {
		return nil, fmt.Errorf("mediavault: seeking the upload: %w", err)
	}
	data, err := readChunk(s.r, n)
	return func() io.Reader { return bytes.NewReader(data) }, err
}

// orderedSource reads a plain reader once, in order: skipping forward to a chunk, the last chunk kept in memory
// to be sent again, whole or from wherever in it the server's offset is (a PATCH cut off mid-body keeps the bytes
// that arrived).
type orderedSource struct {
	r        io.Reader
	position int64 // bytes taken from r
	last     []byte
	lastAt   int64
}

func (s *orderedSource) chunk(start, n int64) (func() io.Reader, error) {
	var kept []byte
	if start < s.position {
		if s.last == nil || start < s.lastAt {
			return nil, fmt.Errorf("mediavault: a reader read in order cannot go back to byte %d", start)
		}
		end := start + n
		if end > s.position {
			end = s.position
		}
		kept = s.last[start-s.lastAt : end-s.lastAt]
	}
	if int64(len(kept)) < n {
		if start > s.position {
			if skipped, err := io.CopyN(io.Discard, s.r, start-s.position); err != nil {
				return nil, fmt.Errorf("mediavault: the upload's reader ended after %d bytes: %w", s.position+skipped, err)
			}
		}
		fresh, err := readChunk(s.r, n-int64(len(kept)))
		if err != nil {
			return nil, err
		}
		s.last, s.lastAt, s.position = append(append(make([]byte, 0, n), kept...), fresh...), start, start+n
		kept = s.last
	}
	return func() io.Reader { return bytes.NewReader(kept) }, nil
}

// readChunk reads n bytes into memory.
func readChunk(r io.Reader, n int64) ([]byte, error) {
	data := make([]byte, n)
	if read, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("mediavault: the upload's reader ended %d bytes short of its size: %w", n-int64(read), err)
	}
	return data, nil
}

// sourceOf reads r at offsets when it can (io.ReaderAt, io.Seeker: from its current offset), else in order.
func sourceOf(r io.Reader) chunkSource {
	if s, ok := r.(io.Seeker); ok {
		if base, err := s.Seek(0, io.SeekCurrent); err == nil {
			if at, ok := r.(io.ReaderAt); ok {
				return atSource{r: at, base: base}
			}
			if rs, ok := r.(io.ReadSeeker); ok {
				return seekSource{r: rs, base: base}
			}
		}
	}
	return &orderedSource{r: r}
}

func tusHeader() http.Header {
	return http.Header{"Tus-Resumable": {tusVersion}}
}

// uploadMetadata is Upload-Metadata: "key base64(value)" pairs, comma-separated (tus creation extension).
func uploadMetadata(fields [][2]string) string {
	pairs := make([]string, 0, len(fields))
	for _, field := range fields {
		if field[1] != "" {
			pairs = append(pairs, field[0]+" "+base64.StdEncoding.EncodeToString([]byte(field[1])))
		}
	}
	return strings.Join(pairs, ",")
}

// uploadIDOf returns the upload id of a kept URL, path or id (its last path segment).
func uploadIDOf(uploadURL string) (string, error) {
	parsed, err := url.Parse(uploadURL)
	if err != nil {
		return "", fmt.Errorf("mediavault: upload URL: %w", err)
	}
	path := strings.TrimRight(parsed.Path, "/")
	id := path[strings.LastIndex(path, "/")+1:]
	if id == "" {
		return "", fmt.Errorf("mediavault: not an upload URL: %q", uploadURL)
	}
	return id, nil
}

// position reads Upload-Offset and X-Media-Id (set once the last byte is in) of a HEAD or PATCH answer.
func position(resp *http.Response) (int64, string, error) {
	defer discard(resp)
	offset, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		return 0, "", unexpected(resp, fmt.Errorf("Upload-Offset %q", resp.Header.Get("Upload-Offset")))
	}
	return offset, resp.Header.Get("X-Media-Id"), nil
}

// uploadResumable sends r through /uploads and returns the media's id: a new item's, or replaces, the item whose
// bytes it replaces.
func (c *Client) uploadResumable(ctx context.Context, r io.Reader, o UploadOptions, key, replaces string) (string, error) {
	chunkSize := o.ChunkSize
	if chunkSize == 0 {
		chunkSize = c.resumable.chunkSize
	}
	if chunkSize < 1 {
		return "", fmt.Errorf("mediavault: chunk size %d: want at least 1 byte", chunkSize)
	}
	for _, tag := range o.Tags {
		if strings.Contains(tag, ",") {
			return "", fmt.Errorf("mediavault: tag %q: a tag cannot contain a comma (tags are sent comma-separated)", tag)
		}
	}
	size, err := sizeOf(r, o.Size)
	if err != nil {
		return "", err
	}
	if size < 0 {
		return "", errors.New("mediavault: a resumable upload needs the size: set UploadOptions.Size for a reader that is no io.Seeker")
	}
	source := sourceOf(r)
	store := c.resumable.store
	if key == "" {
		key = o.ResumeKey
	}
	if store == nil {
		key = ""
	}
	if key != "" && replaces != "" {
		key += "|replaces " + replaces // not an upload of the same source as a new item
	}
	head := func(id string) (int64, string, error) {
		resp, err := c.send(ctx, &request{method: http.MethodHead, path: "/uploads/" + pathID(id), header: tusHeader()})
		if err != nil {
			return 0, "", err
		}
		if length := resp.Header.Get("Upload-Length"); length != "" && length != strconv.FormatInt(size, 10) {
			discard(resp)
			return 0, "", fmt.Errorf("mediavault: upload %s is of %s bytes, the source of %d: not the same file", id, length, size)
		}
		return position(resp)
	}

	id, offset, mediaID := "", int64(0), ""
	if o.UploadURL != "" {
		if id, err = uploadIDOf(o.UploadURL); err != nil {
			return "", err
		}
	} else if key != "" {
		if id, err = store.Get(key); err != nil {
			return "", err
		}
	}
	if id != "" {
		offset, mediaID, err = head(id)
		if errors.Is(err, ErrNotFound) && o.UploadURL == "" { // expired, deleted, or another server's
			if err = store.Set(key, ""); err != nil {
				return "", err
			}
			id = ""
		} else if err != nil {
			return "", err
		}
	}
	if id == "" {
		header := tusHeader()
		header.Set("Upload-Length", strconv.FormatInt(size, 10))
		header.Set("Upload-Metadata", uploadMetadata([][2]string{
			{"filename", filenameOf(r, o.Filename)}, {"title", o.Title}, {"description", o.Description},
			{"tags", strings.Join(o.Tags, ",")}, {"media_id", replaces},
		}))
		resp, err := c.send(ctx, &request{method: http.MethodPost, path: "/uploads", header: header, expect: http.StatusCreated})
		if err != nil {
			return "", err
		}
		discard(resp)
		if id, err = uploadIDOf(resp.Header.Get("Location")); err != nil {
			return "", unexpected(resp, err)
		}
		if key != "" {
			if err := store.Set(key, id); err != nil {
				return "", err
			}
		}
	}
	if o.OnUploadURL != nil {
		o.OnUploadURL(c.base + "/uploads/" + pathID(id))
	}
	if o.Progress != nil {
		o.Progress(offset, size)
	}
	refused := 0 // chunks refused for their checksum in a row
	for mediaID == "" {
		if offset >= size { // the last byte is in: HEAD names the media
			if offset, mediaID, err = head(id); err != nil {
				return "", err
			}
			if mediaID == "" {
				return "", fmt.Errorf("mediavault: upload %s is complete but names no media", id)
			}
			break
		}
		start, n := offset, chunkSize
		if n > size-start {
			n = size - start
		}
		open, err := source.chunk(start, n)
		if err != nil {
			return "", err
		}
		header := tusHeader()
		header.Set("Upload-Offset", strconv.FormatInt(start, 10))
		if o.Checksum {
			digest := sha256.New()
			if _, err := io.Copy(digest, open()); err != nil {
				return "", fmt.Errorf("mediavault: reading the upload: %w", err)
			}
			header.Set("Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(digest.Sum(nil)))
		}
		body := &rawBody{contentType: offsetOctets, length: n, open: func() io.Reader {
			if o.Progress == nil {
				return open()
			}
			return &progressReader{ReadCloser: io.NopCloser(open()), received: start, total: size, progress: o.Progress}
		}}
		resp, err := c.send(ctx, &request{method: http.MethodPatch, path: "/uploads/" + pathID(id), header: header,
			raw: body, expect: http.StatusNoContent})
		switch {
		case err == nil:
			if offset, mediaID, err = position(resp); err != nil {
				return "", err
			}
			refused = 0
		case errors.Is(err, ErrConflict): // another client moved it on: continue from the server's offset
			if offset, mediaID, err = head(id); err != nil {
				return "", err
			}
		case errors.Is(err, ErrChecksumMismatch) && refused < checksumRetries: // corrupted on the way: send it again
			refused++
		default:
			return "", err
		}
	}
	if key != "" {
		if err := store.Set(key, ""); err != nil {
			return "", err
		}
	}
	return mediaID, nil
}
