package logto

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config configures a [Client]. AppID, AppSecret, Endpoint, BaseURL and
// CookieSecret are required; everything else has a secure default.
//
// Config redacts AppSecret and the cookie secrets when printed or logged.
type Config struct {
	// AppID and AppSecret are the credentials of a "Traditional web" application
	// in the Logto Console. The app authenticates with client_secret_basic.
	AppID     string
	AppSecret string

	// Endpoint is the Logto server, e.g. "https://foo.logto.app" or
	// "http://localhost:3001". It may carry a tenant path prefix. The issuer is
	// Endpoint + "/oidc". http:// is accepted only for loopback hosts unless
	// InsecureAllowHTTPEndpoint is set.
	Endpoint string

	// BaseURL is the app's public origin (plus optional path prefix) as the browser
	// sees it, e.g. "https://app.example.com". Redirect URIs are built from it.
	BaseURL string

	// CookieSecret seals the session and transaction cookies; at least 32
	// characters. PreviousCookieSecrets still open cookies sealed with older
	// secrets, so a secret can be rotated without signing everyone out.
	CookieSecret          string
	PreviousCookieSecrets []string

	// CookieSecure forces the Secure attribute on every cookie. It is always on
	// when BaseURL is https. With Secure cookies every cookie name carries the
	// __Host- prefix (__Host-logto_<AppID>, ...), so browsers accept them only
	// from this exact host over a secure origin; plain names stay for
	// http://localhost development.
	CookieSecure bool

	// Scopes are requested in addition to the reserved "openid offline_access
	// profile", which are always sent first, de-duplicated, in that order:
	// user scopes ([UserScopeEmail], [UserScopeRoles], ...) AND the
	// permissions of your API resources (e.g. "read:messages"). Logto puts in
	// an API's access token only the permissions that were requested here and
	// that the user's roles grant: an API permission missing from Scopes is
	// missing from every token, and the API answers 403. Requesting
	// [UserScopeOrganizations] adds [ReservedResourceOrganizations] to
	// Resources.
	Scopes []string

	// Resources are API resource indicators (RFC 8707) the user grants at
	// sign-in, e.g. "https://api.example.com". Put the permissions you need
	// from them in Scopes too: a resource alone yields a token without
	// permissions.
	Resources []string

	// Prompt is the default "prompt" parameter (space-separated list), default
	// [PromptConsent]: Logto issues refresh tokens only with consent.
	Prompt string

	// Paths served by [Client.Handler], below BaseURL's path: with BaseURL
	// "https://example.com/app" the callback is "/app/callback". The redirect
	// URI to register in Logto is BaseURL + CallbackPath.
	SignInPath   string // default "/sign-in"
	CallbackPath string // default "/callback"
	SignOutPath  string // default "/sign-out"
	// BackChannelLogoutPath receives Logto's back-channel logout requests;
	// register BaseURL + this path as the app's Backchannel logout URI. A
	// self-hosted Logto delivers logout tokens to loopback and private
	// addresses only when started with OIDC_PROVIDER_SSRF_PROTECTION_DISABLED=1.
	BackChannelLogoutPath string // default "/backchannel-logout"

	// Shared is what several instances of the app share: the SessionStore,
	// RevocationList and RefreshCoalescer in one value (see [SharedState];
	// redisstore.NewSharedState for Redis). Set either Shared or those three
	// fields. nil: one process, or the three fields below.
	Shared *SharedState

	// RevocationList remembers sessions ended by back-channel logout. Default:
	// in memory (one process); several instances need a shared one, e.g.
	// NewStoreRevocationList(store), or [Config.Shared].
	RevocationList RevocationList

	// SessionStore keeps sessions server-side; the cookie then holds only a
	// random session ID. nil keeps the whole (sealed) session in cookies.
	// [New] takes any store but one from [NewMemoryStore] as shared by
	// several instances, and then refuses the in-process RevocationList and
	// RefreshCoalescer defaults: set [Config.Shared] instead, or
	// InsecureProcessLocalState.
	// When it implements [AtomicAdder] (NewMemoryStore and redisstore do), it
	// also makes sure one instance among several redeems a sign-in's code;
	// otherwise each instance redeems a code at most once, and two instances
	// receiving the same callback at once could both redeem it (Logto then
	// revokes the grant): see [Client.HandleSignIn].
	SessionStore Store

	// PostLogoutRedirectURI is where Logto sends the browser after sign-out; it
	// must be registered in the Console. Default BaseURL + "/".
	PostLogoutRedirectURI string

	// HTTPClient makes every call to Logto. Default: a client with a 10 s timeout.
	HTTPClient *http.Client

	// Now is the clock used for every time check. Default time.Now.
	Now func() time.Time

	// Logger receives operational events. It never receives a token, code or
	// secret. nil discards them.
	Logger *slog.Logger

	// ErrorHandler renders failures of the handlers mounted by [Client.Handler].
	// Default: a plain HTML page with the status from [StatusCode].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// ClockSkew is the tolerance for every token time check (exp, nbf, iat),
	// applied symmetrically. Default 60 s.
	ClockSkew time.Duration

	// AccessTokenRefreshMargin refreshes a cached access token this long before
	// it expires, so a token handed out is still valid when it reaches the API.
	// Default 60 s.
	AccessTokenRefreshMargin time.Duration

	// RefreshCoalescer collapses concurrent refreshes of one session into one
	// token request. Default: in-process (singleflight plus a short result
	// cache). Several instances need a shared one, e.g.
	// redisstore.NewRefreshCoalescer, or [Config.Shared].
	RefreshCoalescer RefreshCoalescer

	// SessionMaxAge is the absolute lifetime of a session from sign-in.
	// Default 14 days, like Logto's own SDKs.
	SessionMaxAge time.Duration

	// SessionIdleTimeout ends a session unused for this long (its activity is
	// recorded at most once per SessionIdleTimeout/168, e.g. hourly for 7
	// days, so reads rarely rewrite the cookie). Default 7 days; negative
	// disables it. Both lifetimes are checked from timestamps sealed in the
	// session, not from the cookie's Max-Age.
	SessionIdleTimeout time.Duration

	// SessionCacheBytes bounds the cache of verified cookie sessions: a
	// repeat request with the exact cookie bytes a previous request opened
	// skips decoding, the MAC check, decryption and claims parsing (the
	// lifetimes, ID token expiry and back-channel logouts are still checked
	// on every request). Default 32 MiB, about 5,000 typical sessions;
	// negative disables it. Server-side sessions are never cached: the
	// store stays the source of truth.
	SessionCacheBytes int64

	// MaxPendingSignIns caps how many sign-in transactions (tabs) can be in
	// flight per browser; the oldest is dropped beyond it. Default 5.
	MaxPendingSignIns int

	// IDTokenSigningAlgs is the allowlist of JWS algorithms accepted for ID
	// tokens, intersected with the provider's discovery document. Only
	// asymmetric algorithms are allowed. Default: ES256, ES384, ES512, RS256,
	// RS384, RS512, PS256, PS384, PS512, EdDSA.
	IDTokenSigningAlgs []string

	// InsecureAllowHTTPEndpoint accepts an http:// Endpoint on a non-loopback
	// host. Tokens then travel in clear text: for closed test networks only.
	InsecureAllowHTTPEndpoint bool

	// InsecureProcessLocalState lets a SessionStore (other than
	// [NewMemoryStore]'s) run with the in-process RevocationList and
	// RefreshCoalescer defaults, which [New] otherwise refuses: for an app
	// served by exactly one process that keeps its sessions in, say, a local
	// database. It MUST NOT be used when several instances serve the app,
	// even briefly during a rolling deploy: a back-channel logout received by
	// one instance would leave the session alive on the others, and
	// instances would refresh one session concurrently. Use [Config.Shared].
	InsecureProcessLocalState bool
}

