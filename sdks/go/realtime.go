package mediavault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Realtime channels.
const (
	ChannelMedia       = "media_updates"
	ChannelCollections = "collection_updates"
)

// closeUnauthorized is the close code of a socket whose authentication failed or whose login ended.
const closeUnauthorized = 4401

// Event is a change pushed over the realtime socket: Event is its name ("media.updated", ...), ResourceID the
// media or collection it is about, Data its data (as in the webhook payload), ID the event id (the webhook-id of
// its webhook deliveries, for de-duplication).
type Event struct {
	ID         string          `json:"id"`
	Channel    string          `json:"channel"`
	ResourceID string          `json:"resource_id"`
	Event      string          `json:"event"`
	Data       json.RawMessage `json:"data"`
	Timestamp  time.Time       `json:"timestamp"`
}

// frame is any message the server sends.
type frame struct {
	Type  string `json:"type"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Event
}

// Realtime is a connected, authenticated realtime socket (Client.Realtime). Subscribe and Unsubscribe may be
// called from any goroutine; Next from one.
type Realtime struct {
	conn    *websocket.Conn
	events  chan Event
	replies chan frame
	done    chan struct{} // closed when the socket is closed; err says why
	err     error

	writeMu   sync.Mutex // one writer at a time (gorilla/websocket's rule)
	requestMu sync.Mutex // one request awaiting its reply at a time (replies come in order)
}

// Realtime connects the realtime socket (WebSocket, default ws(s)://<host>/realtime) and authenticates it with
// the client's API key or access token (refreshed first when it is expiring). The socket lives until Close, or
// until the login ends (logout, expiry of the access token: call Authenticate with a fresh one before then).
//
// Errors: ErrUnauthorized (a bad, expired or revoked credential).
func (c *Client) Realtime(ctx context.Context) (*Realtime, error) {
	header := http.Header{"User-Agent": {c.userAgent}}
	dialer := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 30 * time.Second}
	conn, resp, err := dialer.DialContext(ctx, c.realtime, header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("mediavault: realtime socket %s: %s: %w", c.realtime, resp.Status, err)
		}
		return nil, fmt.Errorf("mediavault: realtime socket %s: %w", c.realtime, err)
	}
	rt := &Realtime{conn: conn, events: make(chan Event, 64), replies: make(chan frame, 1), done: make(chan struct{})}
	go rt.read()
	if err := rt.Authenticate(ctx, c); err != nil {
		rt.Close()
		return nil, err
	}
	return rt, nil
}

// Authenticate sends the client's current credential again (an access token refreshed when expiring), so the
// socket lives until the new token expires. The credential must be the same user's.
func (rt *Realtime) Authenticate(ctx context.Context, c *Client) error {
	if err := c.refreshIfDue(ctx); err != nil {
		return err
	}
	s := c.creds.snapshot()
	token := s.apiKey
	if token == "" {
		token = s.token
	}
	if token == "" {
		return errNoLogin()
	}
	_, err := rt.request(ctx, map[string]interface{}{"type": "auth", "token": token}, "auth_ok")
	return err
}

// Subscribe asks for the events of a channel (ChannelMedia, ChannelCollections): of one media item or
// collection (resourceID), or of all the caller's ("", new ones included).
//
// Errors: ErrNotFound (someone else's, unknown or malformed id).
func (rt *Realtime) Subscribe(ctx context.Context, channel, resourceID string) error {
	_, err := rt.request(ctx, subscription("subscribe", channel, resourceID), "subscribed")
	return err
}

// Unsubscribe stops a subscription made with the same channel and resourceID (idempotent).
func (rt *Realtime) Unsubscribe(ctx context.Context, channel, resourceID string) error {
	_, err := rt.request(ctx, subscription("unsubscribe", channel, resourceID), "unsubscribed")
	return err
}

func subscription(kind, channel, resourceID string) map[string]interface{} {
	message := map[string]interface{}{"type": kind, "channel": channel}
	if resourceID != "" {
		message["resource_id"] = resourceID
	}
	return message
}

// Next returns the next event, waiting for one until ctx is done or the socket closes.
//
// Errors: ctx's error, ErrUnauthorized (the server closed the socket because the login ended), or the error
// that closed the socket.
func (rt *Realtime) Next(ctx context.Context) (*Event, error) {
	select {
	case event := <-rt.events:
		return &event, nil
	default:
	}
	select {
	case event := <-rt.events:
		return &event, nil
	case <-rt.done:
		return nil, rt.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close closes the socket.
func (rt *Realtime) Close() error {
	rt.writeMu.Lock()
	_ = rt.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	rt.writeMu.Unlock()
	return rt.conn.Close()
}

// request sends one message and waits for its reply: a frame of type want, or an error frame.
func (rt *Realtime) request(ctx context.Context, message map[string]interface{}, want string) (*frame, error) {
	rt.requestMu.Lock()
	defer rt.requestMu.Unlock()
	select {
	case <-rt.replies: // a late reply to a request given up on
	default:
	}
	rt.writeMu.Lock()
	deadline, _ := ctx.Deadline()
	_ = rt.conn.SetWriteDeadline(deadline)
	err := rt.conn.WriteJSON(message)
	rt.writeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mediavault: realtime socket: %w", err)
	}
	select {
	case reply := <-rt.replies:
		if reply.Type == "error" && reply.Error != nil {
			return nil, socketError(reply.Error.Code, reply.Error.Message)
		}
		if reply.Type != want {
			return nil, fmt.Errorf("mediavault: realtime socket answered %q to %q", reply.Type, message["type"])
		}
		return &reply, nil
	case <-rt.done:
		return nil, rt.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// queue keeps an event for Next; when 64 are waiting, the oldest is dropped (as the server drops the oldest of
// a slow socket's backlog): re-read with the HTTP API when exactness matters.
func (rt *Realtime) queue(event Event) {
	for {
		select {
		case rt.events <- event:
			return
		default:
			select {
			case <-rt.events:
			default:
			}
		}
	}
}

// read receives every frame: events go to Next, other frames are replies to requests. It ends, closing done,
// when the socket closes.
func (rt *Realtime) read() {
	var lastError *Error // an error frame the server sent before closing (4401's reason)
	for {
		var f frame
		err := rt.conn.ReadJSON(&f)
		if err != nil {
			rt.err = closeReason(err, lastError)
			close(rt.done)
			return
		}
		switch f.Type {
		case "event":
			rt.queue(f.Event)
		default:
			if f.Type == "error" && f.Error != nil {
				lastError = socketError(f.Error.Code, f.Error.Message)
			}
			select {
			case rt.replies <- f:
			default: // nobody asked (an unsolicited error before a close): keep only the reason
			}
		}
	}
}

func closeReason(err error, last *Error) error {
	var closed *websocket.CloseError
	if errors.As(err, &closed) && closed.Code == closeUnauthorized {
		message := closed.Text
		if last != nil && last.Message != "" {
			message = last.Message
		}
		return socketError("unauthorized", message)
	}
	if errors.As(err, &closed) && closed.Code == websocket.CloseNormalClosure {
		return fmt.Errorf("mediavault: realtime socket closed: %w", err)
	}
	return fmt.Errorf("mediavault: realtime socket: %w", err)
}

// socketError is the *Error of an error frame (StatusCode: the status of its code in the HTTP API).
func socketError(code, message string) *Error {
	return &Error{StatusCode: codes[code].status, Code: code, Message: message}
}
