package mediavault_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	mediavault "github.com/wronai/mediavault-go"
)

// TestTypesMatchTheOpenAPIDocument compares the SDK's request and answer types with the schemas of the server's
// OpenAPI document, field by field, so neither side can gain, lose or rename a field unnoticed.
func TestTypesMatchTheOpenAPIDocument(t *testing.T) {
	resp, err := http.Get(server.URL + "/api/v1/schema/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var document struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&document); err != nil {
		t.Fatal(err)
	}
	// Answers: the fields a Go type decodes (its json tags).
	answers := map[string]interface{}{
		"MediaOut":           mediavault.Media{},
		"UserOut":            mediavault.User{},
		"TokenPair":          mediavault.TokenPair{},
		"Health":             mediavault.Health{},
		"CollectionOut":      mediavault.Collection{},
		"ShareOut":           mediavault.Share{},
		"WebhookOut":         mediavault.Webhook{},
		"WebhookCreated":     mediavault.WebhookCreated{},
		"DeliveryOut":        mediavault.Delivery{},
		"MediaProcessingOut": mediavault.MediaProcessing{},
		"VariantOut":         mediavault.Variant{},
		"Pagination":         mediavault.Pagination{},
		"ApiKeyOut":          mediavault.APIKey{},
		"ApiKeyCreated":      mediavault.APIKeyCreated{},
	}
	// Requests: the fields a Go value sends with every field given.
	on, all := true, []string{"x"}
	requests := map[string]interface{}{
		"RegisterIn": mediavault.Registration{Email: "a@b.co", Password: "password", DisplayName: "x"},
		"UserUpdate": mediavault.UserUpdate{DisplayName: mediavault.Set("x"), Email: "a@b.co", Password: "password", CurrentPassword: "x"},
		"MediaUpdate": mediavault.MediaUpdate{
			Title: mediavault.Set("x"), Description: mediavault.Null[string](), Tags: mediavault.Set(all),
		},
		"ShareCreate": mediavault.ShareCreate{
			MediaID: "x", CollectionID: "x", ExpiresIn: time.Hour, Password: "password", AllowDownload: &on,
		},
		"WebhookCreate": mediavault.WebhookCreate{URL: "x", Events: all, Description: "x"},
		"WebhookUpdate": mediavault.WebhookUpdate{URL: "x", Events: all, Description: mediavault.Set("x"), Active: &on},
	}
	for name, value := range answers {
		checkFields(t, name, document.Components.Schemas[name].Properties, jsonTags(reflect.TypeOf(value)))
	}
	for name, value := range requests {
		encoded, err := json.Marshal(value)
		if err != nil {
			t.Fatal(err)
		}
		var sent map[string]interface{}
		if err := json.Unmarshal(encoded, &sent); err != nil {
			t.Fatal(err)
		}
		fields := map[string]bool{}
		for field := range sent {
			fields[field] = true
		}
		checkFields(t, name, document.Components.Schemas[name].Properties, fields)
	}
}

func checkFields(t *testing.T, schema string, properties map[string]json.RawMessage, fields map[string]bool) {
	t.Helper()
	if properties == nil {
		t.Errorf("schema %s is not in the OpenAPI document (renamed?): update openapi_test.go", schema)
		return
	}
	var missing, extra []string
	for property := range properties {
		if !fields[property] {
			missing = append(missing, property)
		}
	}
	for field := range fields {
		if _, ok := properties[field]; !ok {
			extra = append(extra, field)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("schema %s: fields the Go type lacks %v, fields the server does not have %v", schema, missing, extra)
	}
}

// jsonTags returns the JSON field names of a struct type, embedded structs' included.
func jsonTags(typ reflect.Type) map[string]bool {
	fields := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		field := typ.Field(i)
		if field.Anonymous {
			for name := range jsonTags(field.Type) {
				fields[name] = true
			}
			continue
		}
		if name := strings.Split(field.Tag.Get("json"), ",")[0]; name != "" && name != "-" {
			fields[name] = true
		}
	}
	return fields
}
