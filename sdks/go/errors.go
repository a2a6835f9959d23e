package mediavault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, one per error code of the vault's envelope. An *Error matches the sentinel of its Code
// under errors.Is:
//
//	if errors.Is(err, mediavault.ErrNotFound) { ... }
var (
	ErrValidation           = errors.New("mediavault: validation_error")
	ErrUnauthorized         = errors.New("mediavault: unauthorized")
	ErrForbidden            = errors.New("mediavault: forbidden")
	ErrNotFound             = errors.New("mediavault: not_found")
	ErrMethodNotAllowed     = errors.New("mediavault: method_not_allowed")
	ErrRequestTimeout       = errors.New("mediavault: request_timeout")
	ErrConflict             = errors.New("mediavault: conflict")
	ErrPayloadTooLarge      = errors.New("mediavault: payload_too_large")
	ErrQuotaExceeded        = errors.New("mediavault: quota_exceeded")
	ErrUnsupportedMediaType = errors.New("mediavault: unsupported_media_type")
	ErrRangeNotSatisfiable  = errors.New("mediavault: range_not_satisfiable")
	ErrChecksumMismatch     = errors.New("mediavault: checksum_mismatch")
	ErrRateLimited          = errors.New("mediavault: rate_limited")
	ErrInternal             = errors.New("mediavault: internal_error")
	ErrServiceUnavailable   = errors.New("mediavault: service_unavailable")
	ErrInsufficientStorage  = errors.New("mediavault: insufficient_storage")
)

// codes maps each error code of the HTTP contract to its sentinel and status.
var codes = map[string]struct {
	sentinel error
	status   int
}{
	"validation_error":       {ErrValidation, http.StatusBadRequest},
	"unauthorized":           {ErrUnauthorized, http.StatusUnauthorized},
	"forbidden":              {ErrForbidden, http.StatusForbidden},
	"not_found":              {ErrNotFound, http.StatusNotFound},
	"method_not_allowed":     {ErrMethodNotAllowed, http.StatusMethodNotAllowed},
	"request_timeout":        {ErrRequestTimeout, http.StatusRequestTimeout},
	"conflict":               {ErrConflict, http.StatusConflict},
	"payload_too_large":      {ErrPayloadTooLarge, http.StatusRequestEntityTooLarge},
	"quota_exceeded":         {ErrQuotaExceeded, http.StatusRequestEntityTooLarge},
	"unsupported_media_type": {ErrUnsupportedMediaType, http.StatusUnsupportedMediaType},
	"range_not_satisfiable":  {ErrRangeNotSatisfiable, http.StatusRequestedRangeNotSatisfiable},
	"checksum_mismatch":      {ErrChecksumMismatch, 460}, // tus checksum extension: the chunk was not kept
	"rate_limited":           {ErrRateLimited, http.StatusTooManyRequests},
	"internal_error":         {ErrInternal, http.StatusInternalServerError},
	"service_unavailable":    {ErrServiceUnavailable, http.StatusServiceUnavailable},
	"insufficient_storage":   {ErrInsufficientStorage, http.StatusInsufficientStorage},
}

// codeOfStatus names the code of an answer that is not the vault's envelope (a proxy's error page, say).
func codeOfStatus(status int) string {
	best := ""
	for code, c := range codes {
		// quota_exceeded shares 413 with payload_too_large; the general code wins.
		if c.status == status && (best == "" || code < best) {
			best = code
		}
	}
	return best
}

// ErrorDetail names one invalid field of a request (the envelope's error.details).
type ErrorDetail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error answer of the vault: the contract's envelope
// {"success": false, "error": {"code", "message", "details"}, "meta": {"request_id"}}.
//
// An answer that is not the envelope (a proxy's HTML page, say) is an *Error too: Code is then the code of its
// status when the contract has one ("" otherwise) and Message quotes the start of the body.
type Error struct {
	StatusCode int           // HTTP status
	Code       string        // "not_found", "validation_error", ... (see the Err* sentinels)
	Message    string        // human text
	Details    []ErrorDetail // the invalid fields, if any
	RequestID  string        // X-Request-ID: quote it in a bug report, the server logs it
	RetryAfter time.Duration // from Retry-After (429 rate_limited, 503), else 0
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mediavault: %d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s: %s", d.Field, d.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.RequestID)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's Code (errors.Is(err, ErrNotFound)).
func (e *Error) Is(target error) bool {
	c, ok := codes[e.Code]
	return ok && c.sentinel == target
}

// errorOf reads an error answer (its body at most 64 KiB) into an *Error.
func errorOf(resp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-ID")}
	var envelope struct {
		Error *struct {
			Code    string        `json:"code"`
			Message string        `json:"message"`
			Details []ErrorDetail `json:"details"`
		} `json:"error"`
		Meta struct {
			RequestID string `json:"request_id"`
		} `json:"meta"`
	}
	if json.Unmarshal(body, &envelope) == nil && envelope.Error != nil && envelope.Error.Code != "" {
		e.Code, e.Message, e.Details = envelope.Error.Code, envelope.Error.Message, envelope.Error.Details
		if e.RequestID == "" {
			e.RequestID = envelope.Meta.RequestID
		}
	} else {
		e.Code = codeOfStatus(resp.StatusCode)
		excerpt := strings.TrimSpace(string(body[:min(len(body), 200)]))
		if excerpt == "" {
			excerpt = "no body"
		}
		e.Message = fmt.Sprintf("%s %s answered %s: %s", resp.Request.Method, resp.Request.URL.Redacted(), resp.Status, excerpt)
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	return e
}

// retryAfter reads Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func retryAfter(value string) time.Duration {
	if value == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(value); err == nil && seconds >= 0 {
		return time.Duration(seconds) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil {
		if wait := time.Until(at); wait > 0 {
			return wait.Round(time.Second)
		}
	}
	return 0
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
