package logtotest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/logto-go/logto/logtotest"
)

// ExampleDefaultM2MApp registers a Machine-to-machine app whose role grants
// one of the API's scopes and asks for a token with the client credentials
// grant: Logto keeps only the requested scopes the app's roles grant.
func ExampleDefaultM2MApp() {
	const api = "https://api.example.com"
	app := logtotest.DefaultM2MApp()
	app.Roles = []string{"reporting"}
	p, _ := logtotest.New(logtotest.Options{
		URL:       "http://localhost:3001",
		Apps:      []logtotest.App{app},
		Resources: []logtotest.Resource{{Indicator: api, Scopes: []string{"read:items", "write:items"}}},
		Roles:     []logtotest.Role{{Name: "reporting", Scopes: map[string][]string{api: {"read:items"}}}},
	})

	form := url.Values{"grant_type": {"client_credentials"}, "resource": {api}, "scope": {"read:items write:items"}}
	req := httptest.NewRequest(http.MethodPost, "http://localhost:3001/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(logtotest.DefaultM2MAppID, logtotest.DefaultM2MAppSecret)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	fmt.Println(rec.Code, body["token_type"], body["expires_in"], body["scope"])

	// An organization the app is not associated with.
	form = url.Values{"grant_type": {"client_credentials"}, "organization_id": {"acme"}}
	req = httptest.NewRequest(http.MethodPost, "http://localhost:3001/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(logtotest.DefaultM2MAppID, logtotest.DefaultM2MAppSecret)
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 Bearer 3600 read:items
	// 403 {"code":"oidc.access_denied","message":"Access denied.","error":"access_denied","error_description":"app has not associated with the organization"}
}
