package logto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/logto-go/logto/internal/oauth"
)

// M2MConfig configures an [M2M]: the tokens a backend job or service gets
// with its own credentials (OAuth 2.0 client credentials, RFC 6749 section
// 4.4), for one API resource, one organization, or one API resource scoped
// to an organization. No [Client] is needed.
//
// In the Logto Console, create an application of type
// "Machine-to-machine" and assign it a machine-to-machine role that holds
// the API's permissions (for Logto's Management API: the role's "Logto
// Management API access" permission, scope "all"). For organization tokens,
// add the application to the organization and give it organization roles
// there.
//
// M2MConfig redacts AppSecret when printed or logged.
type M2MConfig struct {
	// Endpoint is the Logto server, as in [Config.Endpoint]; the issuer is
	// Endpoint + "/oidc". http:// is accepted only for loopback hosts unless
	// InsecureAllowHTTPEndpoint is set.
	Endpoint string

	// AppID and AppSecret are the credentials of a "Machine-to-machine"
	// application; it authenticates with client_secret_basic.
	AppID     string
	AppSecret string

	// Resource is the API resource indicator (RFC 8707) the token is for,
	// e.g. "https://api.example.com", or [ManagementAPIResource] for Logto's
	// Management API. Logto issues a client credentials token for exactly
	// one resource: use one M2M per API. Required unless OrganizationID is
	// set.
	Resource string

	// Scopes are the permissions to ask for. Logto puts in the token only
	// those requested here that the app's roles grant, and none when none
	// is requested. A requested scope the roles do not grant is dropped
	// silently by Logto; M2M logs a warning naming it.
	Scopes []string

	// OrganizationID asks for a token for this organization: without
	// Resource an organization token (aud urn:logto:organization:<id>) with
	// the organization permissions of the app's roles there; with Resource
	// a token for the API scoped to the organization (an organization_id
	// claim, the API permissions of the app's roles there). Logto answers
	// 403 access_denied ([ErrAccessDenied]) when the app is not a member of
	// the organization.
	OrganizationID string

	// HTTPClient makes the calls to Logto (discovery and the token
	// endpoint). Default: a client with a 10 s timeout.
	HTTPClient *http.Client

	// Now is the clock for token lifetimes. Default time.Now.
	Now func() time.Time

	// Logger receives operational events (a token issued, a request
	// failed, scopes Logto did not grant). It never receives a token or a
	// secret. nil discards them.
	Logger *slog.Logger

	// RefreshMargin renews the cached token this long before it expires, so
	// a token handed out is still valid when it reaches the API. Default
	// 60 s; for tokens living less than twice the margin, half their
	// lifetime.
	RefreshMargin time.Duration

	// InsecureAllowHTTPEndpoint accepts an http:// Endpoint on a
	// non-loopback host. The app secret and tokens then travel in clear
	// text: it MUST NOT be used outside closed test networks.
	InsecureAllowHTTPEndpoint bool
}

// String redacts the secret, so an M2MConfig can be printed or logged safely.
func (c M2MConfig) String() string {
	return fmt.Sprintf("logto.M2MConfig{Endpoint:%q, AppID:%q, AppSecret:%s, Resource:%q, Scopes:%q, OrganizationID:%q}",
		c.Endpoint, c.AppID, redacted(c.AppSecret), c.Resource, c.Scopes, c.OrganizationID)
}

// GoString redacts like String, for %#v.
func (c M2MConfig) GoString() string { return c.String() }

// LogValue redacts the secret for log/slog.
func (c M2MConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("app_id", c.AppID),
		slog.String("app_secret", redacted(c.AppSecret)),
		slog.String("resource", c.Resource),
		slog.Any("scopes", c.Scopes),
		slog.String("organization_id", c.OrganizationID),
	)
}

// ManagementAPIScopeAll is the one permission of Logto's Management API.
const ManagementAPIScopeAll = "all"