// Prompt values (OpenID Connect Core 3.1.2.1).
const (
	PromptConsent = "consent"
	PromptLogin   = "login"
	PromptNone    = "none"
)

// Scopes Logto understands. The reserved ones are always requested.
const (
	ReservedScopeOpenID        = "openid"
	ReservedScopeOfflineAccess = "offline_access"

	UserScopeProfile           = "profile"
	UserScopeEmail             = "email"
	UserScopePhone             = "phone"
	UserScopeAddress           = "address"
	UserScopeCustomData        = "custom_data"
	UserScopeIdentities        = "identities"
	UserScopeRoles             = "roles"
	UserScopeOrganizations     = "urn:logto:scope:organizations"
	UserScopeOrganizationRoles = "urn:logto:scope:organization_roles"

	// ReservedResourceOrganizations is added to the resources whenever
	// UserScopeOrganizations is requested; without it Logto issues organization
	// tokens with an empty scope.
	ReservedResourceOrganizations = "urn:logto:resource:organizations"
)

var defaultSigningAlgs = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

const (
	minCookieSecretLen   = 32
	defaultClockSkew     = 60 * time.Second
	defaultSessionMaxAge = 14 * 24 * time.Hour
	defaultIdleTimeout   = 7 * 24 * time.Hour
	// defaultSessionCacheBytes: see Config.SessionCacheBytes.
	defaultSessionCacheBytes = 32 << 20
	defaultHTTPTimeout       = 10 * time.Second
	defaultMaxPending        = 5
	defaultRefreshMargin     = 60 * time.Second
)

