package logto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// GetAccessToken returns an access token for the API resource indicator
// resource (RFC 8707), or the default token (usable at Logto's userinfo
// endpoint) when resource is "". A cached token is returned while it is valid
// for longer than [Config.AccessTokenRefreshMargin]; otherwise it is refreshed
// with the session's refresh token and the session cookie is rewritten on w
// (rotated refresh token, refreshed ID token, the new access token).
//
// Concurrent refreshes of one session in this process make one token request
// (see [RefreshCoalescer]). If Logto answers invalid_grant the session is over:
// its cookies are cleared and the error matches [ErrNotAuthenticated]. A
// transient failure (network, timeout, 5xx) keeps the session.
func (c *Client) GetAccessToken(w http.ResponseWriter, r *http.Request, resource string) (string, error) {
	if err := c.checkResource(resource); err != nil {
		return "", err
	}
	return c.token(w, r, resource, "")
}

// checkResource fails fast for a resource Logto would answer invalid_target.
func (c *Client) checkResource(resource string) error {
	if resource != "" && !slices.Contains(c.cfg.resources, resource) {
		return fmt.Errorf("%w: %q is not in Config.Resources; Logto grants only resources requested at sign-in", ErrInvalidResource, resource)
	}
	return nil
}

// GetOrganizationToken returns an access token for an organization (audience
// urn:logto:organization:<organizationID>), like GetAccessToken. It needs
// [UserScopeOrganizations] in [Config.Scopes]. A user who is not a member gets
// an error matching [ErrAccessDenied].
func (c *Client) GetOrganizationToken(w http.ResponseWriter, r *http.Request, organizationID string) (string, error) {
	if err := c.checkOrganization(organizationID); err != nil {
		return "", err
	}
	return c.token(w, r, "", organizationID)
}

// GetOrganizationResourceToken returns an access token for an API resource
// scoped to an organization: its audience is resource, its scopes come from
// the user's roles in the organization, and it carries an organization_id
// claim.
func (c *Client) GetOrganizationResourceToken(w http.ResponseWriter, r *http.Request, resource, organizationID string) (string, error) {
	if resource == "" {
		return "", fmt.Errorf("%w: empty resource", ErrInvalidResource)
	}
	if err := c.checkResource(resource); err != nil {
		return "", err
	}
	if err := c.checkOrganization(organizationID); err != nil {
		return "", err
	}
	return c.token(w, r, resource, organizationID)
}

func (c *Client) checkOrganization(organizationID string) error {
	if organizationID == "" {
		return fmt.Errorf("%w: empty organization ID", ErrInvalidResource)
	}
	if !slices.Contains(c.cfg.scopes, UserScopeOrganizations) {
		return fmt.Errorf("%w: organization tokens need UserScopeOrganizations in Config.Scopes", ErrInvalidResource)
	}
	return nil
}

func (c *Client) token(w http.ResponseWriter, r *http.Request, resource, organizationID string) (string, error) {
	var e accessTokenEntry
	err := c.sessionOp(w, r, func(ctx context.Context, p *provider, sess *session) (bool, error) {
		var changed bool
		var err error
		e, changed, err = c.tokenFor(ctx, p, sess, resource, organizationID)
		return changed, err
	})
	return e.Token, err
}

// tokenFor returns the cached token for (resource, organizationID) or
// refreshes it into sess. changed reports a session update.
func (c *Client) tokenFor(ctx context.Context, p *provider, sess *session, resource, organizationID string) (e accessTokenEntry, changed bool, err error) {
	key := accessTokenKey(resource, organizationID)
	if e, ok := sess.AccessTokens[key]; ok && c.cfg.Now().Add(c.cfg.AccessTokenRefreshMargin).Unix() < e.ExpiresAt {
		return e, false, nil
	}
	if sess.RefreshToken == "" {
		return e, false, ErrNoRefreshToken
	}
	if p, err = c.ensureProvider(ctx, p); err != nil {
		return e, false, err
	}
	tr, err := c.refresh(ctx, p, sess.RefreshToken, resource, organizationID)
	if err != nil {
		return e, false, err
	}
	if err := c.applyRefresh(ctx, p, sess, key, tr); err != nil {
		return e, false, err
	}
	return sess.AccessTokens[key], true, nil
}

// ensureProvider returns p, discovering it when nil.
func (c *Client) ensureProvider(ctx context.Context, p *provider) (*provider, error) {
	if p != nil {
		return p, nil
	}
	return c.provider(ctx)
}

// requestState shares one session between the calls of one request once
// [Client.Middleware] or [Client.RequireAuth] ran, and serializes them.
type requestState struct {
	mu      sync.Mutex
	loaded  bool
	sess    *session
	loadErr error // the session store could not be read

	lc         Context // set by Middleware before the next handler runs
	hasContext bool
}

type requestStateKey struct{}

func withRequestState(r *http.Request) *http.Request {
	if _, ok := r.Context().Value(requestStateKey{}).(*requestState); ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), requestStateKey{}, &requestState{}))
}

// sessionOp runs fn on the request's session. It saves the session when fn
// changed it (even if fn then failed), and ends it when fn failed
// definitively, returning an error that matches ErrNotAuthenticated.
func (c *Client) sessionOp(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, p *provider, sess *session) (bool, error)) error {
	st, shared := r.Context().Value(requestStateKey{}).(*requestState)
	if !shared {
		st = &requestState{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.loaded {
		st.sess, _, st.loadErr = c.loadSession(w, r)
		st.loaded = true
	}
	if st.loadErr != nil {
		return st.loadErr
	}
	if st.sess == nil {
		return errNoSessionForOp
	}
	if err := st.sess.expand(); err != nil {
		c.store.Delete(w, r)
		st.sess = nil
		return errNoSessionForOp
	}
	// The provider is discovered only when fn needs it: cached tokens are
	// served even while Logto is unreachable.
	changed, err := fn(r.Context(), nil, st.sess)
	if err != nil && endsSession(err) {
		st.sess = nil
		c.store.Delete(w, r)
		c.cfg.Logger.Info("logto: session ended by the provider", "err", err.Error())
		return &sessionEndedError{err}
	}
	if changed {
		if serr := c.saveSession(w, r, st.sess); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// errNoSessionForOp: a token was asked for without a session.
var errNoSessionForOp = fmt.Errorf("%w: no session", ErrNotAuthenticated)

// sessionEndedError: Logto ended the session; it matches ErrNotAuthenticated
// and the provider's error.
type sessionEndedError struct{ cause error }

func (e *sessionEndedError) Error() string {
	return "logto: not authenticated: session ended: " + e.cause.Error()
}

func (e *sessionEndedError) Unwrap() []error { return []error{ErrNotAuthenticated, e.cause} }

// saveSession persists sess; when it outgrows the cookie budget the cached
// access tokens other than the default one are dropped (they can be fetched
// again) rather than losing a rotated refresh token.
func (c *Client) saveSession(w http.ResponseWriter, r *http.Request, sess *session) error {
	err := c.store.Save(w, r, sess)
	if errors.Is(err, ErrSessionTooLarge) && len(sess.AccessTokens) > 1 {
		c.cfg.Logger.Warn("logto: session too large for cookies; dropping cached access tokens", "access_tokens", len(sess.AccessTokens))
		def, ok := sess.AccessTokens[accessTokenKey("", "")]
		clear(sess.AccessTokens)
		if ok {
			sess.AccessTokens[accessTokenKey("", "")] = def
		}
		err = c.store.Save(w, r, sess)
	}
	return err
}
