package mediavault

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Usage is what the caller stores (GET /users/me/usage): UsedBytes counts each stored blob once, QuotaBytes is nil
// when unlimited.
type Usage struct {
	UsedBytes  int64  `json:"used_bytes"`
	QuotaBytes *int64 `json:"quota_bytes"`
	MediaCount int    `json:"media_count"`
}

// AdminUser is a user as an admin sees it: QuotaBytes is the quota in force (nil: unlimited).
type AdminUser struct {
	User
	Disabled   bool   `json:"disabled"`
	QuotaBytes *int64 `json:"quota_bytes"`
	UsedBytes  int64  `json:"used_bytes"`
}

// AuditEvent is a line of the audit log (GET /admin/audit).
type AuditEvent struct {
	ID         string                 `json:"id"`
	Action     string                 `json:"action"`
	ActorID    *string                `json:"actor_id"`
	TargetType *string                `json:"target_type"`
	TargetID   *string                `json:"target_id"`
	IP         *string                `json:"ip"`
	UserAgent  *string                `json:"user_agent"`
	Details    map[string]interface{} `json:"details"`
	CreatedAt  time.Time              `json:"created_at"`
}

// AdminUserUpdate is the body of UpdateUser; nil fields are left unchanged, QuotaBytes Null[int64]() is unlimited.
type AdminUserUpdate struct {
	Disabled   *bool
	Role       string // "user" or "admin"; empty: unchanged
	QuotaBytes Opt[int64]
}

// MarshalJSON sends only the fields that change.
func (u AdminUserUpdate) MarshalJSON() ([]byte, error) {
	body := map[string]interface{}{}
	if u.Disabled != nil {
		body["disabled"] = *u.Disabled
	}
	putString(body, "role", u.Role)
	u.QuotaBytes.put(body, "quota_bytes")
	return json.Marshal(body)
}

// UserQuery pages GET /admin/users; Q keeps users whose email or display name contains it.
type UserQuery struct {
	Page    int
	PerPage int
	Q       string
}

func (o UserQuery) values() url.Values {
	q := ListOptions{o.Page, o.PerPage}.values()
	putValue(q, "q", o.Q)
	return q
}

func (o UserQuery) startPage() int { return o.Page }

func (o UserQuery) withPage(page int) UserQuery {
	o.Page = page
	return o
}

// AuditQuery filters and pages GET /admin/audit: Since is inclusive, Until exclusive; zero values do not filter.
type AuditQuery struct {
	Page    int
	PerPage int
	Action  string
	ActorID string
	Since   time.Time
	Until   time.Time
}

func (o AuditQuery) values() url.Values {
	q := ListOptions{o.Page, o.PerPage}.values()
	putValue(q, "action", o.Action)
	putValue(q, "actor_id", o.ActorID)
	if !o.Since.IsZero() {
		q.Set("since", o.Since.UTC().Format(time.RFC3339Nano))
	}
	if !o.Until.IsZero() {
		q.Set("until", o.Until.UTC().Format(time.RFC3339Nano))
	}
	return q
}

func (o AuditQuery) startPage() int { return o.Page }

func (o AuditQuery) withPage(page int) AuditQuery {
	o.Page = page
	return o
}

// Usage returns the bytes the caller stores, their quota and media count (GET /users/me/usage).
func (c *Client) Usage(ctx context.Context) (*Usage, error) {
	return get[Usage](ctx, c, &request{method: http.MethodGet, path: "/users/me/usage"})
}

// ListUsers returns a page of users, oldest first (GET /admin/users; admins only, else ErrForbidden).
func (c *Client) ListUsers(ctx context.Context, o UserQuery) (*Page[AdminUser], error) {
	return list[AdminUser](ctx, c, &request{method: http.MethodGet, path: "/admin/users", query: o.values()})
}

// IterUsers walks every page of ListUsers from o.Page on.
func (c *Client) IterUsers(ctx context.Context, o UserQuery) *Iterator[AdminUser] {
	return iterate(ctx, o, c.ListUsers)
}

// GetUser returns a user (GET /admin/users/{id}; admins only).
func (c *Client) GetUser(ctx context.Context, id string) (*AdminUser, error) {
	return get[AdminUser](ctx, c, &request{method: http.MethodGet, path: "/admin/users/" + pathID(id)})
}

// UpdateUser disables or enables a user, changes their role or quota (PATCH /admin/users/{id}; admins only).
// Disabling ends the user's logins and refuses their API keys at once; disabling or demoting yourself is
// ErrValidation.
func (c *Client) UpdateUser(ctx context.Context, id string, u AdminUserUpdate) (*AdminUser, error) {
	return get[AdminUser](ctx, c, &request{method: http.MethodPatch, path: "/admin/users/" + pathID(id), json: u})
}

// ListAuditEvents returns a page of the audit log, newest first (GET /admin/audit; admins only).
func (c *Client) ListAuditEvents(ctx context.Context, o AuditQuery) (*Page[AuditEvent], error) {
	return list[AuditEvent](ctx, c, &request{method: http.MethodGet, path: "/admin/audit", query: o.values()})
}

// IterAuditEvents walks every page of ListAuditEvents from o.Page on.
func (c *Client) IterAuditEvents(ctx context.Context, o AuditQuery) *Iterator[AuditEvent] {
	return iterate(ctx, o, c.ListAuditEvents)
}