// String redacts the secrets, so a Config can be printed or logged safely.
func (c Config) String() string {
	return fmt.Sprintf("logto.Config{AppID:%q, AppSecret:%s, Endpoint:%q, BaseURL:%q, CookieSecret:%s}",
		c.AppID, redacted(c.AppSecret), c.Endpoint, c.BaseURL, redacted(c.CookieSecret))
}

// GoString redacts like String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue redacts the secrets for log/slog.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("app_id", c.AppID),
		slog.String("app_secret", redacted(c.AppSecret)),
		slog.String("endpoint", c.Endpoint),
		slog.String("base_url", c.BaseURL),
		slog.String("cookie_secret", redacted(c.CookieSecret)),
	)
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// settings is a validated Config with every default applied.
type settings struct {
	Config
	endpoint       *url.URL
	basePath       string // BaseURL's path, without trailing slash
	issuer         string
	redirectURI    string
	baseOrigin     string
	scopes         []string
	resources      []string
	secure         bool
	cookieSecrets  []string
	signingAllowed []string
}

func (c Config) validate() (*settings, error) {
	s := &settings{Config: c}
	if c.AppID == "" {
		return nil, &ConfigError{"AppID", "required"}
	}
	if !isCookieToken(c.AppID) {
		return nil, &ConfigError{"AppID", "must contain only letters, digits and -_. (it names the cookie)"}
	}
	if c.AppSecret == "" {
		return nil, &ConfigError{"AppSecret", "required (a Traditional web app's secret)"}
	}

	ep, err := endpointURL(c.Endpoint, c.InsecureAllowHTTPEndpoint)
	if err != nil {
		return nil, err
	}
	s.endpoint = ep
	s.Endpoint = ep.String()
	s.issuer = s.Endpoint + "/oidc"

	base, err := parseAbsoluteURL(c.BaseURL)
	if err != nil {
		return nil, &ConfigError{"BaseURL", err.Error()}
	}
	s.BaseURL = base.String()
	s.baseOrigin = base.Scheme + "://" + base.Host
	s.basePath = strings.TrimRight(base.Path, "/")
	s.secure = c.CookieSecure || base.Scheme == "https"

	if len(c.CookieSecret) < minCookieSecretLen {
		return nil, &ConfigError{"CookieSecret", fmt.Sprintf("must be at least %d characters", minCookieSecretLen)}
	}
	s.cookieSecrets = []string{c.CookieSecret}
	for i, p := range c.PreviousCookieSecrets {
		if len(p) < minCookieSecretLen {
			return nil, &ConfigError{fmt.Sprintf("PreviousCookieSecrets[%d]", i), fmt.Sprintf("must be at least %d characters", minCookieSecretLen)}
		}
		s.cookieSecrets = append(s.cookieSecrets, p)
	}

	for _, p := range []struct {
		field string
		val   *string
		def   string
	}{{"SignInPath", &s.SignInPath, "/sign-in"}, {"CallbackPath", &s.CallbackPath, "/callback"}, {"SignOutPath", &s.SignOutPath, "/sign-out"}, {"BackChannelLogoutPath", &s.BackChannelLogoutPath, "/backchannel-logout"}} {
		if *p.val == "" {
			*p.val = p.def
		}
		if !strings.HasPrefix(*p.val, "/") || strings.ContainsAny(*p.val, "?#") {
			return nil, &ConfigError{p.field, "must be a path starting with /"}
		}
	}
	s.redirectURI = s.BaseURL + s.CallbackPath

	if s.PostLogoutRedirectURI == "" {
		s.PostLogoutRedirectURI = s.BaseURL + "/"
	} else if _, err := parseAbsoluteURL(s.PostLogoutRedirectURI); err != nil {
		return nil, &ConfigError{"PostLogoutRedirectURI", err.Error()}
	}

	if s.Prompt == "" {
		s.Prompt = PromptConsent
	}
	if err := validatePrompt(s.Prompt); err != nil {
		return nil, &ConfigError{"Prompt", err.Error()}
	}

	for _, sc := range c.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			return nil, &ConfigError{"Scopes", fmt.Sprintf("invalid scope %q", sc)}
		}
	}
	s.scopes = normalizeScopes(c.Scopes)
	for _, r := range c.Resources {
		if err := validateResource(r); err != nil {
			return nil, &ConfigError{"Resources", err.Error()}
		}
	}
	s.resources = normalizeResources(c.Scopes, c.Resources)

	if s.ClockSkew < 0 {
		return nil, &ConfigError{"ClockSkew", "must not be negative"}
	}
	if s.ClockSkew == 0 {
		s.ClockSkew = defaultClockSkew
	}
	if s.AccessTokenRefreshMargin < 0 {
		return nil, &ConfigError{"AccessTokenRefreshMargin", "must not be negative"}
	}
	if s.AccessTokenRefreshMargin == 0 {
		s.AccessTokenRefreshMargin = defaultRefreshMargin
	}
	if s.SessionMaxAge < 0 {
		return nil, &ConfigError{"SessionMaxAge", "must not be negative"}
	}
	if s.SessionMaxAge == 0 {
		s.SessionMaxAge = defaultSessionMaxAge
	}
	switch {
	case s.SessionIdleTimeout == 0:
		s.SessionIdleTimeout = defaultIdleTimeout
	case s.SessionIdleTimeout < 0:
		s.SessionIdleTimeout = 0 // disabled
	}
	switch {
	case s.SessionCacheBytes == 0:
		s.SessionCacheBytes = defaultSessionCacheBytes
	case s.SessionCacheBytes < 0:
		s.SessionCacheBytes = 0 // disabled
	}
	if s.MaxPendingSignIns < 0 {
		return nil, &ConfigError{"MaxPendingSignIns", "must not be negative"}
	}
	if s.MaxPendingSignIns == 0 {
		s.MaxPendingSignIns = defaultMaxPending
	}

	if len(c.IDTokenSigningAlgs) == 0 {
		s.signingAllowed = defaultSigningAlgs
	} else {
		for _, a := range c.IDTokenSigningAlgs {
			if !slices.Contains(defaultSigningAlgs, a) {
				return nil, &ConfigError{"IDTokenSigningAlgs", fmt.Sprintf("%q is not an allowed asymmetric algorithm", a)}
			}
		}
		s.signingAllowed = slices.Clone(c.IDTokenSigningAlgs)
	}

	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if err := s.resolveState(); err != nil {
		return nil, err
	}
	return s, nil
}

