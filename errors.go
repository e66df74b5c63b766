package logto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"unicode"
)

// Sentinel errors. Every error returned by this package matches exactly one of
// them with [errors.Is]; the typed errors below carry the details.
var (
	// ErrInvalidConfig: [New] was given a Config it cannot work with. See [ConfigError].
	ErrInvalidConfig = errors.New("logto: invalid config")
	// ErrInvalidCallback: the browser delivered a callback that does not belong to a
	// live sign-in transaction (missing or unknown state, replay, duplicate
	// parameters, issuer mix-up) or that is oversized or malformed. HTTP 400.
	// See [CallbackError].
	ErrInvalidCallback = errors.New("logto: invalid callback")
	// ErrAuthorization: Logto answered the authorization request with an OAuth error
	// (for example the user cancelled). HTTP 401. See [AuthorizationError].
	ErrAuthorization = errors.New("logto: authorization failed")
	// ErrProviderResponse: Logto (or something pretending to be it) answered a
	// back-channel request with something unusable: an HTTP error, bad JSON, an ID
	// token that fails verification, invalid_grant. HTTP 502. See [ProviderError].
	ErrProviderResponse = errors.New("logto: invalid provider response")
	// ErrProviderUnavailable: Logto could not be reached. HTTP 503.
	ErrProviderUnavailable = errors.New("logto: provider unavailable")
	// ErrProviderTimeout: Logto did not answer in time. HTTP 504.
	ErrProviderTimeout = errors.New("logto: provider timeout")
	// ErrNotAuthenticated: the request carries no usable session. HTTP 401.
	ErrNotAuthenticated = errors.New("logto: not authenticated")
	// ErrCSRF: a state-changing request (sign-out) came from another origin. HTTP 403.
	ErrCSRF = errors.New("logto: cross-origin request rejected")
	// ErrMethodNotAllowed: for example GET on the sign-out endpoint. HTTP 405.
	ErrMethodNotAllowed = errors.New("logto: method not allowed")
	// ErrSessionTooLarge: the session does not fit in the cookie budget even when
	// split into chunks. HTTP 500: the app asks for too many tokens.
	ErrSessionTooLarge = errors.New("logto: session too large for cookies")
	// ErrInvalidSignInOptions: [SignInOptions] carry a value Logto would reject or
	// that would override a protocol parameter. HTTP 500 (a programming error).
	ErrInvalidSignInOptions = errors.New("logto: invalid sign-in options")
	// ErrAccessDenied: Logto refused a token for an organization (the user is
	// not a member, or the session lacks the organizations scope). HTTP 403.
	// See [ProviderError].Code: "access_denied" or "insufficient_scope".
	ErrAccessDenied = errors.New("logto: access denied")
	// ErrSessionStoreUnavailable: [Config.SessionStore] could not be read.
	// HTTP 503: the user is not signed out, the app cannot tell for now.
	ErrSessionStoreUnavailable = errors.New("logto: session store unavailable")
	// ErrNoRefreshToken: the session has no refresh token, so no access token
	// can be obtained or renewed. Logto issues refresh tokens only for
	// offline_access with prompt=consent (the defaults). HTTP 401.
	ErrNoRefreshToken = errors.New("logto: no refresh token")
	// ErrInvalidResource: an access token was asked for a resource that is not
	// in [Config.Resources]; Logto grants only resources requested at sign-in.
	// HTTP 500 (a programming error).
	ErrInvalidResource = errors.New("logto: resource not configured")
)

// ConfigError names the [Config] field that [New] rejected.
type ConfigError struct {
	Field  string // e.g. "CookieSecret"
	Reason string
}

// Error names the field and the reason.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("logto: invalid config: %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Reason is a fine-grained, stable cause of a rejected callback or provider
// response, in the vocabulary of conformance test suites.
type Reason string

// Callback reasons (HTTP 400).
const (
	ReasonStateMissing       Reason = "state_missing"
	ReasonStateMismatch      Reason = "state_mismatch" // unknown, expired, replayed or tampered transaction
	ReasonDuplicateParameter Reason = "duplicate_parameter"
	ReasonIssuerMissing      Reason = "iss_missing"
	ReasonIssuerMismatch     Reason = "iss_mismatch"
	ReasonCodeMissing        Reason = "code_missing"
	// ReasonParameterTooLarge: the callback's query, or one of its OAuth
	// parameters, is longer than any Logto sends; refused before any work.
	ReasonParameterTooLarge Reason = "parameter_too_large"
	// ReasonMalformedQuery: the callback's query does not parse (for
	// example a bad percent-escape); refused before any work.
	ReasonMalformedQuery Reason = "malformed_query"
	// ReasonBrowserMismatch: the transaction was started in another browser
	// (a planted transaction cookie), or this browser lost its binding
	// cookie during the sign-in.
	ReasonBrowserMismatch Reason = "browser_mismatch"
)

// Provider response reasons (HTTP 502 unless the kind says otherwise).
const (
	ReasonDiscovery       Reason = "discovery"
	ReasonHTTPStatus      Reason = "http_status"
	ReasonOAuthError      Reason = "oauth_error" // the provider answered with an OAuth error such as invalid_grant
	ReasonInvalidJSON     Reason = "invalid_json"
	ReasonMissingIDToken  Reason = "missing_id_token"
	ReasonTokenType       Reason = "token_type"
	ReasonSignature       Reason = "signature" // bad signature, unknown kid, disallowed alg
	ReasonIssuer          Reason = "iss"
	ReasonAudience        Reason = "aud"
	ReasonAuthorizedParty Reason = "azp"
	ReasonSubject         Reason = "sub"
	ReasonExpired         Reason = "exp"
	ReasonIssuedAt        Reason = "iat"
	ReasonNotBefore       Reason = "nbf"
	ReasonNonce           Reason = "nonce"
	ReasonAccessTokenHash Reason = "at_hash" // the ID token's at_hash does not match the access token that came with it
	ReasonNetwork         Reason = "network"
	ReasonIdentityChange  Reason = "identity_change" // a refreshed ID token changes sub, aud, azp or auth_time (OpenID Connect Core 12.2)
	ReasonTimeout         Reason = "timeout"
)

