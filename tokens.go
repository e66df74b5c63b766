package logto

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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
	err := c.withSession(w, r, func(rs *requestSession) error {
		sess, err := rs.forTokens()
		if err != nil {
			return err
		}
		var changed bool
		e, changed, err = c.tokenFor(r.Context(), sess, resource, organizationID)
		return rs.after(changed, err)
	})
	return e.Token, err
}

// tokenFor returns the cached token for (resource, organizationID) or
// refreshes it into sess. changed reports a session update. Logto is
// discovered only when a refresh is needed: cached tokens are served even
// while it is unreachable.
func (c *Client) tokenFor(ctx context.Context, sess *session, resource, organizationID string) (e accessTokenEntry, changed bool, err error) {
	key := accessTokenKey(resource, organizationID)
	if e, ok := sess.AccessTokens[key]; ok && c.cfg.Now().Add(c.cfg.AccessTokenRefreshMargin).Unix() < e.ExpiresAt {
		return e, false, nil
	}
	if sess.RefreshToken == "" {
		return e, false, ErrNoRefreshToken
	}
	p, err := c.provider(ctx)
	if err != nil {
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

// forTokens returns the loaded session with its tokens decoded, or an error
// matching ErrNotAuthenticated (or ErrSessionStoreUnavailable). rs.mu is held.
func (rs *requestSession) forTokens() (*session, error) {
	if rs.loadErr != nil {
		return nil, rs.loadErr
	}
	if rs.sess == nil {
		return nil, errNoSessionForOp
	}
	rs.own() // tokens are decoded into it, and a refresh changes it
	if err := rs.sess.expand(); err != nil {
		rs.end()
		return nil, errNoSessionForOp
	}
	return rs.sess, nil
}

// after records the outcome of an operation on the session: saved when it
// changed (even if the operation then failed), ended when Logto ended it
// (the error then matches ErrNotAuthenticated). rs.mu is held.
func (rs *requestSession) after(changed bool, err error) error {
	if err != nil && endsSession(err) {
		rs.end()
		rs.c.cfg.Logger.Info("logto: session ended by the provider", "err", err.Error())
		return &sessionEndedError{err}
	}
	if changed {
		rs.changed()
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
