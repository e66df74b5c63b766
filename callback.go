package logto

import (
	"context"
	"net/http"
	"net/url"
)

// HandleSignIn processes the callback Logto redirects to after sign-in
// (the redirect URI, BaseURL + CallbackPath). It
//
//   - refuses an oversized or malformed query before any other work (400,
//     [ReasonParameterTooLarge], [ReasonMalformedQuery]): the transaction
//     stays untouched and Logto is not called;
//   - finds the transaction by state (unknown, replayed, expired → 400,
//     [ReasonStateMismatch]) and checks it was started in this browser
//     (→ 400, [ReasonBrowserMismatch]; see SECURITY.md);
//   - checks the RFC 9207 iss parameter against the issuer (mix-up → 400);
//   - turns an OAuth error response into an [*AuthorizationError] (401);
//   - exchanges the code with client_secret_basic and the PKCE verifier,
//     once per transaction (below);
//   - verifies the ID token (signature, iss, aud, azp, exp, iat, nonce, and
//     at_hash when present);
//   - seals the tokens into a new session and redirects (303) to the
//     transaction's return path, or "/".
//
// Past the input check, the transaction cookie is deleted whatever the
// outcome. On error nothing but that cookie
// deletion has been written to w, the existing session is untouched, and the
// caller renders the error (see [StatusCode]).
//
// A code is redeemed once, since Logto revokes the whole grant when a code
// comes twice. Callbacks with the same state that arrive while its code
// exchange is in flight (a browser delivering one callback twice) share that
// exchange and all get its outcome: the same session cookie and redirect, or
// the same error. A callback for a transaction whose exchange has finished
// gets 400 ([ReasonStateMismatch]) and leaves the session alone. Within one
// Client this needs nothing; across instances, a [Config.SessionStore] that
// implements [AtomicAdder] is where the state is claimed before the exchange
// (a second claim gets the same 400; a store failure gets 503,
// [ErrSessionStoreUnavailable], and no exchange). Without one, two instances
// that receive the same callback at once may both redeem the code.
func (c *Client) HandleSignIn(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	q, err := checkCallbackInput(r)
	if err != nil {
		return err
	}
	for _, k := range []string{"state", "code", "iss", "error", "error_description", "error_uri"} {
		if len(q[k]) > 1 {
			// Consume the transaction the first state names, if any: a tampered
			// callback must not stay replayable.
			if st := q.Get("state"); st != "" {
				_, _ = c.tx.take(w, r, st)
			}
			return &CallbackError{Reason: ReasonDuplicateParameter}
		}
	}
	state := q.Get("state")
	if state == "" {
		return &CallbackError{Reason: ReasonStateMissing}
	}
	// Before any provider call, and before joining a code exchange another
	// callback started (redeem.go): a transaction from another browser
	// never gets near one.
	tx, err := c.tx.take(w, r, state)
	if err != nil {
		return err
	}

	p, err := c.provider(r.Context())
	if err != nil {
		return err
	}
	if iss, ok := q["iss"]; ok {
		if iss[0] != p.issuer {
			return &CallbackError{Reason: ReasonIssuerMismatch}
		}
	} else if p.issParameterSupported {
		return &CallbackError{Reason: ReasonIssuerMissing}
	}
	if code := q.Get("error"); code != "" {
		return &AuthorizationError{Code: code, Description: q.Get("error_description"), URI: q.Get("error_uri")}
	}
	code := q.Get("code")
	if code == "" {
		return &CallbackError{Reason: ReasonCodeMissing}
	}

	sealed, err := c.redeemOnce(r.Context(), p, tx, code)
	if err != nil {
		return err
	}
	// A new session replaces whatever the browser held, written now: the
	// redirect follows.
	rs, _ := c.session(r)
	rs.mu.Lock()
	rs.sess, rs.pending, rs.signIn = nil, pendingSignIn, sealed
	err = rs.commit(w, r)
	rs.mu.Unlock()
	if err != nil {
		return err
	}
	http.Redirect(w, r, tx.ReturnTo, http.StatusSeeOther)
	return nil
}

// exchangeCode redeems the authorization code (without resource: Logto then
// issues an opaque access token usable at userinfo) and builds the session.
func (c *Client) exchangeCode(ctx context.Context, p *provider, tx *transaction, code string) (*session, error) {
	tok, err := c.oauth.Token(ctx, p.tokenEndpoint, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {tx.RedirectURI},
		"code_verifier": {tx.Verifier}, // PKCE, RFC 7636 4.5
	})
	if err != nil {
		return nil, endpointError(err)
	}
	if tok.IDToken == "" {
		return nil, &ProviderError{Stage: "token", Reason: ReasonMissingIDToken}
	}
	if _, err := c.verifyIDToken(ctx, p, tok.IDToken, idTokenCheck{nonce: tx.Nonce, accessToken: tok.AccessToken}); err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	sess := &session{
		IDToken:      tok.IDToken,
		RefreshToken: tok.RefreshToken,
		AccessTokens: map[string]accessTokenEntry{
			accessTokenKey("", ""): {Token: tok.AccessToken, Scope: tok.Scope, ExpiresAt: tok.IssuedAt + tok.ExpiresIn},
		},
		CreatedAt: now.UnixMilli(),
		ExpiresAt: now.Add(c.cfg.SessionMaxAge).Unix(),
	}
	return sess, nil
}
