package mediavault

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
)

// Upload stores the bytes of r as a new media item (POST /media/upload, multipart/form-data) and returns it.
// The body is streamed: only the form's few hundred bytes of framing are held in memory, never the file.
//
// When r is an io.Seeker (an *os.File, say) its remaining length is sent as Content-Length and it can be sent
// again after a refused, expired access token. Another reader is sent once; the client refreshes an access
// token known to be expiring before sending it.
//
// Errors: ErrPayloadTooLarge (over the server's max_upload_size; nothing is kept), ErrQuotaExceeded,
// ErrValidation (an empty file), and an error of the reader's when it gives more or fewer bytes than declared.
//
// A source of known size of at least the client's threshold (64 MiB; WithResumableThreshold) goes through a
// resumable upload instead (UploadResumable), unless o.Metadata is set or o.Resumable says otherwise.
func (c *Client) Upload(ctx context.Context, r io.Reader, o UploadOptions) (*Media, error) {
	return c.upload(ctx, r, o, "")
}

// upload is Upload; key names the source in the ResumeStore when the caller knows it (UploadFile).
func (c *Client) upload(ctx context.Context, r io.Reader, o UploadOptions, key string) (*Media, error) {
	resumable, err := c.wantsResumable(r, o)
	if err != nil {
		return nil, err
	}
	if resumable {
		id, err := c.uploadResumable(ctx, r, o, key, "")
		if err != nil {
			return nil, err
		}
		return c.GetMedia(ctx, id)
	}
	body, err := newUpload(r, o)
	if err != nil {
		return nil, err
	}
	return get[Media](ctx, c, &request{method: http.MethodPost, path: "/media/upload", upload: body, expect: http.StatusCreated})
}

// UploadFile uploads the file at path (see Upload); the stored filename defaults to the path's base name. A
// resumable upload of it is written down in the client's ResumeStore under FileResumeKey(path), so calling
// UploadFile again for the unchanged file (in this process or another, after a crash) sends only what the server
// lacks.
func (c *Client) UploadFile(ctx context.Context, path string, o UploadOptions) (*Media, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	key := o.ResumeKey
	if key == "" && c.resumable.store != nil {
		if key, err = FileResumeKey(path); err != nil {
			return nil, err
		}
	}
	return c.upload(ctx, f, o, key)
}

// GetMedia returns a media item (GET /media/{id}).
//
// Errors: ErrNotFound (an unknown or malformed id, or someone else's media).
func (c *Client) GetMedia(ctx context.Context, id string) (*Media, error) {
	return get[Media](ctx, c, &request{method: http.MethodGet, path: "/media/" + pathID(id)})
}

// ListMedia returns a page of the caller's media (GET /media), filtered and sorted by q.
//
// Errors: ErrValidation (a value out of range or not in its set).
func (c *Client) ListMedia(ctx context.Context, q MediaQuery) (*Page[Media], error) {
	return list[Media](ctx, c, &request{method: http.MethodGet, path: "/media", query: q.values()})
}

// IterMedia walks every page of ListMedia from q.Page on.
func (c *Client) IterMedia(ctx context.Context, q MediaQuery) *Iterator[Media] {
	return iterate(ctx, q, c.ListMedia)
}

// Search returns a page of the caller's media whose words start with every word of q.Q (filename, title,
// description, tags), with the other filters of ListMedia (GET /search).
//
// Errors: ErrValidation (q.Q empty or blank).
func (c *Client) Search(ctx context.Context, q MediaQuery) (*Page[Media], error) {
	return list[Media](ctx, c, &request{method: http.MethodGet, path: "/search", query: q.values()})
}

// IterSearch walks every page of Search from q.Page on.
func (c *Client) IterSearch(ctx context.Context, q MediaQuery) *Iterator[Media] {
	return iterate(ctx, q, c.Search)
}

// UpdateMedia changes a media item's title, description or tags (PATCH /media/{id}) and returns it.
func (c *Client) UpdateMedia(ctx context.Context, id string, u MediaUpdate) (*Media, error) {
	return get[Media](ctx, c, &request{method: http.MethodPatch, path: "/media/" + pathID(id), json: u})
}

// DeleteMedia deletes a media item, its bytes and its collection memberships (DELETE /media/{id}).
func (c *Client) DeleteMedia(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/media/" + pathID(id), expect: http.StatusNoContent}, nil)
}

// ReplaceContent replaces a media item's bytes with r's (PUT /media/{id}/content), sent as Upload sends them: same
// id, collections and shares, Version + 1, the previous bytes kept as a version; o's fields replace the item's.
// A large source goes through a resumable upload naming the item (Upload-Metadata media_id), as Upload decides;
// with o.ResumeKey it is written down in the ResumeStore apart from uploads of the same source as a new item.
//
// Errors: ErrNotFound, ErrPayloadTooLarge, ErrValidation (nothing changes then).
func (c *Client) ReplaceContent(ctx context.Context, id string, r io.Reader, o UploadOptions) (*Media, error) {
	resumable, err := c.wantsResumable(r, o)
	if err != nil {
		return nil, err
	}
	if resumable {
		if _, err := c.uploadResumable(ctx, r, o, "", id); err != nil {
			return nil, err
		}
		return c.GetMedia(ctx, id)
	}
	body, err := newUpload(r, o)
	if err != nil {
		return nil, err
	}
	return get[Media](ctx, c, &request{method: http.MethodPut, path: "/media/" + pathID(id) + "/content", upload: body})
}

