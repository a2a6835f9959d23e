package mediavault_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	mediavault "github.com/wronai/mediavault-go"
)

// delivery is one webhook request a receiver got.
type delivery struct {
	header http.Header
	body   []byte
}

// verify checks a delivery's Standard Webhooks signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">.
func verify(secret string, d delivery) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(d.header.Get("webhook-id") + "." + d.header.Get("webhook-timestamp") + "." + string(d.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, signature := range strings.Fields(d.header.Get("webhook-signature")) {
		if hmac.Equal([]byte(signature), []byte(want)) {
			return true
		}
	}
	return false
}

func TestWebhooksDeliverSignedEvents(t *testing.T) {
	ctx := ctxOf(t)
	c, _ := loggedIn(t)
	received := make(chan delivery, 16)
	receiver := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- delivery{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	})}
	listener := listen(t)
	go func() { _ = receiver.Serve(listener) }()
	t.Cleanup(func() { _ = receiver.Close() })

	url := "http://" + listener.Addr().String() + "/hook"
	hook, err := c.CreateWebhook(ctx, mediavault.WebhookCreate{URL: url, Events: []string{mediavault.EventMediaUploaded}, Description: "ci"})
	if err != nil || !strings.HasPrefix(hook.Secret, "whsec_") || !hook.Active || hook.URL != url || *hook.Description != "ci" {
		t.Fatalf("create: %+v, %v", hook, err)
	}
	media, err := c.Upload(ctx, strings.NewReader("an event"), mediavault.UploadOptions{Filename: "event.txt"})
	if err != nil {
		t.Fatal(err)
	}
	var got delivery
	select {
	case got = <-received:
	case <-ctx.Done():
		t.Fatal("no delivery")
	}
	var payload struct {
		ID    string `json:"id"`
		Event string `json:"event"`
		Data  struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got.body, &payload); err != nil || payload.Event != mediavault.EventMediaUploaded ||
		payload.Data.ID != media.ID || payload.ID != got.header.Get("webhook-id") || !verify(hook.Secret, got) {
		t.Fatalf("delivery: %s %v, %v", got.body, got.header, err)
	}
	// The attempt is logged once the worker has recorded the receiver's answer.
	var attempts []mediavault.Delivery
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		attempts = attempts[:0]
		it := c.IterDeliveries(ctx, hook.ID, mediavault.ListOptions{})
		for it.Next() {
			attempts = append(attempts, it.Item())
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		if len(attempts) == 1 && attempts[0].Status != "pending" {
			break
		}
	}
	if len(attempts) != 1 || attempts[0].Status != "succeeded" || attempts[0].EventID != payload.ID ||
		*attempts[0].ResponseStatus != 204 || attempts[0].Attempt != 1 {
		t.Fatalf("deliveries: %+v", attempts)
	}

	updated, err := c.UpdateWebhook(ctx, hook.ID, mediavault.WebhookUpdate{
		Active: mediavault.Bool(false), Description: mediavault.Null[string](), Events: []string{mediavault.EventMediaDeleted},
	})
	if err != nil || updated.Active || updated.Description != nil || strings.Join(updated.Events, ",") != "media.deleted" {
		t.Fatalf("update: %+v, %v", updated, err)
	}
	if got, err := c.GetWebhook(ctx, hook.ID); err != nil || got.Active || got.DisabledReason == nil {
		t.Fatalf("get: %+v, %v", got, err)
	}
	page, err := c.ListWebhooks(ctx, mediavault.ListOptions{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != hook.ID {
		t.Fatalf("list: %+v, %v", page, err)
	}
	_, err = c.CreateWebhook(ctx, mediavault.WebhookCreate{URL: url, Events: []string{"media.exploded"}})
	var vaultErr *mediavault.Error
	if !errors.As(err, &vaultErr) || !errors.Is(err, mediavault.ErrValidation) || vaultErr.Details[0].Field != "events" {
		t.Fatalf("unknown event: %v", err)
	}
	if err := c.DeleteWebhook(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	count := 0
	for it := c.IterWebhooks(ctx, mediavault.ListOptions{}); it.Next(); {
		count++
	}
	if count != 0 {
		t.Fatalf("after delete: %d webhooks", count)
	}
}
