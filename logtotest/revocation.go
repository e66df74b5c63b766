package logtotest

import (
	"net/http"
	"net/url"
)

// handleRevocation serves POST /oidc/token/revocation (RFC 7009). The
// client authenticates like at the token endpoint. Revoking a refresh token
// or an opaque access token revokes the whole grant (its sibling tokens);
// unknown tokens and tokens of other clients are ignored with 200. JWT
// access tokens give 400 unsupported_token_type.
func (p *Provider) handleRevocation(w http.ResponseWriter, r *http.Request, form url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	fail := func(e *oidcError) {
		p.log.Debug("logtotest: revocation rejected", "error", e.code, "description", e.description)
		body := e.body()
		p.setClientAuthChallenge(w, e.status, body)
		writeJSON(w, e.status, body)
	}
	if e := rejectDupes(form); e != nil {
		fail(e)
		return
	}
	app, e := p.authenticateClient(r, form)
	if e != nil {
		fail(e)
		return
	}
	token := form.Get("token")
	if token == "" {
		fail(missingParam("token"))
		return
	}
	if looksLikeJWT(token) {
		fail(newError(http.StatusBadRequest, "unsupported_token_type",
			"Structured JWT Tokens cannot be revoked via the revocation_endpoint"))
		return
	}
	p.mu.Lock()
	if rt := p.refreshTokens[token]; rt != nil && rt.clientID == app.ID {
		p.revokeGrantLocked(rt.grantID)
	} else if at := p.accessTokens[token]; at != nil && at.clientID == app.ID {
		p.revokeGrantLocked(at.grantID)
	}
	p.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