// CallbackError is an invalid callback request. It matches [ErrInvalidCallback].
type CallbackError struct {
	Reason Reason
}

// Error names the reason; it never holds the callback's values.
func (e *CallbackError) Error() string {
	return "logto: invalid callback: " + string(e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidCallback) true.
func (e *CallbackError) Unwrap() error { return ErrInvalidCallback }

// AuthorizationError is an OAuth error response delivered to the callback with a
// valid state (RFC 6749 section 4.1.2.1), e.g. Code "access_denied". Description
// and URI come from the browser: treat them as untrusted text. It matches
// [ErrAuthorization].
type AuthorizationError struct {
	Code        string
	Description string
	URI         string
}

// Error names the OAuth error code and its (sanitized) description.
func (e *AuthorizationError) Error() string {
	s := "logto: authorization failed: " + sanitize(e.Code, 64)
	if e.Description != "" {
		s += ": " + sanitize(e.Description, 200)
	}
	return s
}

// Unwrap makes errors.Is(err, ErrAuthorization) true.
func (e *AuthorizationError) Unwrap() error { return ErrAuthorization }

// ProviderError describes a failed back-channel exchange with Logto. It matches
// [ErrProviderTimeout] for timeouts (and a provider 504), [ErrProviderUnavailable]
// for network failures, a provider 503 and any discovery failure (an unusable
// discovery document means there is no provider to talk to), [ErrAccessDenied]
// for Logto's 403 organization errors, and [ErrProviderResponse] otherwise. It
// unwraps to the underlying cause.
//
// Its fields never hold a token, code or secret; Code and Description are the
// provider's OAuth error and error_description (Logto's fixed texts, e.g.
// "invalid_grant" / "grant request is invalid").
type ProviderError struct {
	Stage       string // "discovery", "jwks", "token", "id_token", "userinfo", "revocation"
	Reason      Reason
	StatusCode  int    // HTTP status of the provider's answer, 0 if none
	Code        string // OAuth "error", e.g. "invalid_grant"
	Description string // OAuth "error_description"
	Err         error  // underlying cause, may be nil
}

// Error describes the failure by stage, reason, status and OAuth error,
// never with a token, code or secret.
func (e *ProviderError) Error() string {
	var b strings.Builder
	b.WriteString("logto: provider ")
	b.WriteString(e.Stage)
	b.WriteString(": ")
	b.WriteString(string(e.Reason))
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		b.WriteString(": " + sanitize(e.Code, 64))
	}
	if e.Description != "" {
		b.WriteString(": " + sanitize(e.Description, 200))
	}
	if e.Err != nil {
		b.WriteString(": " + sanitize(e.Err.Error(), 300))
	}
	return b.String()
}

// Unwrap returns the kind sentinel and the cause.
func (e *ProviderError) Unwrap() []error {
	kind := ErrProviderResponse
	switch {
	case e.Reason == ReasonTimeout, e.StatusCode == http.StatusGatewayTimeout:
		kind = ErrProviderTimeout
	case e.StatusCode == http.StatusForbidden && (e.Code == "access_denied" || e.Code == "insufficient_scope"):
		kind = ErrAccessDenied
	case e.Reason == ReasonNetwork, e.Stage == "discovery", e.StatusCode == http.StatusServiceUnavailable:
		// Without usable metadata there is no provider to talk to: fail closed
		// as unavailable, whatever the discovery document got wrong.
		kind = ErrProviderUnavailable
	}
	if e.Err == nil {
		return []error{kind}
	}
	return []error{kind, e.Err}
}

// providerFailure classifies a transport-level error from stage into a
// *ProviderError (timeout, unreachable) or wraps it as a bad response.
func providerFailure(stage string, err error, fallback Reason) *ProviderError {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &ProviderError{Stage: stage, Reason: ReasonTimeout, Err: err}
	case isNetworkError(err):
		return &ProviderError{Stage: stage, Reason: ReasonNetwork, Err: err}
	}
	return &ProviderError{Stage: stage, Reason: fallback, Err: err}
}

func isNetworkError(err error) bool {
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &oe) || errors.As(err, &de)
}

// StatusCode maps an error from this package to the HTTP status a handler
// should answer with, following the table in the package documentation.
// A user-caused failure is never a 5xx.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrDeviceCodeExpired):
		return http.StatusUnauthorized
	case errors.Is(err, ErrInvalidCallback), errors.Is(err, ErrInvalidLogoutToken):
		return http.StatusBadRequest
	case errors.Is(err, ErrAuthorization), errors.Is(err, ErrNotAuthenticated), errors.Is(err, ErrInvalidToken), errors.Is(err, ErrNoRefreshToken):
		return http.StatusUnauthorized
	case errors.Is(err, ErrInsufficientScope):
		return http.StatusForbidden
	case errors.Is(err, ErrCSRF), errors.Is(err, ErrAccessDenied):
		return http.StatusForbidden
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrProviderTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, ErrProviderUnavailable), errors.Is(err, ErrSessionStoreUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrProviderResponse):
		return http.StatusBadGateway
	case errors.Is(err, context.Canceled):
		return 499 // client went away; nobody reads this status
	}
	return http.StatusInternalServerError
}

// sanitize makes untrusted text safe to log or show: control characters
// (CR/LF included) become spaces and the result is capped at max runes.
func sanitize(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
