package logto

import (
	"encoding/json"
	"net/http"
)

// WriteJSONError writes the JSON error body every JSON answer of this
// package has, so an app's own API errors can look the same:
//
//	HTTP/1.1 401 Unauthorized
//	Content-Type: application/json
//	Cache-Control: no-store
//	X-Content-Type-Options: nosniff
//
//	{"error":"not_authenticated","error_description":"sign in required"}
//
// code is a short machine-readable word (RFC 6749 5.2 style) and description
// a sentence for developers; neither may hold a token or secret.
//
// The SDK's own JSON answers:
//
//	401 not_authenticated     RequireAuth (non-page requests) and RequireAuthJSON: no usable session
//	401 unauthorized          ResourceServer: no access token (with WWW-Authenticate: Bearer realm=...)
//	401 invalid_token         ResourceServer: a bad, expired or foreign token, or one of a kind the route does not accept
//	403 insufficient_scope    ResourceServer: a valid token without a required scope, of the wrong kind, or for another organization
//	503, 504 temporarily_unavailable  ResourceServer: Logto's keys cannot be fetched
//	400 invalid_request       back-channel logout: a rejected logout token
func WriteJSONError(w http.ResponseWriter, status int, code, description string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
