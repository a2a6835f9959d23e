package mediavault_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	mediavault "github.com/wronai/mediavault-go"
)

func TestHealthAndRegisterLoginMe(t *testing.T) {
	ctx := ctxOf(t)
	c := anonymous(t)
	health, err := c.Health(ctx)
	if err != nil || health.Status != "ok" || health.Checks["database"] != "ok" || health.Checks["storage"] != "ok" {
		t.Fatalf("health: %+v, %v", health, err)
	}
	email := newEmail(t)
	user, err := c.Register(ctx, mediavault.Registration{Email: email, Password: password, DisplayName: "Ada"})
	if err != nil || user.Email != email || user.DisplayName == nil || *user.DisplayName != "Ada" || user.ID == "" {
		t.Fatalf("register: %+v, %v", user, err)
	}
	_, err = c.Register(ctx, mediavault.Registration{Email: email, Password: password})
	if !errors.Is(err, mediavault.ErrConflict) {
		t.Fatalf("second register: want ErrConflict, got %v", err)
	}
	if _, err := c.Me(ctx); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("me without login: want ErrUnauthorized, got %v", err)
	}
	pair, err := c.Login(ctx, email, password)
	if err != nil || pair.TokenType != "Bearer" || pair.ExpiresIn <= 0 || pair.RefreshToken == "" {
		t.Fatalf("login: %+v, %v", pair, err)
	}
	if token, refresh := c.Tokens(); token != pair.Token || refresh != pair.RefreshToken {
		t.Fatalf("Tokens() = %q, %q", token, refresh)
	}
	me, err := c.Me(ctx)
	if err != nil || me.ID != user.ID {
		t.Fatalf("me: %+v, %v", me, err)
	}
	if _, err := c.Login(ctx, email, "wrong password"); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("wrong password: want ErrUnauthorized, got %v", err)
	}
}

func TestUpdateMeErrorsCarryTheEnvelope(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	me, err := c.UpdateMe(ctx, mediavault.UserUpdate{DisplayName: mediavault.Set("Grace")})
	if err != nil || me.DisplayName == nil || *me.DisplayName != "Grace" {
		t.Fatalf("update: %+v, %v", me, err)
	}
	me, err = c.UpdateMe(ctx, mediavault.UserUpdate{DisplayName: mediavault.Null[string]()})
	if err != nil || me.DisplayName != nil {
		t.Fatalf("clear display name: %+v, %v", me, err)
	}
	_, err = c.UpdateMe(ctx, mediavault.UserUpdate{Password: "a new password", CurrentPassword: "wrong"})
	var vaultErr *mediavault.Error
	if !errors.As(err, &vaultErr) || !errors.Is(err, mediavault.ErrValidation) {
		t.Fatalf("want a validation *Error, got %v", err)
	}
	if vaultErr.StatusCode != 400 || vaultErr.Code != "validation_error" || vaultErr.Message == "" ||
		!strings.HasPrefix(vaultErr.RequestID, "req_") || len(vaultErr.Details) != 1 ||
		vaultErr.Details[0].Field != "current_password" {
		t.Fatalf("error fields: %+v", vaultErr)
	}
	if errors.Is(err, mediavault.ErrNotFound) {
		t.Fatal("a validation error matched ErrNotFound")
	}
	if !strings.Contains(err.Error(), "current_password") || !strings.Contains(err.Error(), vaultErr.RequestID) {
		t.Fatalf("Error() = %q", err.Error())
	}
}

