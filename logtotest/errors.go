package logtotest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// oidcError is an OAuth 2.0 / OpenID Connect error as Logto renders it.
type oidcError struct {
	status      int
	code        string // the OAuth error code, e.g. invalid_grant
	description string
	scope       string // insufficient_scope and invalid_scope only
	logtoCode   string // overrides "oidc.<code>", e.g. session.not_found
}

func (e *oidcError) Error() string { return e.code + ": " + e.description }

func newError(status int, code, description string) *oidcError {
	return &oidcError{status: status, code: code, description: description}
}

func invalidRequest(description string) *oidcError {
	return newError(http.StatusBadRequest, "invalid_request", description)
}

func missingParam(name string) *oidcError {
	return invalidRequest("missing required parameter '" + name + "'")
}

// errInvalidGrant is the single invalid_grant Logto exposes: the body never
// says which check failed.
func errInvalidGrant() *oidcError {
	return newError(http.StatusBadRequest, "invalid_grant", "grant request is invalid")
}

func errInvalidTarget() *oidcError {
	return newError(http.StatusBadRequest, "invalid_target", "resource indicator is missing, or unknown")
}

func errClientAuthFailed() *oidcError {
	return newError(http.StatusUnauthorized, "invalid_client", "client authentication failed")
}

func errUnknownClient(id string) *oidcError {
	return newError(http.StatusBadRequest, "invalid_client", "invalid client "+id)
}

// logtoMessages are the English texts of packages/phrases errors/oidc.ts.
// Codes without a text get the provider_error_fallback message.
var logtoMessages = map[string]string{
	"aborted":                   "The end-user aborted interaction.",
	"invalid_token":             "Invalid token provided.",
	"invalid_client_metadata":   "Invalid client metadata provided.",
	"invalid_request":           "Request is invalid.",
	"invalid_grant":             "Grant request is invalid.",
	"invalid_issuer":            "Invalid issuer.",
	"invalid_redirect_uri":      "`redirect_uri` did not match any of the client's registered `redirect_uris`.",
	"access_denied":             "Access denied.",
	"invalid_target":            "Invalid resource indicator.",
	"unsupported_grant_type":    "Unsupported `grant_type` requested.",
	"unsupported_response_mode": "Unsupported `response_mode` requested.",
	"unsupported_response_type": "Unsupported `response_type` requested.",
	"server_error":              "An unknown OIDC error occurred. Please try again later.",
}

// body renders e in Logto's format (koa-oidc-error-handler): code, message,
// error_uri (invalid_grant only), error, error_description, plus scope.
func (e *oidcError) body() map[string]any {
	code := e.logtoCode
	if code == "" {
		code = "oidc." + e.code
	}
	var msg string
	switch {
	case e.logtoCode == "session.not_found":
		msg = "Session not found."
	case e.code == "invalid_scope":
		msg = "Invalid scope: " + e.description + "."
	case e.code == "insufficient_scope":
		msg = "Token missing scope `" + e.scope + "`."
	default:
		var ok bool
		if msg, ok = logtoMessages[e.code]; !ok {
			msg = "An OIDC error occurred: " + code + "."
		}
	}
	b := map[string]any{
		"code":              code,
		"message":           msg,
		"error":             e.code,
		"error_description": e.description,
	}
	if e.code == "invalid_grant" {
		b["error_uri"] = "https://openid.sh/debug/invalid_grant"
	}
	if e.scope != "" {
		b["scope"] = e.scope
	}
	return b
}

// jsonKeyOrder is the order Logto writes error fields in; other keys follow
// in lexical order.
var jsonKeyOrder = []string{"code", "message", "error_uri", "error", "error_description", "scope", "state", "iss"}

// encodeJSON encodes body as a JSON object with the keys in jsonKeyOrder
// first, without HTML escaping (like Node's JSON.stringify).
func encodeJSON(body map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(jsonKeyOrder, k); i >= 0 {
			return i
		}
		return len(jsonKeyOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode appends a newline
		buf.WriteByte(':')
		if err := enc.Encode(body[k]); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// writeJSON writes body with status and Logto's JSON content type.
func writeJSON(w http.ResponseWriter, status int, body map[string]any) {
	b, err := encodeJSON(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"server_error","error_description":"oops! something went wrong"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes e as a Logto error body with Cache-Control: no-store.
func writeError(w http.ResponseWriter, e *oidcError) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, e.body())
}
