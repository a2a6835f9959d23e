package mediavault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// credentials is a client's authentication state: an API key, or an access token with its refresh token.
type credentials struct {
	mu           sync.Mutex // guards the fields below
	apiKey       string
	token        string
	refreshToken string
	expiresAt    time.Time     // when token expires; zero when unknown
	leeway       time.Duration // refresh this long before expiresAt

	// refreshing is held for the whole of a refresh, so that the goroutines that hit one expiry together
	// spend the refresh token once: the first refreshes, the others wait and then see the new token.
	refreshing sync.Mutex
}

type credentialState struct {
	apiKey, token, refreshToken string
	expiresAt                   time.Time
	leeway                      time.Duration
}

func (c *credentials) snapshot() credentialState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return credentialState{c.apiKey, c.token, c.refreshToken, c.expiresAt, c.leeway}
}

// setTokens keeps a pair whose lifetime is read from the access token's exp claim when it is a JWT.
func (c *credentials) setTokens(token, refreshToken string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token, c.refreshToken = token, refreshToken
	c.expiresAt, c.leeway = time.Time{}, 0
	if exp, ok := jwtExpiry(token); ok {
		c.expiresAt, c.leeway = exp, 30*time.Second
	}
}

// store keeps a login's or refresh's pair; a refresh is due min(30 s, expires_in / 10) before expiry.
func (c *credentials) store(pair *TokenPair) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lifetime := time.Duration(pair.ExpiresIn) * time.Second
	c.token, c.refreshToken = pair.Token, pair.RefreshToken
	c.expiresAt = time.Now().Add(lifetime)
	c.leeway = lifetime / 10
	if c.leeway > 30*time.Second {
		c.leeway = 30 * time.Second
	}
}

// clear forgets the tokens when they are still the ones given (a newer login is kept).
func (c *credentials) clear(refreshToken string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refreshToken == refreshToken {
		c.token, c.refreshToken, c.expiresAt = "", "", time.Time{}
	}
}

// jwtExpiry reads the exp claim of a JWT without verifying it (only to schedule the refresh; the server
// verifies).
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(claims.Exp, 0), true
}

// refreshIfDue refreshes an access token known to expire within its leeway (before a request is sent, so that
// a body which cannot be sent twice is never refused for an expired token).
func (c *Client) refreshIfDue(ctx context.Context) error {
	s := c.creds.snapshot()
	if s.apiKey != "" || s.refreshToken == "" || s.expiresAt.IsZero() || time.Now().Before(s.expiresAt.Add(-s.leeway)) {
		return nil
	}
	return c.refresh(ctx, s.token)
}

// refresh replaces the access token sent (the one that expired) with a new pair, unless another goroutine
// already did. A refused refresh token (revoked, expired, spent) ends the login: the tokens are forgotten and
// the error (ErrUnauthorized) returned.
func (c *Client) refresh(ctx context.Context, sent string) error {
	c.creds.refreshing.Lock()
	defer c.creds.refreshing.Unlock()
	s := c.creds.snapshot()
	if s.token != sent {
		return nil // refreshed meanwhile
	}
	if s.refreshToken == "" {
		return errNoLogin()
	}
	_, err := c.rotate(ctx, s.refreshToken)
	return err
}

func (c *Client) rotate(ctx context.Context, refreshToken string) (*TokenPair, error) {
	body := map[string]string{"refresh_token": refreshToken}
	pair, err := get[TokenPair](ctx, c, &request{method: http.MethodPost, path: "/auth/refresh", json: body, public: true})
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			c.creds.clear(refreshToken)
		}
		return nil, err
	}
	c.creds.store(pair)
	return pair, nil
}

// Register creates an account (POST /auth/register); it does not log in.
//
// Errors: ErrConflict (the email is taken), ErrForbidden (registration is off on this server), ErrValidation
// (a malformed email, a password outside 8-1024 characters).
func (c *Client) Register(ctx context.Context, r Registration) (*User, error) {
	return get[User](ctx, c, &request{
		method: http.MethodPost, path: "/auth/register", json: r, public: true, expect: http.StatusCreated,
	})
}

