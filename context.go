package logto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Context tells a request who is signed in. It has the JSON shape of
// @logto/next's LogtoContext, and templates can read it directly:
//
//	{{if .IsAuthenticated}}Hello, {{.Claims.Sub}}{{end}}
//
// It holds tokens when options asked for them: String and LogValue redact
// them, so a Context can be printed or logged; its JSON does not.
type Context struct {
	// IsAuthenticated is true only for a session whose ID token was verified at
	// sign-in (or refresh) and has not expired now (with [Config.ClockSkew]).
	IsAuthenticated bool `json:"isAuthenticated"`
	// Claims are the ID token's claims; zero when not authenticated.
	Claims IDTokenClaims `json:"claims,omitzero"`
	// Scopes are the scopes of the access token asked for with
	// [WithAccessToken], else of the default access token.
	Scopes []string `json:"scopes,omitempty"`
	// AccessToken is the token asked for with [WithAccessToken].
	AccessToken string `json:"accessToken,omitempty"`
	// UserInfo is Logto's userinfo answer, with [WithUserInfo].
	UserInfo *UserInfo `json:"userInfo,omitempty"`
	// OrganizationTokens maps organization IDs to organization tokens, with
	// [WithOrganization] (without WithAccessToken) or [WithOrganizationTokens].
	OrganizationTokens map[string]string `json:"organizationTokens,omitempty"`
}

// String describes the Context without its tokens.
func (lc Context) String() string {
	return fmt.Sprintf("logto.Context{IsAuthenticated:%v, Sub:%q, Scopes:%q, AccessToken:%s, OrganizationTokens:%d}",
		lc.IsAuthenticated, lc.Claims.Sub, lc.Scopes, redacted(lc.AccessToken), len(lc.OrganizationTokens))
}

// LogValue describes the Context for log/slog without its tokens.
func (lc Context) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("authenticated", lc.IsAuthenticated),
		slog.String("sub", lc.Claims.Sub),
		slog.Any("scopes", lc.Scopes),
		slog.Bool("access_token", lc.AccessToken != ""),
		slog.Int("organization_tokens", len(lc.OrganizationTokens)),
	)
}

// ContextOption asks [Client.GetContext] for more than the session, like
// @logto/next's GetContextParameters.
type ContextOption func(*contextOptions)

type contextOptions struct {
	userInfo           bool
	accessToken        bool
	resource           string
	organizationID     string
	organizationTokens bool
	renew              bool
}

func (o contextOptions) callsProvider() bool {
	return o.userInfo || o.accessToken || o.organizationID != "" || o.organizationTokens || o.renew
}

// WithUserInfo fetches Context.UserInfo from Logto (fetchUserInfo).
func WithUserInfo() ContextOption { return func(o *contextOptions) { o.userInfo = true } }

// WithAccessToken puts an access token for resource ("" for the default
// token) in Context.AccessToken and its scopes in Context.Scopes
// (getAccessToken + resource). With [WithOrganization] the token is scoped to
// that organization.
func WithAccessToken(resource string) ContextOption {
	return func(o *contextOptions) { o.accessToken, o.resource = true, resource }
}

// WithOrganization names an organization (organizationId): with
// [WithAccessToken] the access token is for it; alone, its organization token
// goes into Context.OrganizationTokens.
func WithOrganization(organizationID string) ContextOption {
	return func(o *contextOptions) { o.organizationID = organizationID }
}

// WithOrganizationTokens fetches a token for every organization in the ID
// token's organizations claim into Context.OrganizationTokens
// (getOrganizationToken).
func WithOrganizationTokens() ContextOption {
	return func(o *contextOptions) { o.organizationTokens = true }
}

// WithIDTokenRenewal renews an expired ID token with the refresh token, so a
// session stays authenticated as long as Logto keeps the grant alive. Without
// it, IsAuthenticated turns false when the ID token expires (Logto's default
// ID token lifetime is one hour).
func WithIDTokenRenewal() ContextOption { return func(o *contextOptions) { o.renew = true } }

// GetContext reads the request's session. A missing session gives a zero
// Context; an unusable one (tampered, truncated, expired, foreign) is cleared
// through w (which may be nil when no option is given) and also gives a zero
// Context.
//
// Options that need Logto may refresh tokens (rewriting the session cookie on
// w) and may fail: the Context then holds what was obtained, and the error
// says what was not. If Logto ended the session (invalid_grant) its cookies are
// cleared, the Context is zero and the error matches [ErrNotAuthenticated].
func (c *Client) GetContext(w http.ResponseWriter, r *http.Request, opts ...ContextOption) (Context, error) {
	o := collectOptions(opts)
	if o.accessToken {
		if err := c.checkResource(o.resource); err != nil {
			return Context{}, err
		}
	}
	if o.organizationID != "" || o.organizationTokens {
		if !slices.Contains(c.cfg.scopes, UserScopeOrganizations) {
			return Context{}, fmt.Errorf("%w: organization tokens need UserScopeOrganizations in Config.Scopes", ErrInvalidResource)
		}
	}
	if !o.callsProvider() {
		rs, shared := requestSessionOf(r)
		if !shared || rs.c != c {
			return c.readContext(w, r)
		}
		return c.readSharedContext(w, r, rs)
	}
	var lc Context
	err := c.withSession(w, r, func(rs *requestSession) error {
		if rs.loadErr != nil {
			return rs.loadErr
		}
		if rs.sess == nil {
			return nil
		}
		if !o.callsProvider() {
			lc = c.contextFromSession(rs.sess)
			return nil
		}
		sess, err := rs.forTokens()
		if err != nil {
			return err
		}
		changed, err := c.contextWithTokens(r.Context(), sess, o, &lc)
		return rs.after(changed, err)
	})
	var ended *sessionEndedError
	switch {
	case errors.Is(err, errNoSessionForOp):
		return Context{}, nil
	case errors.As(err, &ended):
		return Context{}, err
	}
	return lc, err
}

