package logtotest

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// authenticateClient authenticates the client of a token or revocation
// request like oidc-provider's client_auth with Logto's registrations:
// Traditional apps accept client_secret_basic (credentials form-url-decoded,
// RFC 6749 appendix B) and client_secret_post; public apps send only
// client_id. See logto-server.md section 6 for the table of outcomes.
func (p *Provider) authenticateClient(r *http.Request, form url.Values) (App, *oidcError) {
	var basicID, basicSecret string
	hasBasic := false
	if h := r.Header.Get("Authorization"); h != "" {
		malformed := invalidRequest("invalid authorization header value format")
		scheme, cred, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "basic") || cred == "" || strings.Contains(cred, " ") {
			return App{}, malformed
		}
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return App{}, malformed
		}
		id, secret, ok := strings.Cut(string(raw), ":")
		if !ok {
			return App{}, malformed
		}
		if basicID, err = url.QueryUnescape(id); err != nil || basicID == "" {
			return App{}, malformed
		}
		if basicSecret, err = url.QueryUnescape(secret); err != nil || basicSecret == "" {
			return App{}, malformed
		}
		hasBasic = true
	}
	_, hasSecret := form["client_secret"]
	_, hasAssertion := form["client_assertion"]
	mechanisms := 0
	for _, b := range []bool{hasBasic, hasSecret, hasAssertion} {
		if b {
			mechanisms++
		}
	}
	if mechanisms > 1 {
		return App{}, invalidRequest("client authentication must only be provided using one mechanism")
	}
	clientID := form.Get("client_id")
	if hasBasic {
		if clientID != "" && clientID != basicID {
			return App{}, invalidRequest("client_id mismatch")
		}
		clientID = basicID
	}
	if clientID == "" {
		return App{}, invalidRequest("no client authentication mechanism provided")
	}
	p.mu.Lock()
	app, ok := p.appLocked(clientID)
	p.mu.Unlock()
	if !ok {
		return App{}, errUnknownClient(clientID)
	}
	if app.Public {
		if mechanisms > 0 {
			return App{}, errClientAuthFailed()
		}
		return app, nil
	}
	if !hasBasic && !hasSecret {
		return App{}, errClientAuthFailed()
	}
	secret := basicSecret
	if hasSecret {
		secret = form.Get("client_secret")
	}
	if app.Secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(app.Secret)) != 1 {
		return App{}, errClientAuthFailed()
	}
	return app, nil
}

// setClientAuthChallenge adds WWW-Authenticate to 401 invalid_client
// responses, as oidc-provider does.
func (p *Provider) setClientAuthChallenge(w http.ResponseWriter, status int, body map[string]any) {
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		return
	}
	desc, _ := body["error_description"].(string)
	w.Header().Set("WWW-Authenticate", `Basic realm="`+p.issuer+`", error="invalid_client", error_description="`+
		strings.ReplaceAll(desc, `"`, `'`)+`"`)
}
