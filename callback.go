package logto

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// HandleSignIn processes the callback Logto redirects to after sign-in
// (the redirect URI, BaseURL + CallbackPath). It
//
//   - refuses an oversized or malformed query before any other work (400,
//     [ReasonParameterTooLarge], [ReasonMalformedQuery]): the transaction
//     stays untouched and Logto is not called;
//   - finds the transaction by state (unknown, replayed, expired → 400);
//   - checks the RFC 9207 iss parameter against the issuer (mix-up → 400);
//   - turns an OAuth error response into an [*AuthorizationError] (401);
//   - exchanges the code with client_secret_basic and the PKCE verifier;
//   - verifies the ID token (signature, iss, aud, azp, exp, iat, nonce);
//   - seals the tokens into a new session and redirects (303) to the
//     transaction's return path, or "/".
//
// Past the size check, the transaction cookie is deleted whatever the
// outcome. On error nothing but that cookie deletion has been written to w,
// the existing session is untouched, and the caller renders the error (see
// [StatusCode]).
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
				c.tx.take(w, r, st)
			}
			return &CallbackError{Reason: ReasonDuplicateParameter}
		}
	}
	state := q.Get("state")
	if state == "" {
		return &CallbackError{Reason: ReasonStateMissing}
	}
	tx := c.tx.take(w, r, state)
	if tx == nil {
		return &CallbackError{Reason: ReasonStateMismatch}
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

	sess, err := c.exchangeCode(r.Context(), p, tx, code)
	if err != nil {
		return err
	}
	if err := c.store.Save(w, r, sess); err != nil {
		return err
	}
	c.cfg.Logger.Info("logto: signed in", "sub", sess.identity().Sub)
	http.Redirect(w, r, tx.ReturnTo, http.StatusSeeOther)
	return nil
}

// exchangeCode redeems the authorization code (without resource: Logto then
// issues an opaque access token usable at userinfo) and builds the session.
func (c *Client) exchangeCode(ctx context.Context, p *provider, tx *transaction, code string) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, c.httpTimeout())
	defer cancel()
	started := c.cfg.Now()
	tok, err := c.oauth2Config(p, tx.RedirectURI).Exchange(
		context.WithValue(ctx, oauth2.HTTPClient, c.http), code, oauth2.VerifierOption(tx.Verifier))
	if err != nil {
		return nil, tokenEndpointError(err)
	}
	if !strings.EqualFold(tok.TokenType, "bearer") {
		return nil, &ProviderError{Stage: "token", Reason: ReasonTokenType, Err: errors.New("token_type is not Bearer")}
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, &ProviderError{Stage: "token", Reason: ReasonMissingIDToken}
	}
	if _, err := c.verifyIDToken(ctx, p, rawID, idTokenCheck{nonce: tx.Nonce}); err != nil {
		return nil, err
	}
	scope, _ := tok.Extra("scope").(string)
	now := c.cfg.Now()
	sess := &session{
		IDToken:      rawID,
		RefreshToken: tok.RefreshToken,
		AccessTokens: map[string]accessTokenEntry{
			accessTokenKey("", ""): {Token: tok.AccessToken, Scope: scope, ExpiresAt: started.Unix() + tok.ExpiresIn},
		},
		CreatedAt: now.UnixMilli(),
		ExpiresAt: now.Add(c.cfg.SessionMaxAge).Unix(),
	}
	return sess, nil
}

func (c *Client) oauth2Config(p *provider, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.cfg.AppID,
		ClientSecret: c.cfg.AppSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   p.authorizationEndpoint,
			TokenURL:  p.tokenEndpoint,
			AuthStyle: oauth2.AuthStyleInHeader, // client_secret_basic, RFC 6749 2.3.1 encoding
		},
		RedirectURL: redirectURI,
	}
}

// tokenEndpointError turns an oauth2 error into a *ProviderError without
// copying the response body (it may echo what we sent).
func tokenEndpointError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		pe := &ProviderError{Stage: "token", Reason: ReasonHTTPStatus, Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			pe.StatusCode = re.Response.StatusCode
		}
		if re.ErrorCode != "" {
			pe.Reason = ReasonOAuthError
		}
		return pe
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "cannot parse json"), strings.Contains(msg, "cannot parse response"),
		strings.Contains(msg, "missing access_token"):
		return &ProviderError{Stage: "token", Reason: ReasonInvalidJSON, Err: errors.New(sanitize(msg, 120))}
	case errors.Is(err, errBodyTooLarge):
		return &ProviderError{Stage: "token", Reason: ReasonInvalidJSON, Err: errBodyTooLarge}
	}
	return providerFailure("token", err, ReasonNetwork)
}