// readContext is GetContext without options or Middleware: the session is
// read (and written back when stale or unusable), with nothing on the heap
// but the session itself (this runs on every request).
func (c *Client) readContext(w http.ResponseWriter, r *http.Request) (Context, error) {
	local := requestSession{c: c}
	local.load(r)
	var lc Context
	if local.sess != nil {
		lc = c.contextFromSession(local.sess)
	}
	if err := local.commit(w, r); err != nil {
		return lc, err
	}
	return lc, local.loadErr
}

// readSharedContext is readContext on the session Middleware shares (no
// closure, nothing on the heap: this runs on every page behind Middleware).
func (c *Client) readSharedContext(w http.ResponseWriter, r *http.Request, rs *requestSession) (Context, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.load(r)
	var lc Context
	if rs.sess != nil {
		lc = c.contextFromSession(rs.sess)
	}
	if rs.committed { // too late for the writer: say so now
		_ = rs.commit(w, r)
	}
	return lc, rs.loadErr
}

// contextWithTokens fills lc from sess and what o asks of Logto (renewal,
// tokens, userinfo). changed reports that sess was updated.
func (c *Client) contextWithTokens(ctx context.Context, sess *session, o contextOptions, lc *Context) (changed bool, err error) {
	*lc = c.contextFromSession(sess)
	if !lc.IsAuthenticated && o.renew && sess.RefreshToken != "" {
		p, err := c.provider(ctx)
		if err != nil {
			return false, err
		}
		tr, err := c.refresh(ctx, p, sess.RefreshToken, "", "")
		if err != nil {
			return false, err
		}
		if err := c.applyRefresh(ctx, p, sess, accessTokenKey("", ""), tr); err != nil {
			return false, err
		}
		changed = true
		*lc = c.contextFromSession(sess)
	}
	if !lc.IsAuthenticated {
		return changed, nil
	}
	step := func(resource, org string) (accessTokenEntry, error) {
		e, ch, err := c.tokenFor(ctx, sess, resource, org)
		changed = changed || ch
		return e, err
	}
	var errs []error
	switch {
	case o.accessToken:
		e, err := step(o.resource, o.organizationID)
		if err != nil {
			return changed, err
		}
		lc.AccessToken, lc.Scopes = e.Token, strings.Fields(e.Scope)
	case o.organizationID != "":
		e, err := step("", o.organizationID)
		if err != nil {
			return changed, err
		}
		lc.OrganizationTokens = map[string]string{o.organizationID: e.Token}
	}
	if o.organizationTokens {
		for _, org := range lc.Claims.Organizations {
			e, err := step("", org)
			if err != nil {
				errs = append(errs, fmt.Errorf("organization %s: %w", org, err))
				continue
			}
			if lc.OrganizationTokens == nil {
				lc.OrganizationTokens = map[string]string{}
			}
			lc.OrganizationTokens[org] = e.Token
		}
	}
	if o.userInfo {
		ui, ch, err := c.userInfo(ctx, sess)
		changed = changed || ch
		if err != nil {
			return changed, err
		}
		lc.UserInfo = ui
	}
	return changed, errors.Join(errs...)
}

// collectOptions applies opts; without options nothing escapes to the heap
// (GetContext runs on every request).
func collectOptions(opts []ContextOption) contextOptions {
	if len(opts) == 0 {
		return contextOptions{}
	}
	o := new(contextOptions)
	for _, opt := range opts {
		opt(o)
	}
	return *o
}

func (c *Client) contextFromSession(sess *session) Context {
	claims := sess.identity()
	if claims.Sub == "" || !c.cfg.Now().Before(time.Unix(claims.Exp, 0).Add(c.cfg.ClockSkew)) {
		return Context{}
	}
	return Context{IsAuthenticated: true, Claims: claims, Scopes: sess.scopes()}
}

// FromContext returns the Context that [Client.Middleware] (or
// [NewContext]) stored in ctx, or a zero (signed-out) Context.
func FromContext(ctx context.Context) Context {
	if rs, ok := ctx.Value(requestSessionKey{}).(*requestSession); ok && rs.lc != nil {
		return *rs.lc
	}
	return Context{}
}

// NewContext returns a copy of ctx carrying lc, for tests and custom middleware.
func NewContext(ctx context.Context, lc Context) context.Context {
	return context.WithValue(ctx, requestSessionKey{}, &requestSession{lc: &lc})
}
