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
		"TrashedMediaOut":    mediavault.TrashedMedia{},
		"MediaVersionOut":    mediavault.MediaVersion{},
		"UserOut":            mediavault.User{},
		"TokenPair":          mediavault.TokenPair{},
		"Health":             mediavault.Health{},
		"CollectionOut":      mediavault.Collection{},
		"ShareOut":           mediavault.Share{},
		"SignedUploadOut":    mediavault.SignedUpload{},
		"WebhookOut":         mediavault.Webhook{},
		"WebhookCreated":     mediavault.WebhookCreated{},
		"DeliveryOut":        mediavault.Delivery{},
		"MediaProcessingOut": mediavault.MediaProcessing{},
		"VariantOut":         mediavault.Variant{},
		"Pagination":         mediavault.Pagination{},
		"ApiKeyOut":          mediavault.APIKey{},
		"ApiKeyCreated":      mediavault.APIKeyCreated{},
		"UsageOut":           mediavault.Usage{},
		"AdminUserOut":       mediavault.AdminUser{},
		"AuditEventOut":      mediavault.AuditEvent{},
	}
	// Requests: the fields a Go value sends with every field given.
	on, all := true, []string{"x"}
	requests := map[string]interface{}{
		"RegisterIn": mediavault.Registration{Email: "a@b.co", Password: "password", DisplayName: "x"},
		"UserUpdate": mediavault.UserUpdate{DisplayName: mediavault.Set("x"), Email: "a@b.co", Password: "password", CurrentPassword: "x"},
		"MediaUpdate": mediavault.MediaUpdate{
			Title: mediavault.Set("x"), Description: mediavault.Null[string](), Tags: mediavault.Set(all),
			Metadata: map[string]interface{}{"k": "v"},
		},
		"ShareCreate": mediavault.ShareCreate{
			MediaID: "x", CollectionID: "x", ExpiresIn: time.Hour, Password: "password", AllowDownload: &on,
			AllowUpload: true,
		},
		"SignedUploadCreate": mediavault.SignedUploadCreate{ExpiresIn: time.Hour, MaxSize: 1, CollectionID: "x"},
		"WebhookCreate":      mediavault.WebhookCreate{URL: "x", Events: all, Description: "x"},
		"WebhookUpdate":      mediavault.WebhookUpdate{URL: "x", Events: all, Description: mediavault.Set("x"), Active: &on},
		"AdminUserUpdate":    mediavault.AdminUserUpdate{Disabled: &on, Role: "user", QuotaBytes: mediavault.Set[int64](1)},
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

// endpoints maps every operation of the HTTP API to the Client method that calls it.
var endpoints = map[string]string{
	"POST /auth/register":                                  "Register",
	"POST /auth/login":                                     "Login",
	"POST /auth/refresh":                                   "Refresh",
	"POST /auth/logout":                                    "Logout",
	"GET /health":                                          "Health",
	"GET /users/me":                                        "Me",
	"PATCH /users/me":                                      "UpdateMe",
	"POST /users/me/api-keys":                              "CreateAPIKey",
	"GET /users/me/api-keys":                               "ListAPIKeys",
	"DELETE /users/me/api-keys/{key_id}":                   "DeleteAPIKey",
	"POST /media/upload":                                   "Upload",
	"POST /uploads":                                        "UploadResumable",
	"PATCH /uploads/{upload_id}":                           "UploadResumable",
	"DELETE /uploads/{upload_id}":                          "DeleteUpload",
	"POST /uploads/signed":                                 "SignUpload",
	"POST /uploads/signed/{token}":                         "UploadSigned",
	"POST /s/{token}/upload":                               "UploadToShare",
	"GET /media":                                           "ListMedia",
	"GET /media/{media_id}":                                "GetMedia",
	"PATCH /media/{media_id}":                              "UpdateMedia",
	"DELETE /media/{media_id}":                             "DeleteMedia",
	"GET /media/{media_id}/content":                        "OpenContent",
	"GET /media/{media_id}/metadata":                       "GetMetadata",
	"POST /media/{media_id}/reprocess":                     "Reprocess",
	"PUT /media/{media_id}/content":                        "ReplaceContent",
	"GET /media/{media_id}/versions":                       "ListVersions",
	"GET /media/{media_id}/versions/{version}/content":     "OpenVersion",
	"POST /media/{media_id}/versions/{version}/restore":    "RestoreVersion",
	"GET /trash":                                           "ListTrash",
	"POST /trash/{media_id}/restore":                       "RestoreMedia",
	"DELETE /trash/{media_id}":                             "PurgeMedia",
	"DELETE /trash":                                        "EmptyTrash",
	"GET /media/{media_id}/thumbnail":                      "OpenThumbnail",
	"GET /search":                                          "Search",
	"POST /collections":                                    "CreateCollection",
	"GET /collections":                                     "ListCollections",
	"GET /collections/{collection_id}":                     "GetCollection",
	"PATCH /collections/{collection_id}":                   "UpdateCollection",
	"DELETE /collections/{collection_id}":                  "DeleteCollection",
	"POST /collections/{collection_id}/media":              "AddToCollection",
	"GET /collections/{collection_id}/media":               "ListCollectionMedia",
	"DELETE /collections/{collection_id}/media/{media_id}": "RemoveFromCollection",
	"POST /shares":                                         "CreateShare",
	"GET /shares":                                          "ListShares",
	"DELETE /shares/{share_id}":                            "DeleteShare",
	"GET /s/{token}":                                       "OpenShare",
	"GET /s/{token}/content":                               "OpenShared",
	"GET /s/{token}/media/{media_id}/content":              "OpenShared",
	"POST /webhooks":                                       "CreateWebhook",
	"GET /webhooks":                                        "ListWebhooks",
	"GET /webhooks/{webhook_id}":                           "GetWebhook",
	"PATCH /webhooks/{webhook_id}":                         "UpdateWebhook",
	"DELETE /webhooks/{webhook_id}":                        "DeleteWebhook",
	"GET /webhooks/{webhook_id}/deliveries":                "ListDeliveries",
	"GET /users/me/usage":                                  "Usage",
	"GET /admin/users":                                     "ListUsers",
	"GET /admin/users/{user_id}":                           "GetUser",
	"PATCH /admin/users/{user_id}":                         "UpdateUser",
	"GET /admin/audit":                                     "ListAuditEvents",
}

// TestEveryEndpointHasAMethod fails when the server's OpenAPI document lists an operation (HEAD aside) that no
// Client method calls.
func TestEveryEndpointHasAMethod(t *testing.T) {
	resp, err := http.Get(server.URL + "/api/v1/schema/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var document struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&document); err != nil {
		t.Fatal(err)
	}
	client := reflect.TypeOf(&mediavault.Client{})
	seen := 0
	for path, item := range document.Paths {
		for method := range item {
			switch method {
			case "get", "post", "put", "patch", "delete":
			default:
				continue
			}
			operation := strings.ToUpper(method) + " " + strings.TrimPrefix(path, "/api/v1")
			name, ok := endpoints[operation]
			if !ok {
				t.Errorf("%s: no Client method calls it", operation)
				continue
			}
			if _, ok := client.MethodByName(name); !ok {
				t.Errorf("%s: Client has no method %s", operation, name)
			}
			seen++
		}
	}
	if seen != len(endpoints) {
		t.Errorf("the document lists %d of the %d operations the SDK calls", seen, len(endpoints))
	}
}
