package logto

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// SignOut ends the session: it accepts only a same-origin POST (GET → 405
// [ErrMethodNotAllowed], cross-origin → 403 [ErrCSRF], checked with
// [http.CrossOriginProtection]), clears every session cookie, revokes the
// refresh token at Logto (a failure is logged, not fatal), and redirects (303)
// to Logto's end-session endpoint with client_id, id_token_hint (while the ID
// token is valid) and post_logout_redirect_uri, and no state (nothing would
// check it; Logto would append it to the post-logout URI). Logto then
// ends its own session and sends the browser to [Config.PostLogoutRedirectURI].
// When Logto cannot be reached the user is still signed out here and sent
// straight to PostLogoutRedirectURI.
func (c *Client) SignOut(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return ErrMethodNotAllowed
	}
	if err := c.csrf.Check(r); err != nil {
		return fmt.Errorf("%w: %v", ErrCSRF, err)
	}
	noStore(w)
	// Signed out here first, even if the store is down or Logto unreachable.
	rs, _ := c.session(r)
	rs.mu.Lock()
	rs.load(r)
	sess := rs.sess
	rs.end()
	_ = rs.commit(w, r)
	rs.mu.Unlock()

	p, err := c.provider(r.Context())
	if err != nil {
		// Signed out here already; do not strand the user on an error page.
		c.cfg.Logger.Warn("logto: signed out locally only; provider unavailable", "err", err.Error())
		http.Redirect(w, r, c.cfg.PostLogoutRedirectURI, http.StatusSeeOther)
		return nil
	}
	var idTokenHint string
	if sess != nil && sess.expand() == nil {
		if sess.RefreshToken != "" {
			c.revoke(r.Context(), p, sess.RefreshToken, "refresh_token")
		}
		if c.cfg.Now().Unix() < sess.identity().Exp {
			idTokenHint = sess.IDToken
		}
	}
	if p.endSessionEndpoint == "" {
		c.cfg.Logger.Warn("logto: provider has no end_session_endpoint; signed out locally only")
		http.Redirect(w, r, c.cfg.PostLogoutRedirectURI, http.StatusSeeOther)
		return nil
	}
	var q orderedQuery
	q.add("client_id", c.cfg.AppID)
	if idTokenHint != "" {
		q.add("id_token_hint", idTokenHint)
	}
	// No state: the SDK keeps nothing to check it against after sign-out,
	// and Logto would only append it to the post-logout URI (?state=...).
	q.add("post_logout_redirect_uri", c.cfg.PostLogoutRedirectURI)
	sep := "?"
	if strings.Contains(p.endSessionEndpoint, "?") {
		sep = "&"
	}
	http.Redirect(w, r, p.endSessionEndpoint+sep+q.String(), http.StatusSeeOther)
	return nil
}

// revoke asks Logto to revoke token (RFC 7009). A failure is logged: the
// local session is gone either way.
func (c *Client) revoke(ctx context.Context, p *provider, token, hint string) {
	if p.revocationEndpoint == "" {
		return
	}
	if err := c.oauth.Revoke(context.WithoutCancel(ctx), p.revocationEndpoint, token, hint); err != nil {
		c.cfg.Logger.Warn("logto: token revocation failed", "err", endpointError(err).Error())
	}
}
