package mediavault

import (
	"encoding/json"
	"time"
)

// Kind is a media item's type, derived by the server from the sniffed content type.
type Kind string

// The kinds of media.
const (
	KindImage    Kind = "image"
	KindVideo    Kind = "video"
	KindAudio    Kind = "audio"
	KindDocument Kind = "document"
	KindOther    Kind = "other"
)

// Sort orders media lists; the "-" forms are descending.
type Sort string

// The orders of media lists (default SortNewest).
const (
	SortOldest        Sort = "created_at"
	SortNewest        Sort = "-created_at"
	SortFilename      Sort = "filename"
	SortFilenameDesc  Sort = "-filename"
	SortSmallestFirst Sort = "size"
	SortLargestFirst  Sort = "-size"
)

// Event names of webhooks and realtime events.
const (
	EventMediaUploaded     = "media.uploaded"
	EventMediaUpdated      = "media.updated"
	EventMediaDeleted      = "media.deleted"
	EventMediaTrashed      = "media.trashed"
	EventMediaRestored     = "media.restored"
	EventUserRegistered    = "user.registered"
	EventCollectionCreated = "collection.created"
	EventCollectionDeleted = "collection.deleted"
	EventShareCreated      = "share.created"
)

// Health is GET /health: Status "ok" or "degraded"; Checks maps each dependency ("database", "storage") to
// "ok" or "error".
type Health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// TokenPair is a login's tokens; ExpiresIn and RefreshExpiresIn are seconds.
type TokenPair struct {
	Token            string `json:"token"`
	ExpiresIn        int    `json:"expires_in"`
	TokenType        string `json:"token_type"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
}

// User is an account as the API shows it (never a password hash).
type User struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	DisplayName *string   `json:"display_name"`
	Role        string    `json:"role"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// APIKey is an API key as listed: never the key itself, only its first 12 characters (Prefix).
type APIKey struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	// Scopes the key may use (every scope unless it was made with some).
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`   // nil: never
	LastUsedAt *time.Time `json:"last_used_at"` // to the minute; nil: never used
}

// APIKeyCreated is the answer to CreateAPIKey: Key ("mvk_...") is shown this once and never again.
type APIKeyCreated struct {
	APIKey
	Key string `json:"key"`
}

// Media is a stored file. Width and Height are nil unless it is an image; ContentURL is the path (under the
// server, with the mount prefix) of its bytes.
type Media struct {
	ID             string    `json:"id"`
	Filename       string    `json:"filename"`
	ContentType    string    `json:"content_type"`
	Type           Kind      `json:"type"`
	Size           int64     `json:"size"`
	ChecksumSHA256 string    `json:"checksum_sha256"`
	Width          *int      `json:"width"`
	Height         *int      `json:"height"`
	Title          *string   `json:"title"`
	Description    *string   `json:"description"`
	Tags           []string  `json:"tags"`
	OwnerID        string    `json:"owner_id,omitempty"` // absent on share links
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	ContentURL     string    `json:"content_url"`
	// Version counts the item's bytes: 1 at upload, + 1 per ReplaceContent or RestoreVersion (0 on share links).
	Version int `json:"version,omitempty"`
	// Metadata is the owner's custom metadata, a JSON object (absent on share links).
	Metadata map[string]interface{} `json:"metadata,omitempty"`
}

// MediaVersion is one version of a media item's bytes (ListVersions, newest first); Current marks the one the
// item serves now.
type MediaVersion struct {
	Version        int       `json:"version"`
	Size           int64     `json:"size"`
	ChecksumSHA256 string    `json:"checksum_sha256"`
	ContentType    string    `json:"content_type"`
	CreatedAt      time.Time `json:"created_at"`
	Current        bool      `json:"current"`
}

// TrashedMedia is a media item in the trash (ListTrash): deleted at DeletedAt, purged with its bytes at PurgeAt.
type TrashedMedia struct {
	Media
	DeletedAt time.Time `json:"deleted_at"`
	PurgeAt   time.Time `json:"purge_at"`
}

// Variant is a file derived from a media item (thumbnails); URL serves it (nil for the share copy).
type Variant struct {
	Name        string  `json:"name"`
	ContentType string  `json:"content_type"`
	Size        int64   `json:"size"`
	Width       *int    `json:"width"`
	Height      *int    `json:"height"`
	URL         *string `json:"url"`
}

// MediaProcessing is GET /media/{id}/metadata: Status "pending", "done" or "failed"; Metadata holds what each
// processor found (e.g. Metadata["image"]["width"]; never the GPS position), Errors the processors that failed.
type MediaProcessing struct {
	MediaID     string                            `json:"media_id"`
	Status      string                            `json:"status"`
	ProcessedAt *time.Time                        `json:"processed_at"`
	Metadata    map[string]map[string]interface{} `json:"metadata"`
	Errors      map[string]string                 `json:"errors"`
	Variants    []Variant                         `json:"variants"`
}

// Collection is a named set of the owner's media; MediaCount is its number of members now.
type Collection struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	OwnerID     string    `json:"owner_id"`
	MediaCount  int       `json:"media_count"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Share is a share link as its owner sees it. Token and URL are set only in CreateShare's answer (the vault
// keeps a hash of the token, never the token); ExpiresAt is nil for a link that never expires.
type Share struct {
	ID            string     `json:"id"`
	Token         *string    `json:"token"`
	URL           *string    `json:"url"`
	ExpiresAt     *time.Time `json:"expires_at"`
	AllowDownload bool       `json:"allow_download"`
	HasPassword   bool       `json:"has_password"`
	MediaID       *string    `json:"media_id"`
	CollectionID  *string    `json:"collection_id"`
	CreatedAt     time.Time  `json:"created_at"`
	// AllowUpload: a collection link that takes uploads from whoever holds it (UploadToShare).
	AllowUpload bool `json:"allow_upload"`
}

// SignedUpload is a signed upload URL (SignUpload): whoever holds URL (or Token) may upload one file of at most
// MaxSize bytes into the signer's account, and CollectionID when set, without an account until ExpiresAt.
type SignedUpload struct {
	URL          string    `json:"url"`
	Token        string    `json:"token"`
	ExpiresAt    time.Time `json:"expires_at"`
	MaxSize      int64     `json:"max_size"`
	CollectionID *string   `json:"collection_id"`
}

// OpenedShare is what GET /s/{token} shows anyone holding the link: Type "media" (Media is set) or
// "collection" (Collection, one page of its media in Items, and that page's Pagination).
type OpenedShare struct {
	Type       string
	Media      *Media
	Collection *Collection
	Items      []Media
	Pagination *Pagination
}

// Webhook is a webhook endpoint (never its secret, except once in WebhookCreated). DisabledReason and
// DisabledAt say why and when it stopped receiving (nil while active).
type Webhook struct {
	ID                  string     `json:"id"`
	URL                 string     `json:"url"`
	Events              []string   `json:"events"`
	Description         *string    `json:"description"`
	Active              bool       `json:"active"`
	DisabledReason      *string    `json:"disabled_reason"`
	DisabledAt          *time.Time `json:"disabled_at"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// WebhookCreated is the answer to CreateWebhook: Secret ("whsec_<base64>") signs the deliveries and is shown
// only here.
type WebhookCreated struct {
	Webhook
	Secret string `json:"secret"`
}

// Delivery is one attempt of a webhook's delivery log. Status is "pending", "succeeded" or "failed"; EventID is
// the webhook-id header sent (the same on every attempt).
type Delivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"event_id"`
	Event          string     `json:"event"`
	Attempt        int        `json:"attempt"`
	Status         string     `json:"status"`
	ResponseStatus *int       `json:"response_status"`
	DurationMS     *int       `json:"duration_ms"`
	Error          *string    `json:"error"`
	CreatedAt      time.Time  `json:"created_at"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	AttemptedAt    *time.Time `json:"attempted_at"`
}

// Pagination is meta.pagination of a list answer. Links are relative to the mount prefix; nil at the ends.
type Pagination struct {
	Total       int `json:"total"`
	Count       int `json:"count"`
	PerPage     int `json:"per_page"`
	CurrentPage int `json:"current_page"`
	TotalPages  int `json:"total_pages"`
	Links       struct {
		Next *string `json:"next"`
		Prev *string `json:"prev"`
	} `json:"links"`
}

// envelope is a successful answer: {"success": true, "data", "meta"}.
type envelope struct {
	Data json.RawMessage `json:"data"`
	Meta struct {
		RequestID  string      `json:"request_id"`
		Pagination *Pagination `json:"pagination"`
	} `json:"meta"`
}
