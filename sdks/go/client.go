package mediavault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Version is this SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// Client talks to one vault over HTTP. It is safe for concurrent use by many goroutines; every method takes a
// context that bounds the whole request (uploads and downloads included).
//
// A client authenticates with an API key (WithAPIKey), with the tokens of Login, or with tokens saved from an
// earlier login (WithTokens). With tokens, an expired access token is refreshed once, for every goroutine that
// hit the expiry together, and the request is sent again.
type Client struct {
	base      string // scheme://host[:port]<prefix>, no trailing slash
	realtime  string // ws(s)://host[:port]<realtime path>
	http      *http.Client
	userAgent string
	creds     credentials
	resumable resumableSettings
}

// Option configures a Client (New).
type Option func(*Client)

// WithAPIKey authenticates every request with X-API-Key (keys are made with CreateAPIKey).
func WithAPIKey(key string) Option {
	return func(c *Client) { c.creds.apiKey = key }
}

// WithTokens resumes a login saved elsewhere (Client.Tokens): token is refreshed with refreshToken when it
// expires.
func WithTokens(token, refreshToken string) Option {
	return func(c *Client) { c.creds.setTokens(token, refreshToken) }
}

// WithHTTPClient sends the requests with h (its transport, proxy, TLS settings) instead of a client of the
// SDK's own. Leave h.Timeout zero for large transfers and bound calls with their context instead.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = h }
}

// WithUserAgent replaces the User-Agent header ("mediavault-go/<Version>").
func WithUserAgent(userAgent string) Option {
	return func(c *Client) { c.userAgent = userAgent }
}

// New returns a client of the vault at baseURL, the server's address ("http://127.0.0.1:8080"). The API is
// expected under the default mount prefix /api/v1 and the realtime socket at /realtime; a baseURL whose path is
// not empty is taken as the API's own address ("https://example.com/vault/api/v1"), and WithRealtimeURL sets the
// socket's.
func New(baseURL string, options ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("mediavault: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mediavault: base URL %q: want http(s)://host[:port][/prefix]", baseURL)
	}
	if u.Path == "" {
		u.Path = "/api/v1"
	}
	ws := url.URL{Scheme: "ws", Host: u.Host, Path: "/realtime"}
	if u.Scheme == "https" {
		ws.Scheme = "wss"
	}
	c := &Client{
		base:      u.String(),
		realtime:  ws.String(),
		http:      &http.Client{},
		userAgent: "mediavault-go/" + Version,
		resumable: resumableSettings{threshold: ResumableThreshold, chunkSize: ChunkSize, store: NewResumeFile("")},
	}
	for _, option := range options {
		option(c)
	}
	return c, nil
}

// WithRealtimeURL sets the realtime socket's address (default: ws(s)://<host of the base URL>/realtime).
func WithRealtimeURL(socketURL string) Option {
	return func(c *Client) { c.realtime = socketURL }
}

// Tokens returns the login's current access and refresh tokens (both rotate on every refresh), to save and
// resume later with WithTokens; empty without a login.
func (c *Client) Tokens() (token, refreshToken string) {
	s := c.creds.snapshot()
	return s.token, s.refreshToken
}

// request is one call to the vault: what to send and what answer counts as success.
type request struct {
	method   string
	path     string // under the prefix, ids escaped with pathID
	query    url.Values
	json     interface{} // a JSON body
	upload   *upload     // a streamed multipart body
	raw      *rawBody    // a body of its own content type (a tus chunk)
	header   http.Header
	public   bool // send no credentials (register, login, refresh, health, share links)
	expect   int  // the status of success (0: 200)
	download bool // 200 and 206 succeed, and the answer is not JSON
}

func pathID(id string) string { return url.PathEscape(id) }

