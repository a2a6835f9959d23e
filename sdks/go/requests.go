package mediavault

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// Opt is a field of an update (PATCH) that may also be cleared. Its zero value leaves the field unchanged (it
// is not sent); Set(v) changes it to v; Null[T]() clears it (sends null).
type Opt[T any] struct {
	value T
	state uint8 // 0 unset, 1 set, 2 null
}

// Set returns an Opt that changes a field to v.
func Set[T any](v T) Opt[T] { return Opt[T]{value: v, state: 1} }

// Null returns an Opt that clears a field.
func Null[T any]() Opt[T] { return Opt[T]{state: 2} }

func (o Opt[T]) put(body map[string]interface{}, name string) {
	switch o.state {
	case 1:
		body[name] = o.value
	case 2:
		body[name] = nil
	}
}

// Bool returns a pointer to v, for optional booleans such as ShareCreate.AllowDownload.
func Bool(v bool) *bool { return &v }

// Registration is the body of Register. Password: 8-1024 characters. DisplayName is optional.
type Registration struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name,omitempty"`
}

// UserUpdate is the body of UpdateMe; empty fields are not changed. A new Email or Password needs
// CurrentPassword; a new Password ends every other login of the user.
type UserUpdate struct {
	DisplayName     Opt[string]
	Email           string
	Password        string
	CurrentPassword string
}

// MarshalJSON sends only the fields given.
func (u UserUpdate) MarshalJSON() ([]byte, error) {
	body := map[string]interface{}{}
	u.DisplayName.put(body, "display_name")
	putString(body, "email", u.Email)
	putString(body, "password", u.Password)
	putString(body, "current_password", u.CurrentPassword)
	return json.Marshal(body)
}

// MediaUpdate is the body of UpdateMedia; fields left as their zero value are not changed.
// Tags: Set([]string{}) removes every tag.
type MediaUpdate struct {
	Title       Opt[string]
	Description Opt[string]
	Tags        Opt[[]string]
	// Metadata is a JSON merge patch (RFC 7396) of the custom metadata: its keys replace the item's, a nil value
	// removes a key; nil sends nothing.
	Metadata map[string]interface{}
}

// MarshalJSON sends only the fields given.
func (u MediaUpdate) MarshalJSON() ([]byte, error) {
	body := map[string]interface{}{}
	u.Title.put(body, "title")
	u.Description.put(body, "description")
	u.Tags.put(body, "tags")
	if u.Metadata != nil {
		body["metadata"] = u.Metadata
	}
	return json.Marshal(body)
}

// CollectionCreate is the body of CreateCollection: Name 1-200 characters, Description optional.
type CollectionCreate struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// CollectionUpdate is the body of UpdateCollection; empty fields are not changed.
type CollectionUpdate struct {
	Name        string
	Description Opt[string]
}

// MarshalJSON sends only the fields given.
func (u CollectionUpdate) MarshalJSON() ([]byte, error) {
	body := map[string]interface{}{}
	putString(body, "name", u.Name)
	u.Description.put(body, "description")
	return json.Marshal(body)
}

// ShareCreate is the body of CreateShare: exactly one of MediaID and CollectionID (the caller's).
type ShareCreate struct {
	MediaID      string
	CollectionID string
	// ExpiresIn: the link dies this long from now (whole seconds, 1 s to 10 years); 0 = never.
	ExpiresIn time.Duration
	// Password: 8-1024 characters, then needed to open the link (OpenShareOptions.Password).
	Password string
	// AllowDownload: nil = true; Bool(false) makes the content endpoints answer 403 forbidden.
	AllowDownload *bool
	// AllowUpload: a collection link that takes uploads from whoever holds it (UploadToShare); a media link: 400.
	AllowUpload bool
}

// MarshalJSON sends only the fields given.
func (s ShareCreate) MarshalJSON() ([]byte, error) {
	body := map[string]interface{}{}
	putString(body, "media_id", s.MediaID)
	putString(body, "collection_id", s.CollectionID)
	if s.ExpiresIn != 0 {
		body["expires_in"] = int64(s.ExpiresIn / time.Second)
	}
	putString(body, "password", s.Password)
	if s.AllowDownload != nil {
		body["allow_download"] = *s.AllowDownload
	}
	if s.AllowUpload {
		body["allow_upload"] = true
	}
	return json.Marshal(body)
}