// ManagementAPIResource returns the resource indicator of Logto's
// Management API for a Logto endpoint or a tenant ID:
// "https://<tenant-id>.logto.app/api". An endpoint on Logto Cloud
// ("https://<tenant-id>.logto.app") names its tenant; any other endpoint, a
// self-hosted Logto, and "" give the self-hosted tenant "default":
// "https://default.logto.app/api". A Logto Cloud tenant behind a custom
// domain needs its tenant ID (Console → Tenant settings) instead of the
// endpoint.
//
// Request it with scope [ManagementAPIScopeAll] by an app whose role holds
// the Management API's permission.
func ManagementAPIResource(endpointOrTenantID string) string {
	s := strings.TrimSpace(endpointOrTenantID)
	tenant := s
	if s == "" || strings.Contains(s, "://") {
		tenant = "default"
		if u, err := url.Parse(s); err == nil {
			host := strings.ToLower(u.Hostname())
			if t, ok := strings.CutSuffix(host, ".logto.app"); ok && t != "" && !strings.Contains(t, ".") {
				tenant = t
			}
		}
	}
	return "https://" + tenant + ".logto.app/api"
}

// M2M gets, caches and renews the access token of a Machine-to-machine
// application (see [M2MConfig]). [M2M.Token] returns the cached token while
// it is valid for longer than [M2MConfig.RefreshMargin] and otherwise asks
// Logto for a new one: concurrent callers share that one token request.
// [M2M.Client] sends the token to an API, [M2M.TokenSource] hands it to
// code built on golang.org/x/oauth2.
//
// An M2M is safe for concurrent use; create one per (resource,
// organization) at start-up and share it.
type M2M struct {
	cfg    *M2MConfig // a pointer: printing an M2M shows no secret
	scopes []string
	disc   *discoverer
	oauth  *oauth.Client

	group singleflight.Group
	mu    sync.Mutex
	entry *m2mEntry // the cached token, nil before the first
}

// m2mEntry is a token and when to renew it.
type m2mEntry struct {
	token     M2MToken
	refreshAt time.Time
}

