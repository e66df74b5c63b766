package logtotest

import (
	"net/http"
	"net/url"
	"time"
)

// Hooks make the provider misbehave on purpose. Every field is optional.
// Each hook runs at the last moment before the response it concerns is
// written (after all validation and state changes), so a test can break a
// response in exactly one way. Hooks run without the provider's lock held,
// so they may call the provider's methods.
type Hooks struct {
	// Discovery edits the discovery document.
	Discovery func(doc map[string]any)
	// JWKS replaces the published keys (JWK maps, current key first).
	JWKS func(keys []map[string]any) []map[string]any
	// AuthResponse edits the parameters of the redirect to redirect_uri:
	// code, state and iss on success; error, error_description, state and
	// iss on a redirected error.
	AuthResponse func(q url.Values)
	// IDTokenHeader and IDTokenClaims edit every ID token issued by the
	// token endpoint before it is signed.
	IDTokenHeader func(h map[string]any)
	IDTokenClaims func(c map[string]any)
	// TokenResponse edits the status and JSON body of every token endpoint
	// response, successes and errors alike.
	TokenResponse func(status *int, body map[string]any)
	// TokenResponseFor is TokenResponse with the request's grant_type
	// ("authorization_code", "refresh_token", or whatever was sent, "" when
	// missing), so a test can break only refresh responses. It runs after
	// TokenResponse.
	TokenResponseFor func(grantType string, status *int, body map[string]any)
	// RawTokenResponse may write the token response itself (for truncated
	// JSON or an HTML 500); when it returns true the provider writes nothing
	// more. The request has already been processed (a code is consumed).
	RawTokenResponse func(w http.ResponseWriter) bool
	// Delay returns how long to wait before answering a request to path
	// (the request path, including any URL path prefix), for every endpoint
	// and grant, e.g. /oidc/token for code exchanges and refreshes alike. The wait ends
	// early, with nothing written, when the request's context is done.
	Delay func(path string) time.Duration
	// Userinfo edits a successful /oidc/me body.
	Userinfo func(body map[string]any)
}

// SetHooks replaces all hooks. It is safe to call while serving.
func (p *Provider) SetHooks(h Hooks) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hookSet = h
}

func (p *Provider) hooks() Hooks {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hookSet
}