// send sends r and returns the successful answer (its body for the caller to close), or the *Error of the
// vault's answer. Before a request it refreshes an access token known to be expiring; after a 401 to an access
// token it refreshes once and sends r again when r's body can be sent again.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, error) {
	if !r.public {
		if err := c.refreshIfDue(ctx); err != nil {
			return nil, err
		}
	}
	resp, sent, err := c.attempt(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized && !r.public && sent != "" && r.replayable() &&
		c.creds.snapshot().refreshToken != "" {
		discard(resp)
		if err := c.refresh(ctx, sent); err != nil {
			return nil, err
		}
		if resp, _, err = c.attempt(ctx, r); err != nil {
			return nil, err
		}
	}
	expect := r.expect
	if expect == 0 {
		expect = http.StatusOK
	}
	if resp.StatusCode == expect || (r.download && resp.StatusCode == http.StatusPartialContent) {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, errorOf(resp, body)
}

func (r *request) replayable() bool { return r.upload == nil || r.upload.replayable() }

// rawBody is a request body that can be opened again for each attempt.
type rawBody struct {
	contentType string
	length      int64
	open        func() io.Reader
}

// attempt sends r once; sent is the access token it carried ("" for none or an API key).
func (c *Client) attempt(ctx context.Context, r *request) (resp *http.Response, sent string, err error) {
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	length := int64(0)
	contentType := ""
	switch {
	case r.json != nil:
		encoded, err := json.Marshal(r.json)
		if err != nil {
			return nil, "", fmt.Errorf("mediavault: encoding the request: %w", err)
		}
		body, length, contentType = bytes.NewReader(encoded), int64(len(encoded)), "application/json"
	case r.upload != nil:
		if body, length, err = r.upload.open(); err != nil {
			return nil, "", err
		}
		contentType = r.upload.contentType()
	case r.raw != nil:
		body, length, contentType = r.raw.open(), r.raw.length, r.raw.contentType
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, "", fmt.Errorf("mediavault: %w", err)
	}
	req.ContentLength = length
	if body != nil && length < 0 {
		req.ContentLength = -1 // unknown: sent chunked
	}
	for name, values := range r.header {
		req.Header[name] = values
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if !r.download {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)
	if !r.public {
		s := c.creds.snapshot()
		if s.apiKey != "" {
			req.Header.Set("X-API-Key", s.apiKey)
		} else if s.token != "" {
			req.Header.Set("Authorization", "Bearer "+s.token)
			sent = s.token
		}
	}
	resp, err = c.http.Do(req)
	if r.upload != nil {
		if sourceErr := r.upload.failure(); sourceErr != nil {
			if resp != nil {
				discard(resp)
			}
			return nil, "", sourceErr
		}
	}
	if err != nil {
		return nil, "", err
	}
	return resp, sent, nil
}

// do sends r and decodes the answer's data into out (nil: the answer has no body, or it is not needed).
func (c *Client) do(ctx context.Context, r *request, out interface{}) error {
	_, err := c.doEnvelope(ctx, r, out)
	return err
}

// doEnvelope is do, also returning the answer's meta.pagination (nil when there is none).
func (c *Client) doEnvelope(ctx context.Context, r *request, out interface{}) (*Pagination, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer discard(resp)
	if out == nil {
		return nil, nil
	}
	var answer envelope
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil, unexpected(resp, err)
	}
	if err := json.Unmarshal(answer.Data, out); err != nil {
		return nil, unexpected(resp, err)
	}
	return answer.Meta.Pagination, nil
}

func unexpected(resp *http.Response, err error) error {
	return &Error{
		StatusCode: resp.StatusCode,
		Message:    fmt.Sprintf("%s answered %s with an unexpected body: %v", resp.Request.URL.Redacted(), resp.Status, err),
		RequestID:  resp.Header.Get("X-Request-ID"),
	}
}

// discard reads what is left of an answer (at most 256 KiB, so the connection can be reused) and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<10))
	_ = resp.Body.Close()
}

func get[T any](ctx context.Context, c *Client, r *request) (*T, error) {
	var out T
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Health is GET /health: 200 when the database and storage answer; a failing check is an *Error with
// status 503.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	return get[Health](ctx, c, &request{method: http.MethodGet, path: "/health", public: true})
}

// errNoLogin is the error of a call that needs a login the client does not hold (it matches ErrUnauthorized).
func errNoLogin() error {
	return &Error{StatusCode: http.StatusUnauthorized, Code: "unauthorized", Message: "not logged in (no token held)"}
}
