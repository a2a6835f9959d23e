package mediavault

import "context"

// Page is one page of a list endpoint: its items and meta.pagination.
type Page[T any] struct {
	Items      []T
	Pagination Pagination
}

func list[T any](ctx context.Context, c *Client, r *request) (*Page[T], error) {
	page := &Page[T]{}
	pagination, err := c.doEnvelope(ctx, r, &page.Items)
	if err != nil {
		return nil, err
	}
	if pagination == nil {
		return nil, &Error{Message: r.path + " answered a list without meta.pagination"}
	}
	page.Pagination = *pagination
	return page, nil
}

// Iterator walks every item of a list, one request per page, in the style of bufio.Scanner:
//
//	it := vault.IterMedia(ctx, mediavault.MediaQuery{Tag: "beach"})
//	for it.Next() {
//		media := it.Item()
//	}
//	if err := it.Err(); err != nil { ... }
//
// An Iterator is for one goroutine.
type Iterator[T any] struct {
	ctx        context.Context
	fetch      func(ctx context.Context, page int) (*Page[T], error)
	page       int // the next page to fetch (0: done)
	items      []T
	item       T
	pagination *Pagination
	err        error
}

type pageable[O any] interface {
	startPage() int
	withPage(page int) O
}

// iterate makes the Iterator of a list method from its options (which pick the first page).
func iterate[T any, O pageable[O]](ctx context.Context, o O, fetch func(context.Context, O) (*Page[T], error)) *Iterator[T] {
	first := o.startPage()
	if first < 1 {
		first = 1
	}
	return &Iterator[T]{
		ctx:   ctx,
		page:  first,
		fetch: func(ctx context.Context, page int) (*Page[T], error) { return fetch(ctx, o.withPage(page)) },
	}
}

// Next moves to the next item, fetching the next page when this one is used up; false at the end or after an
// error (see Err).
func (it *Iterator[T]) Next() bool {
	for len(it.items) == 0 {
		if it.page == 0 || it.err != nil {
			return false
		}
		page, err := it.fetch(it.ctx, it.page)
		if err != nil {
			it.err = err
			return false
		}
		it.pagination = &page.Pagination
		it.items = page.Items
		if page.Pagination.Links.Next == nil || len(page.Items) == 0 {
			it.page = 0
		} else {
			it.page++
		}
	}
	it.item, it.items = it.items[0], it.items[1:]
	return true
}

// Item returns the current item (after Next returned true).
func (it *Iterator[T]) Item() T { return it.item }

// Err returns the error that stopped the iteration, nil at a normal end.
func (it *Iterator[T]) Err() error { return it.err }

// Pagination returns the meta.pagination of the last page fetched (Total counts every item), nil before the
// first Next.
func (it *Iterator[T]) Pagination() *Pagination { return it.pagination }
