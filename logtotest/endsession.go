package logtotest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// logoutComment opens Logto's logout page; html/template would strip it.
const logoutComment = "<!-- https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#logoutsource -->\n"

var logoutPage = template.Must(template.New("logout").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>Sign Out</title>
</head>
<body onload="document.getElementById('op.logoutForm').submit();">
  <form id="op.logoutForm" method="post" action="{{.Action}}"><input type="hidden" name="xsrf" value="{{.XSRF}}"/></form>
  <input type="hidden" form="op.logoutForm" value="yes" name="logout" />
</body>
</html>
`))

const logoutSuccessPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>Sign-out Success</title>
</head>
<body>
  <h1>Sign-out Success</h1>
  <p>You have successfully signed out.</p>
</body>
</html>
`

// handleEndSession serves GET and POST /oidc/session/end (RP-initiated
// logout). It validates id_token_hint, client_id and
// post_logout_redirect_uri like Logto, remembers the pending logout in the
// provider session (creating one when there is none) and answers 200 with
// Logto's auto-submitting sign-out form.
func (p *Provider) handleEndSession(w http.ResponseWriter, r *http.Request, params url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	fail := func(e *oidcError) {
		p.log.Debug("logtotest: end session rejected", "error", e.code, "description", e.description)
		writeError(w, e)
	}
	if e := rejectDupes(params); e != nil {
		fail(e)
		return
	}
	clientID := params.Get("client_id")
	if hint := params.Get("id_token_hint"); hint != "" {
		claims, err := verifyJWT(p.publishedKeys(), hint)
		if err != nil || claims["iss"] != p.issuer {
			fail(invalidRequest("could not validate id_token_hint"))
			return
		}
		var aud []string
		switch v := claims["aud"].(type) {
		case string:
			aud = []string{v}
		case []any:
			for _, a := range v {
				if s, ok := a.(string); ok {
					aud = append(aud, s)
				}
			}
		}
		if len(aud) == 0 {
			fail(invalidRequest("could not validate id_token_hint"))
			return
		}
		if clientID == "" {
			clientID = aud[0]
		} else if !contains(aud, clientID) {
			fail(invalidRequest("client_id does not match the provided id_token_hint"))
			return
		}
	}
	redirect := params.Get("post_logout_redirect_uri")
	if clientID == "" {
		redirect = "" // no client identified: silently ignored
	} else {
		p.mu.Lock()
		app, ok := p.appLocked(clientID)
		p.mu.Unlock()
		if !ok {
			fail(errUnknownClient(clientID))
			return
		}
		if redirect != "" && !contains(app.PostLogoutRedirectURIs, redirect) {
			fail(invalidRequest("post_logout_redirect_uri not registered"))
			return
		}
	}

	xsrf := make([]byte, 24)
	_, _ = rand.Read(xsrf)
	p.mu.Lock()
	now := p.now()
	p.maybeGCLocked(now)
	sess := p.sessionLocked(r, now)
	if sess == nil {
		sess = p.newSessionLocked("", now)
	}
	sess.logout = &pendingLogout{
		xsrf: hex.EncodeToString(xsrf), clientID: clientID, redirectURI: redirect, state: params.Get("state"),
	}
	token := sess.logout.xsrf
	p.mu.Unlock()

	p.setSessionCookie(w, sess)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(logoutComment))
	_ = logoutPage.Execute(w, struct{ Action, XSRF string }{p.issuer + "/session/end/confirm", token})
}

// handleEndSessionConfirm serves POST /oidc/session/end/confirm. With the
// right xsrf it revokes the session's grants that lack offline_access
// (logout=yes: all clients, otherwise only the requesting one), destroys
// the session with logout=yes, and answers 303 to the post-logout redirect
// URI (plus state) or to /oidc/session/end/success.
func (p *Provider) handleEndSessionConfirm(w http.ResponseWriter, r *http.Request, form url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	xsrf := form.Get("xsrf")
	p.mu.Lock()
	now := p.now()
	sess := p.sessionLocked(r, now)
	if sess == nil || sess.logout == nil || xsrf == "" ||
		subtle.ConstantTimeCompare([]byte(xsrf), []byte(sess.logout.xsrf)) != 1 {
		p.mu.Unlock()
		p.log.Debug("logtotest: end session confirm rejected: xsrf")
		writeError(w, invalidRequest("xsrf token invalid"))
		return
	}
	pl := sess.logout
	sess.logout = nil
	all := form.Get("logout") == "yes"
	kept := sess.grantIDs[:0]
	for _, id := range sess.grantIDs {
		g := p.grants[id]
		switch {
		case g == nil:
		case (all || g.clientID == pl.clientID) && !g.offline():
			p.revokeGrantLocked(id)
		default:
			kept = append(kept, id)
		}
	}
	sess.grantIDs = kept
	if all {
		delete(p.sessions, sess.id)
	}
	p.mu.Unlock()

	if all {
		p.expireSessionCookie(w)
	}
	target := p.issuer + "/session/end/success"
	if pl.redirectURI != "" {
		target = pl.redirectURI
		if pl.state != "" {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + "state=" + url.QueryEscape(pl.state)
		}
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

// handleEndSessionSuccess serves GET /oidc/session/end/success.
func (p *Provider) handleEndSessionSuccess(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(logoutSuccessPage))
}