// ListVersions returns every kept version of a media item's bytes, newest (the current one) first
// (GET /media/{id}/versions).
func (c *Client) ListVersions(ctx context.Context, id string) ([]MediaVersion, error) {
	versions, err := get[[]MediaVersion](ctx, c, &request{method: http.MethodGet, path: "/media/" + pathID(id) + "/versions"})
	if err != nil {
		return nil, err
	}
	return *versions, nil
}

// OpenVersion starts downloading one version's bytes (GET /media/{id}/versions/{version}/content), as OpenContent.
//
// Errors: ErrNotFound (no such version kept).
func (c *Client) OpenVersion(ctx context.Context, id string, version int, o DownloadOptions) (*Content, error) {
	path := "/media/" + pathID(id) + "/versions/" + strconv.Itoa(version) + "/content"
	return c.openContent(ctx, &request{method: http.MethodGet, path: path}, o)
}

// DownloadVersion writes one version's bytes into w and returns their count.
func (c *Client) DownloadVersion(ctx context.Context, id string, version int, w io.Writer, o DownloadOptions) (int64, error) {
	content, err := c.OpenVersion(ctx, id, version, o)
	return copyContent(content, err, w)
}

// RestoreVersion makes a version's bytes current again (POST /media/{id}/versions/{version}/restore): a new
// version with a copy of them.
func (c *Client) RestoreVersion(ctx context.Context, id string, version int) (*Media, error) {
	path := "/media/" + pathID(id) + "/versions/" + strconv.Itoa(version) + "/restore"
	return get[Media](ctx, c, &request{method: http.MethodPost, path: path})
}

// ListTrash returns a page of the caller's deleted media, most recently deleted first (GET /trash; the server
// keeps a trash when its trash_retention_days is set).
func (c *Client) ListTrash(ctx context.Context, o ListOptions) (*Page[TrashedMedia], error) {
	return list[TrashedMedia](ctx, c, &request{method: http.MethodGet, path: "/trash", query: o.values()})
}

// RestoreMedia takes a deleted item out of the trash, back where it was (POST /trash/{id}/restore).
//
// Errors: ErrNotFound (not in the caller's trash).
func (c *Client) RestoreMedia(ctx context.Context, id string) (*Media, error) {
	return get[Media](ctx, c, &request{method: http.MethodPost, path: "/trash/" + pathID(id) + "/restore"})
}

// PurgeMedia deletes a trashed item and its bytes now (DELETE /trash/{id}).
func (c *Client) PurgeMedia(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/trash/" + pathID(id), expect: http.StatusNoContent}, nil)
}

// EmptyTrash deletes every trashed item of the caller and their bytes now (DELETE /trash).
func (c *Client) EmptyTrash(ctx context.Context) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/trash", expect: http.StatusNoContent}, nil)
}

// GetMetadata returns a media item's processing state, what each processor found and its variants
// (GET /media/{id}/metadata).
func (c *Client) GetMetadata(ctx context.Context, id string) (*MediaProcessing, error) {
	return get[MediaProcessing](ctx, c, &request{method: http.MethodGet, path: "/media/" + pathID(id) + "/metadata"})
}

// Reprocess processes a media item again from scratch (POST /media/{id}/reprocess), e.g. one whose processing
// failed while the server's storage was full; it returns the new state, Status "pending".
func (c *Client) Reprocess(ctx context.Context, id string) (*MediaProcessing, error) {
	var out MediaProcessing
	req := &request{method: http.MethodPost, path: "/media/" + pathID(id) + "/reprocess", expect: http.StatusAccepted}
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OpenContent starts downloading a media item's bytes (GET /media/{id}/content), all or the range of o.
// Read the Content, then Close it.
//
// Errors: ErrNotFound, ErrRangeNotSatisfiable (a range past the end).
func (c *Client) OpenContent(ctx context.Context, id string, o DownloadOptions) (*Content, error) {
	return c.openContent(ctx, &request{method: http.MethodGet, path: "/media/" + pathID(id) + "/content"}, o)
}

// Download writes a media item's bytes (all or the range of o) into w and returns their count.
func (c *Client) Download(ctx context.Context, id string, w io.Writer, o DownloadOptions) (int64, error) {
	content, err := c.OpenContent(ctx, id, o)
	return copyContent(content, err, w)
}

// DownloadFile writes a media item's bytes (all or the range of o) into the file at path, through a temporary
// file beside it renamed when complete: an interrupted download never leaves half a file.
func (c *Client) DownloadFile(ctx context.Context, id, path string, o DownloadOptions) (int64, error) {
	return writeFile(path, func(w io.Writer) (int64, error) { return c.Download(ctx, id, w, o) })
}

// OpenThumbnail starts downloading a thumbnail made by the processing worker (GET /media/{id}/thumbnail):
// size is one of the server's thumbnail sizes in pixels (0: the smallest).
//
// Errors: ErrNotFound (not an image, not processed yet — see GetMetadata — or processing failed),
// ErrValidation (size is not one of the server's sizes).
func (c *Client) OpenThumbnail(ctx context.Context, id string, size int, o DownloadOptions) (*Content, error) {
	q := url.Values{}
	if size != 0 {
		q.Set("size", strconv.Itoa(size))
	}
	return c.openContent(ctx, &request{method: http.MethodGet, path: "/media/" + pathID(id) + "/thumbnail", query: q}, o)
}

// DownloadThumbnail writes a thumbnail (see OpenThumbnail) into w and returns the byte count.
func (c *Client) DownloadThumbnail(ctx context.Context, id string, size int, w io.Writer, o DownloadOptions) (int64, error) {
	content, err := c.OpenThumbnail(ctx, id, size, o)
	return copyContent(content, err, w)
}