// NewM2M validates cfg and returns an M2M. It does not contact Logto:
// discovery and the first token request happen on first use. A bad field
// yields a [*ConfigError] naming it.
func NewM2M(cfg M2MConfig) (*M2M, error) {
	if cfg.AppID == "" {
		return nil, &ConfigError{"AppID", "required (a Machine-to-machine application's App ID)"}
	}
	if cfg.AppSecret == "" {
		return nil, &ConfigError{"AppSecret", "required (a Machine-to-machine application's App Secret)"}
	}
	ep, err := endpointURL(cfg.Endpoint, cfg.InsecureAllowHTTPEndpoint)
	if err != nil {
		return nil, err
	}
	cfg.Endpoint = ep.String()
	switch {
	case cfg.Resource == "" && cfg.OrganizationID == "":
		return nil, &ConfigError{"Resource", "required unless OrganizationID is set: Logto issues client credentials tokens for an API resource or an organization"}
	case cfg.Resource != "":
		if err := validateResource(cfg.Resource); err != nil {
			return nil, &ConfigError{"Resource", err.Error()}
		}
		if strings.HasPrefix(cfg.Resource, OrganizationURNPrefix) {
			return nil, &ConfigError{"Resource", "an organization URN is not an API resource; set OrganizationID for an organization token"}
		}
	}
	if strings.ContainsFunc(cfg.OrganizationID, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, &ConfigError{"OrganizationID", "must not contain spaces or control characters"}
	}
	var scopes []string
	for _, sc := range cfg.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			return nil, &ConfigError{"Scopes", fmt.Sprintf("invalid scope %q", sc)}
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	if cfg.RefreshMargin < 0 {
		return nil, &ConfigError{"RefreshMargin", "must not be negative"}
	}
	if cfg.RefreshMargin == 0 {
		cfg.RefreshMargin = defaultRefreshMargin
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hc := newProviderHTTPClient(cfg.HTTPClient)
	timeout := clientTimeout(cfg.HTTPClient)
	return &M2M{
		cfg:    &cfg,
		scopes: scopes,
		disc: &discoverer{
			issuer: cfg.Endpoint + "/oidc", http: hc, timeout: timeout, now: cfg.Now, logger: cfg.Logger,
			allowedAlgs: defaultSigningAlgs, insecureHTTP: cfg.InsecureAllowHTTPEndpoint, skew: defaultClockSkew,
		},
		oauth: &oauth.Client{HTTP: hc, ClientID: cfg.AppID, ClientSecret: cfg.AppSecret, Timeout: timeout, Now: cfg.Now},
	}, nil
}

// Token returns the app's access token: the cached one while it is valid
// for longer than the refresh margin, else a new one from Logto's token
// endpoint (grant_type=client_credentials with resource, scope and
// organization_id). Concurrent callers needing a new token share one
// request; the request does not end when the first caller's ctx does, but
// each caller stops waiting when its own ctx is done (the error then
// matches [ErrProviderTimeout] and ctx's error).
//
// When renewing fails for a transient reason (Logto unreachable, a timeout,
// a 5xx) while the cached token has not expired yet, Token returns the
// cached token and logs a warning; the next call tries again.
//
// Errors are [*ProviderError]s with Stage "token" (or "discovery") and,
// when Logto answered with an OAuth error, its Code: "invalid_client" (a
// wrong AppID or AppSecret, HTTP 401; the secret is never in the error),
// "invalid_target" (an unknown resource), "invalid_scope", or
// "access_denied" (HTTP 403: the app is not in the organization; it matches
// [ErrAccessDenied]).
func (m *M2M) Token(ctx context.Context) (*M2MToken, error) {
	cur := m.cached()
	if cur != nil && m.cfg.Now().Before(cur.refreshAt) {
		return cur.token.clone(), nil
	}
	ch := m.group.DoChan("token", func() (any, error) {
		if e := m.cached(); e != nil && m.cfg.Now().Before(e.refreshAt) {
			return e, nil // renewed meanwhile
		}
		// Detached: the first caller going away must not fail the others.
		e, err := m.fetch(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		m.entry = e
		m.mu.Unlock()
		return e, nil
	})
	select {
	case res := <-ch:
		if res.Err == nil {
			return res.Val.(*m2mEntry).token.clone(), nil
		}
		if cur != nil && !cur.token.Expiry.IsZero() && m.cfg.Now().Before(cur.token.Expiry) && transientFailure(res.Err) {
			m.cfg.Logger.Warn("logto: M2M token renewal failed; using the cached token until it expires",
				"resource", m.cfg.Resource, "organization_id", m.cfg.OrganizationID, "expiry", cur.token.Expiry, "err", res.Err.Error())
			return cur.token.clone(), nil
		}
		return nil, res.Err
	case <-ctx.Done():
		return nil, providerFailure("token", ctx.Err(), ReasonTimeout)
	}
}

func (m *M2M) cached() *m2mEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entry
}

// transientFailure reports whether err may go away by itself: Logto
// unreachable or too slow, or a server error.
func transientFailure(err error) bool {
	var pe *ProviderError
	return errors.Is(err, ErrProviderUnavailable) || errors.Is(err, ErrProviderTimeout) ||
		errors.As(err, &pe) && pe.StatusCode >= 500
}

// fetch asks Logto for a token.
func (m *M2M) fetch(ctx context.Context) (*m2mEntry, error) {
	p, err := m.disc.get(ctx)
	if err != nil {
		m.cfg.Logger.Warn("logto: M2M token request failed", "stage", "discovery", "err", err.Error())
		return nil, err
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if m.cfg.Resource != "" {
		form.Set("resource", m.cfg.Resource)
	}
	if m.cfg.OrganizationID != "" {
		form.Set("organization_id", m.cfg.OrganizationID)
	}
	if len(m.scopes) > 0 {
		form.Set("scope", strings.Join(m.scopes, " "))
	}
	sent := m.cfg.Now()
	tr, err := m.oauth.Token(ctx, p.tokenEndpoint, form)
	if err != nil {
		err = endpointError(err)
		m.cfg.Logger.Warn("logto: M2M token request failed",
			"resource", m.cfg.Resource, "organization_id", m.cfg.OrganizationID, "err", err.Error())
		return nil, err
	}
	e := &m2mEntry{token: M2MToken{AccessToken: tr.AccessToken, TokenType: "Bearer", Scopes: strings.Fields(tr.Scope)}}
	e.refreshAt = sent // no expires_in: never reused
	if tr.ExpiresIn > 0 {
		lifetime := time.Duration(tr.ExpiresIn) * time.Second
		e.token.Expiry = sent.Add(lifetime)
		e.refreshAt = e.token.Expiry.Add(-min(m.cfg.RefreshMargin, lifetime/2))
	}
	var missing []string
	for _, s := range m.scopes {
		if !slices.Contains(e.token.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		m.cfg.Logger.Warn("logto: Logto did not grant every requested scope: give the app a role (machine-to-machine, or in the organization) with these permissions",
			"resource", m.cfg.Resource, "organization_id", m.cfg.OrganizationID, "missing", missing)
	}
	m.cfg.Logger.Debug("logto: M2M token issued", "resource", m.cfg.Resource, "organization_id", m.cfg.OrganizationID,
		"scopes", e.token.Scopes, "expires_in", tr.ExpiresIn)
	return e, nil
}
