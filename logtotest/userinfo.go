package logtotest

import (
	"net/http"
	"net/url"
	"strings"
)

// handleUserinfo serves GET and POST /oidc/me. It accepts only opaque
// access tokens carrying openid (sent as a Bearer header or an access_token
// form field) and returns every claim of the token's OIDC scopes, including
// custom_data, identities and organization_data. JWT access tokens are
// invalid here, as in Logto.
func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request, form url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	fail := func(e *oidcError) {
		p.log.Debug("logtotest: userinfo rejected", "error", e.code, "description", e.description)
		if e.status == http.StatusUnauthorized || e.status == http.StatusForbidden {
			ch := `Bearer realm="` + p.issuer + `", error="` + e.code + `", error_description="` + e.description + `"`
			if e.scope != "" {
				ch += `, scope="` + e.scope + `"`
			}
			w.Header().Set("WWW-Authenticate", ch)
		}
		writeError(w, e)
	}
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, v, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "bearer") || v == "" {
			fail(invalidRequest("invalid authorization header value format"))
			return
		}
		token = v
	}
	if vs, ok := form["access_token"]; ok {
		if token != "" || len(vs) != 1 {
			fail(invalidRequest("access token must only be provided using one mechanism"))
			return
		}
		token = vs[0]
	}
	if token == "" {
		fail(invalidRequest("no access token provided"))
		return
	}

	p.mu.Lock()
	now := p.now()
	var (
		user    User
		scopes  []string
		ok      bool
		orgData []map[string]any
	)
	if at := p.accessTokens[token]; at != nil && !now.After(at.expiresAt) && p.liveGrantLocked(at.grantID, now) != nil {
		scopes = at.scopes
		user, ok = p.userLocked(at.userID)
		orgData = p.organizationDataLocked(user)
	}
	p.mu.Unlock()
	if !ok {
		fail(newError(http.StatusUnauthorized, "invalid_token", "invalid token provided"))
		return
	}
	if !contains(scopes, scopeOpenID) {
		e := newError(http.StatusForbidden, "insufficient_scope", "access token missing 'openid' scope")
		e.scope = scopeOpenID
		fail(e)
		return
	}
	body := userClaims(user, scopes, true, orgData)
	if h := p.hooks().Userinfo; h != nil {
		h(body)
	}
	writeJSON(w, http.StatusOK, body)
}