// Login logs in (POST /auth/login) and keeps the tokens: later requests carry the access token, refreshed by
// the client when it expires.
//
// Errors: ErrUnauthorized (unknown email or wrong password: one error for both), ErrRateLimited (too many
// failed logins for this address or account; Error.RetryAfter says how long to wait).
func (c *Client) Login(ctx context.Context, email, password string) (*TokenPair, error) {
	body := map[string]string{"username": email, "password": password}
	pair, err := get[TokenPair](ctx, c, &request{method: http.MethodPost, path: "/auth/login", json: body, public: true})
	if err != nil {
		return nil, err
	}
	c.creds.store(pair)
	return pair, nil
}

// Refresh rotates the login's tokens now (POST /auth/refresh) and keeps the new pair. The client refreshes by
// itself when the access token expires: call this only to rotate on purpose.
//
// Errors: ErrUnauthorized (the login was revoked or has expired; the tokens are forgotten: log in again).
func (c *Client) Refresh(ctx context.Context) (*TokenPair, error) {
	c.creds.refreshing.Lock()
	defer c.creds.refreshing.Unlock()
	s := c.creds.snapshot()
	if s.refreshToken == "" {
		return nil, errNoLogin()
	}
	return c.rotate(ctx, s.refreshToken)
}

// Logout ends the login on the server (POST /auth/logout: the access token and its refresh token stop working
// at once) and forgets the tokens.
func (c *Client) Logout(ctx context.Context) error {
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/auth/logout", expect: http.StatusNoContent}, nil); err != nil {
		return err
	}
	c.creds.clear(c.creds.snapshot().refreshToken)
	return nil
}

// Me returns the caller's account (GET /users/me).
func (c *Client) Me(ctx context.Context) (*User, error) {
	return get[User](ctx, c, &request{method: http.MethodGet, path: "/users/me"})
}

// UpdateMe changes the caller's account (PATCH /users/me) and returns it.
//
// Errors: ErrValidation (CurrentPassword missing or wrong: Details names it; a malformed value), ErrConflict
// (the new email is taken).
func (c *Client) UpdateMe(ctx context.Context, u UserUpdate) (*User, error) {
	return get[User](ctx, c, &request{method: http.MethodPatch, path: "/users/me", json: u})
}

// APIKeyOptions limit a new API key: Scopes (e.g. "media:read"; empty: every scope) and ExpiresIn (zero: never;
// at least a minute).
type APIKeyOptions struct {
	Scopes    []string
	ExpiresIn time.Duration
}

// CreateAPIKey makes an API key (POST /users/me/api-keys), limited by opts when given; its Key is shown only in this
// answer. Keys are managed with a login only: a client authenticated by an API key gets ErrForbidden.
func (c *Client) CreateAPIKey(ctx context.Context, name string, opts ...APIKeyOptions) (*APIKeyCreated, error) {
	body := map[string]interface{}{"name": name}
	for _, o := range opts {
		if len(o.Scopes) > 0 {
			body["scopes"] = o.Scopes
		}
		if o.ExpiresIn > 0 {
			body["expires_in"] = int(o.ExpiresIn / time.Second)
		}
	}
	return get[APIKeyCreated](ctx, c, &request{
		method: http.MethodPost, path: "/users/me/api-keys", json: body, expect: http.StatusCreated,
	})
}

// ListAPIKeys returns a page of the caller's API keys, newest first, without the keys (GET /users/me/api-keys).
func (c *Client) ListAPIKeys(ctx context.Context, o ListOptions) (*Page[APIKey], error) {
	return list[APIKey](ctx, c, &request{method: http.MethodGet, path: "/users/me/api-keys", query: o.values()})
}

// IterAPIKeys walks every page of ListAPIKeys from o.Page on.
func (c *Client) IterAPIKeys(ctx context.Context, o ListOptions) *Iterator[APIKey] {
	return iterate(ctx, o, c.ListAPIKeys)
}

// DeleteAPIKey revokes a key (DELETE /users/me/api-keys/{id}): requests carrying it get 401 from now on.
func (c *Client) DeleteAPIKey(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/users/me/api-keys/" + pathID(id), expect: http.StatusNoContent}, nil)
}
