package mediavault

import (
	"context"
	"net/http"
)

// CreateCollection makes a collection (POST /collections).
func (c *Client) CreateCollection(ctx context.Context, create CollectionCreate) (*Collection, error) {
	return get[Collection](ctx, c, &request{method: http.MethodPost, path: "/collections", json: create, expect: http.StatusCreated})
}

// ListCollections returns a page of the caller's collections, newest first (GET /collections).
func (c *Client) ListCollections(ctx context.Context, o ListOptions) (*Page[Collection], error) {
	return list[Collection](ctx, c, &request{method: http.MethodGet, path: "/collections", query: o.values()})
}

// IterCollections walks every page of ListCollections from o.Page on.
func (c *Client) IterCollections(ctx context.Context, o ListOptions) *Iterator[Collection] {
	return iterate(ctx, o, c.ListCollections)
}

// GetCollection returns a collection (GET /collections/{id}).
//
// Errors: ErrNotFound (an unknown id, or someone else's collection).
func (c *Client) GetCollection(ctx context.Context, id string) (*Collection, error) {
	return get[Collection](ctx, c, &request{method: http.MethodGet, path: "/collections/" + pathID(id)})
}

// UpdateCollection changes a collection's name or description (PATCH /collections/{id}) and returns it.
func (c *Client) UpdateCollection(ctx context.Context, id string, u CollectionUpdate) (*Collection, error) {
	return get[Collection](ctx, c, &request{method: http.MethodPatch, path: "/collections/" + pathID(id), json: u})
}

// DeleteCollection deletes a collection and its share links; its media stay (DELETE /collections/{id}).
func (c *Client) DeleteCollection(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: "/collections/" + pathID(id), expect: http.StatusNoContent}, nil)
}

// AddToCollection adds 1-1000 of the caller's media to a collection (POST /collections/{id}/media) and returns
// it. Idempotent, all or nothing.
//
// Errors: ErrNotFound (the collection, or any of the media, is not the caller's: then nothing is added).
func (c *Client) AddToCollection(ctx context.Context, id string, mediaIDs ...string) (*Collection, error) {
	body := map[string][]string{"media_ids": mediaIDs}
	return get[Collection](ctx, c, &request{method: http.MethodPost, path: "/collections/" + pathID(id) + "/media", json: body})
}

// ListCollectionMedia returns a page of a collection's media (GET /collections/{id}/media), with the filters of
// ListMedia.
func (c *Client) ListCollectionMedia(ctx context.Context, id string, q MediaQuery) (*Page[Media], error) {
	return list[Media](ctx, c, &request{method: http.MethodGet, path: "/collections/" + pathID(id) + "/media", query: q.values()})
}

// IterCollectionMedia walks every page of ListCollectionMedia from q.Page on.
func (c *Client) IterCollectionMedia(ctx context.Context, id string, q MediaQuery) *Iterator[Media] {
	return iterate(ctx, q, func(ctx context.Context, q MediaQuery) (*Page[Media], error) {
		return c.ListCollectionMedia(ctx, id, q)
	})
}

// RemoveFromCollection takes a media item out of a collection; the media stays
// (DELETE /collections/{id}/media/{media_id}).
//
// Errors: ErrNotFound (the media is not in the collection).
func (c *Client) RemoveFromCollection(ctx context.Context, id, mediaID string) error {
	path := "/collections/" + pathID(id) + "/media/" + pathID(mediaID)
	return c.do(ctx, &request{method: http.MethodDelete, path: path, expect: http.StatusNoContent}, nil)
}