// cookieName names a cookie this package sets. With Secure cookies it
// carries the __Host- prefix (RFC 6265bis section 4.1.3.2): a browser then
// accepts the cookie only with Secure, Path=/ and no Domain, set from a
// secure origin, so a sibling subdomain or a network attacker on plain http
// cannot plant or overwrite it. Every cookie here is already Path=/ without
// Domain. Plain names stay for http://localhost development.
func (s *settings) cookieName(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

// normalizeScopes returns "openid offline_access profile" followed by the
// user's scopes, de-duplicated, in order: what @logto/js sends.
func normalizeScopes(user []string) []string {
	out := []string{ReservedScopeOpenID, ReservedScopeOfflineAccess, UserScopeProfile}
	for _, s := range user {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// normalizeResources de-duplicates the resources and adds the organizations
// resource when the organizations scope is requested.
func normalizeResources(scopes, resources []string) []string {
	var out []string
	for _, r := range resources {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if slices.Contains(scopes, UserScopeOrganizations) && !slices.Contains(out, ReservedResourceOrganizations) {
		out = append(out, ReservedResourceOrganizations)
	}
	return out
}

func validatePrompt(p string) error {
	for _, v := range strings.Fields(p) {
		switch v {
		case PromptConsent, PromptLogin, PromptNone, "select_account":
		default:
			return fmt.Errorf("unknown prompt %q (want consent, login or none)", v)
		}
	}
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("empty")
	}
	return nil
}

func validateResource(r string) error {
	u, err := url.Parse(r)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.ContainsAny(r, " \t\r\n#") {
		return fmt.Errorf("resource %q must be an absolute URI without fragment (RFC 8707)", r)
	}
	return nil
}

func parseAbsoluteURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("required")
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("must be an http:// or https:// URL")
	}
	if u.Host == "" {
		return nil, fmt.Errorf("must include a host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("must not contain a query, fragment or user info")
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isCookieToken(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return s != ""
}

// endpointURL checks a Logto Endpoint, the one rule for every config: an
// absolute URL, https unless the host is loopback (or insecureHTTP says a
// closed test network). The error is a *ConfigError naming Endpoint.
func endpointURL(raw string, insecureHTTP bool) (*url.URL, error) {
	ep, err := parseAbsoluteURL(raw)
	if err != nil {
		return nil, &ConfigError{"Endpoint", err.Error()}
	}
	if ep.Scheme == "http" && !isLoopback(ep.Hostname()) && !insecureHTTP {
		return nil, &ConfigError{"Endpoint", "http:// is allowed only for loopback hosts; use https:// (or set InsecureAllowHTTPEndpoint for a closed test network)"}
	}
	return ep, nil
}
