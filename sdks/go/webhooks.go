package mediavault

import (
	"context"
	"net/http"
)

// CreateWebhook registers a webhook endpoint (POST /webhooks); the answer's Secret signs its deliveries
// (Standard Webhooks) and is shown only here.
//
// Errors: ErrValidation (a URL that is not http(s) or points at a private address, an unknown event name;
// Details names the field).
func (c *Client) CreateWebhook(ctx context.Context, w WebhookCreate) (*WebhookCreated, error) {
	return get[WebhookCreated](ctx, c, &request{method: http.MethodPost, path: "/webhooks", json: w, expect: http.StatusCreated})
}

// ListWebhooks returns a page of the caller's webhook endpoints, newest first (GET /webhooks).
func (c *Client) ListWebhooks(ctx context.Context, o ListOptions) (*Page[Webhook], error) {
	return list[Webhook](ctx, c, &request{method: http.MethodGet, path: "/webhooks", query: o.values()})
}

// IterWebhooks walks every page of ListWebhooks from o.Page on.
func (c *Client) IterWebhooks(ctx context.Context, o ListOptions) *Iterator[Webhook] {
	return iterate(ctx, o, c.ListWebhooks)
}

// GetWebhook returns a webhook endpoint (GET /webhooks/{id}).
func (c *Client) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	return get[Webhook](ctx, c, &request{method: http.MethodGet, path: "/webhooks/" + pathID(id)})
}

// UpdateWebhook changes a webhook endpoint (PATCH /webhooks/{id}) and returns it.
func (c *Client) UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (*Webhook, error) {
	return get[Webhook](ctx, c, &request{method: http.MethodPatch, path: "/webhooks/" + pathID(id), json: u})
}

// DeleteWebhook deletes a webhook endpoint and its delivery log (DELETE /webhooks/{id}).
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/webhooks/" + pathID(id), expect: http.StatusNoContent}, nil)
}

// ListDeliveries returns a page of a webhook's delivery attempts, newest first (GET /webhooks/{id}/deliveries).
func (c *Client) ListDeliveries(ctx context.Context, id string, o ListOptions) (*Page[Delivery], error) {
	return list[Delivery](ctx, c, &request{method: http.MethodGet, path: "/webhooks/" + pathID(id) + "/deliveries", query: o.values()})
}

// IterDeliveries walks every page of ListDeliveries from o.Page on.
func (c *Client) IterDeliveries(ctx context.Context, id string, o ListOptions) *Iterator[Delivery] {
	return iterate(ctx, o, func(ctx context.Context, o ListOptions) (*Page[Delivery], error) {
		return c.ListDeliveries(ctx, id, o)
	})
}
