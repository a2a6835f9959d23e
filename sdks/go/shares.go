package mediavault

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// CreateShare makes a share link (POST /shares); its Token and URL are shown only in this answer.
//
// Errors: ErrValidation (both or neither target, a bad ExpiresIn or Password), ErrNotFound (the target is not
// the caller's).
func (c *Client) CreateShare(ctx context.Context, s ShareCreate) (*Share, error) {
	return get[Share](ctx, c, &request{method: http.MethodPost, path: "/shares", json: s, expect: http.StatusCreated})
}

// ListShares returns a page of the caller's share links, newest first, Token and URL nil (GET /shares).
func (c *Client) ListShares(ctx context.Context, o ListOptions) (*Page[Share], error) {
	return list[Share](ctx, c, &request{method: http.MethodGet, path: "/shares", query: o.values()})
}

// IterShares walks every page of ListShares from o.Page on.
func (c *Client) IterShares(ctx context.Context, o ListOptions) *Iterator[Share] {
	return iterate(ctx, o, c.ListShares)
}

// DeleteShare deletes a share link; it stops working at once (DELETE /shares/{id}).
func (c *Client) DeleteShare(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/shares/" + pathID(id), expect: http.StatusNoContent}, nil)
}

// OpenShareOptions open a share link: its Password, if it has one, and the page of a collection's media.
type OpenShareOptions struct {
	Password string
	Page     int
	PerPage  int
}

// OpenShare shows what a share link holds (GET /s/{token}); no account is needed.
//
// Errors: ErrUnauthorized (the link has a password and o.Password is missing or wrong), ErrNotFound (an
// unknown, expired or deleted link).
func (c *Client) OpenShare(ctx context.Context, token string, o OpenShareOptions) (*OpenedShare, error) {
	var data struct {
		Type       string          `json:"type"`
		Media      json.RawMessage `json:"media"`
		Collection *Collection     `json:"collection"`
	}
	r := &request{
		method: http.MethodGet, path: "/s/" + pathID(token), query: ListOptions{o.Page, o.PerPage}.values(),
		header: sharePassword(o.Password), public: true,
	}
	pagination, err := c.doEnvelope(ctx, r, &data)
	if err != nil {
		return nil, err
	}
	opened := &OpenedShare{Type: data.Type, Collection: data.Collection, Pagination: pagination}
	if data.Type == "collection" {
		err = json.Unmarshal(data.Media, &opened.Items)
	} else {
		err = json.Unmarshal(data.Media, &opened.Media)
	}
	if err != nil {
		return nil, fmt.Errorf("mediavault: reading the share link: %w", err)
	}
	return opened, nil
}

// SharedDownload picks the bytes behind a share link: MediaID names a media of a collection link (empty for a
// media link); Password the link's, if it has one; DownloadOptions a range and progress.
type SharedDownload struct {
	MediaID  string
	Password string
	DownloadOptions
}

// OpenShared starts downloading the bytes behind a share link (GET /s/{token}/content, or
// /s/{token}/media/{media_id}/content for a media of a collection link); no account is needed. Images come
// without their metadata when the server strips it (the default).
//
// Errors: ErrUnauthorized (missing or wrong password), ErrForbidden (a link made with AllowDownload false),
// ErrNotFound (an unknown, expired or deleted link, or a media not in the shared collection).
func (c *Client) OpenShared(ctx context.Context, token string, o SharedDownload) (*Content, error) {
	path := "/s/" + pathID(token) + "/content"
	if o.MediaID != "" {
		path = "/s/" + pathID(token) + "/media/" + pathID(o.MediaID) + "/content"
	}
	r := &request{method: http.MethodGet, path: path, header: sharePassword(o.Password), public: true}
	return c.openContent(ctx, r, o.DownloadOptions)
}

// DownloadShared writes the bytes behind a share link (see OpenShared) into w and returns their count.
func (c *Client) DownloadShared(ctx context.Context, token string, w io.Writer, o SharedDownload) (int64, error) {
	content, err := c.OpenShared(ctx, token, o)
	return copyContent(content, err, w)
}

// UploadToShare stores the bytes of r as a new media item through a collection link made with AllowUpload
// (POST /s/{token}/upload; password: the link's, if it has one): the media belongs to the collection's owner and
// is added to the collection. No account is needed. The body is streamed as by Upload. The answer is the item as
// the link shows it (as OpenShare does): no OwnerID, Version or Metadata, and ContentURL the link's URL for its bytes.
//
// Errors: ErrUnauthorized (missing or wrong password), ErrForbidden (a link without AllowUpload), ErrNotFound (an
// unknown, expired or deleted link), ErrPayloadTooLarge (over the server's max_upload_size; nothing is kept).
func (c *Client) UploadToShare(ctx context.Context, token, password string, r io.Reader, o UploadOptions) (*Media, error) {
	body, err := newUpload(r, o)
	if err != nil {
		return nil, err
	}
	return get[Media](ctx, c, &request{
		method: http.MethodPost, path: "/s/" + pathID(token) + "/upload", upload: body,
		header: sharePassword(password), public: true, expect: http.StatusCreated,
	})
}

func sharePassword(password string) http.Header {
	h := http.Header{}
	if password != "" {
		h.Set("X-Share-Password", password)
	}
	return h
}