// SignedUploadCreate is the body of SignUpload; zero values are left to the server.
type SignedUploadCreate struct {
	// ExpiresIn: how long the URL lives (whole seconds, 60 s to 24 h); 0 = the server's default, one hour.
	ExpiresIn time.Duration
	// MaxSize: the largest file it takes, in bytes; 0 = the server's max_upload_size (also the most allowed).
	MaxSize int64
	// CollectionID: one of the caller's collections the upload is added to.
	CollectionID string
}

// MarshalJSON sends only the fields given.
func (s SignedUploadCreate) MarshalJSON() ([]byte, error) {
	body := map[string]interface{}{}
	if s.ExpiresIn != 0 {
		body["expires_in"] = int64(s.ExpiresIn / time.Second)
	}
	if s.MaxSize != 0 {
		body["max_size"] = s.MaxSize
	}
	putString(body, "collection_id", s.CollectionID)
	return json.Marshal(body)
}

// WebhookCreate is the body of CreateWebhook: an http(s) URL (public unless the server allows private targets)
// and the event names it receives (Event* constants).
type WebhookCreate struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
}

// WebhookUpdate is the body of UpdateWebhook; fields left as their zero value are not changed.
// Active: Bool(true) re-enables a disabled endpoint.
type WebhookUpdate struct {
	URL         string
	Events      []string
	Description Opt[string]
	Active      *bool
}

// MarshalJSON sends only the fields given.
func (u WebhookUpdate) MarshalJSON() ([]byte, error) {
	body := map[string]interface{}{}
	putString(body, "url", u.URL)
	if u.Events != nil {
		body["events"] = u.Events
	}
	u.Description.put(body, "description")
	if u.Active != nil {
		body["active"] = *u.Active
	}
	return json.Marshal(body)
}

func putString(body map[string]interface{}, name, value string) {
	if value != "" {
		body[name] = value
	}
}

// ListOptions picks a page of a list: Page is 1-based, PerPage 1-100 (zero values: the server's 1 and 20).
type ListOptions struct {
	Page    int
	PerPage int
}

func (o ListOptions) values() url.Values {
	q := url.Values{}
	putInt(q, "page", o.Page)
	putInt(q, "per_page", o.PerPage)
	return q
}

func (o ListOptions) startPage() int { return o.Page }

func (o ListOptions) withPage(page int) ListOptions {
	o.Page = page
	return o
}

// MediaQuery filters and pages media lists (ListMedia, Search, ListCollectionMedia); empty fields do not filter.
type MediaQuery struct {
	Page    int
	PerPage int
	// Q: a substring of filename, title or description (ListMedia), or the words to search (Search: required;
	// every word must start a word of filename, title, description or tags).
	Q              string
	Type           Kind
	Tag            string // an exact tag, case-insensitive
	Sort           Sort   // default SortNewest
	ChecksumSHA256 string // only media with this content (64 hex digits)
	// Metadata: only media whose custom metadata has every key with this value (compared as strings).
	Metadata map[string]string
}

func (o MediaQuery) values() url.Values {
	q := ListOptions{o.Page, o.PerPage}.values()
	putValue(q, "q", o.Q)
	putValue(q, "type", string(o.Type))
	putValue(q, "tag", o.Tag)
	putValue(q, "sort", string(o.Sort))
	putValue(q, "checksum_sha256", o.ChecksumSHA256)
	for key, value := range o.Metadata {
		q.Set("metadata."+key, value)
	}
	return q
}

func (o MediaQuery) startPage() int { return o.Page }

func (o MediaQuery) withPage(page int) MediaQuery {
	o.Page = page
	return o
}

func putInt(q url.Values, name string, value int) {
	if value != 0 {
		q.Set(name, strconv.Itoa(value))
	}
}

func putValue(q url.Values, name, value string) {
	if value != "" {
		q.Set(name, value)
	}
}