// countingTransport counts the refresh requests that go through it.
type countingTransport struct {
	refreshes int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/auth/refresh") {
		atomic.AddInt64(&t.refreshes, 1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestExpiredTokenIsRefreshedOnceForConcurrentRequests(t *testing.T) {
	ctx := ctxOf(t)
	login, _ := loggedIn(t)
	_, refreshToken := login.Tokens()
	// A client resuming that login with an access token the server refuses (as an expired one): every request's
	// first answer is 401. The refresh token may be spent once only: spending it twice revokes the whole login
	// (and these requests would fail).
	counter := &countingTransport{}
	c := anonymous(t, mediavault.WithTokens("not-a-valid-token", refreshToken), mediavault.WithHTTPClient(&http.Client{Transport: counter}))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Me(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := atomic.LoadInt64(&counter.refreshes); n != 1 {
		t.Fatalf("want 1 refresh, got %d", n)
	}
	token, newRefresh := c.Tokens()
	if token == "not-a-valid-token" || newRefresh == refreshToken {
		t.Fatal("tokens not rotated")
	}
	// The spent refresh token ends the login when presented again: the client forgets its tokens.
	stale := anonymous(t, mediavault.WithTokens("not-a-valid-token", refreshToken))
	if _, err := stale.Me(ctx); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("spent refresh token: want ErrUnauthorized, got %v", err)
	}
	if token, refresh := stale.Tokens(); token != "" || refresh != "" {
		t.Fatal("a refused refresh left the tokens")
	}
	// ... and revokes the family: the rotated tokens stop working too.
	if _, err := c.Me(ctx); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("after reuse of a spent refresh token: want ErrUnauthorized, got %v", err)
	}
}

func TestRefreshAndLogout(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	before, _ := c.Tokens()
	pair, err := c.Refresh(ctx)
	if err != nil || pair.Token == before {
		t.Fatalf("refresh: %+v, %v", pair, err)
	}
	if _, err := c.Me(ctx); err != nil {
		t.Fatal(err)
	}
	token, refresh := c.Tokens()
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if token, _ := c.Tokens(); token != "" {
		t.Fatal("logout kept the token")
	}
	again := anonymous(t, mediavault.WithTokens(token, refresh))
	if _, err := again.Me(ctx); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("after logout: want ErrUnauthorized, got %v", err)
	}
}

func TestAPIKeys(t *testing.T) {
	ctx := ctxOf(t)
	c, email := loggedIn(t)
	created, err := c.CreateAPIKey(ctx, "ci")
	if err != nil || !strings.HasPrefix(created.Key, "mvk_") || created.Prefix != created.Key[:12] {
		t.Fatalf("create: %+v, %v", created, err)
	}
	keyed := anonymous(t, mediavault.WithAPIKey(created.Key))
	me, err := keyed.Me(ctx)
	if err != nil || me.Email != email {
		t.Fatalf("me with key: %+v, %v", me, err)
	}
	if _, err := keyed.CreateAPIKey(ctx, "more"); !errors.Is(err, mediavault.ErrForbidden) {
		t.Fatalf("key minting a key: want ErrForbidden, got %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.CreateAPIKey(ctx, "spare"); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	it := c.IterAPIKeys(ctx, mediavault.ListOptions{PerPage: 2})
	for it.Next() {
		names = append(names, it.Item().Name)
	}
	if it.Err() != nil || len(names) != 3 || names[2] != "ci" || it.Pagination().Total != 3 {
		t.Fatalf("iterate keys: %v, %v", names, it.Err())
	}
	if err := c.DeleteAPIKey(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := keyed.Me(ctx); !errors.Is(err, mediavault.ErrUnauthorized) {
		t.Fatalf("deleted key: want ErrUnauthorized, got %v", err)
	}
	if err := c.DeleteAPIKey(ctx, created.ID); !errors.Is(err, mediavault.ErrNotFound) {
		t.Fatalf("deleted twice: want ErrNotFound, got %v", err)
	}
}

func TestFailedLoginsAreRateLimitedWithRetryAfter(t *testing.T) {
	ctx := ctxOf(t)
	_, email := loggedIn(t)
	c := anonymous(t)
	// The per-account budget of failed logins is 5 a minute (rate_limit_login_per_account).
	for attempt := 1; attempt <= 12; attempt++ {
		_, err := c.Login(ctx, email, "wrong password")
		if errors.Is(err, mediavault.ErrRateLimited) {
			var vaultErr *mediavault.Error
			if !errors.As(err, &vaultErr) || vaultErr.RetryAfter <= 0 || vaultErr.StatusCode != 429 {
				t.Fatalf("rate limited without Retry-After: %+v", vaultErr)
			}
			return
		}
		if !errors.Is(err, mediavault.ErrUnauthorized) {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	t.Fatal("12 failed logins were never rate limited")
}
