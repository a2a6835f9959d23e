package mediavault

import (
	"context"
	"io"
	"net/http"
)

// SignUpload makes a signed upload URL (POST /uploads/signed): a URL that takes one upload into the caller's
// account without an account, until it expires. Its URL and Token are shown only in this answer.
//
// Errors: ErrValidation (ExpiresIn outside 60 s to 24 h, MaxSize over the server's limit), ErrNotFound
// (CollectionID is not the caller's).
func (c *Client) SignUpload(ctx context.Context, s SignedUploadCreate) (*SignedUpload, error) {
	return get[SignedUpload](ctx, c, &request{method: http.MethodPost, path: "/uploads/signed", json: s, expect: http.StatusCreated})
}

// UploadSigned stores the bytes of r as a new media item of the URL's signer through a signed upload URL
// (POST /uploads/signed/{token}); no account is needed, and the URL is spent. The body is streamed as by Upload.
//
// Errors: ErrNotFound (an unknown, expired or used URL), ErrPayloadTooLarge (over the URL's MaxSize; nothing is
// kept and the URL can be used again).
func (c *Client) UploadSigned(ctx context.Context, token string, r io.Reader, o UploadOptions) (*Media, error) {
	body, err := newUpload(r, o)
	if err != nil {
		return nil, err
	}
	return get[Media](ctx, c, &request{
		method: http.MethodPost, path: "/uploads/signed/" + pathID(token), upload: body, public: true,
		expect: http.StatusCreated,
	})
}
