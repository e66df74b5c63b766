// Package logto signs users of a Go web app in with Logto (https://logto.io),
// the way @logto/next does for Next.js: OpenID Connect authorization code flow
// with PKCE, state and nonce; tokens sealed in encrypted cookies; net/http
// handlers for /sign-in, /callback and /sign-out; and a [Context] that tells
// every request who is signed in.
//
// # Quick start
//
//	client, err := logto.New(logto.Config{
//		AppID:        os.Getenv("LOGTO_APP_ID"),
//		AppSecret:    os.Getenv("LOGTO_APP_SECRET"),
//		Endpoint:     "https://your-tenant.logto.app",
//		BaseURL:      "https://app.example.com",
//		CookieSecret: os.Getenv("LOGTO_COOKIE_SECRET"), // 32+ characters
//	})
//	mux := http.NewServeMux()
//	mux.Handle("/", client.Handler()) // /sign-in, /callback, /sign-out, /backchannel-logout
//	mux.Handle("GET /{$}", client.Middleware(home)) // home reads logto.FromContext
//	mux.Handle("/api/", client.RequireAuth(api))    // 401 for APIs, sign-in for pages
//
// In handlers, [Client.GetAccessToken] and [Client.GetOrganizationToken] give
// tokens for your APIs (refreshed when needed), and [Client.GetContext] with
// options mirrors @logto/next's getLogtoContext. APIs that receive Logto
// access tokens use a [ResourceServer].
//
// # Machine-to-machine
//
// A backend job or service that calls an API with its own identity, not a
// user's, uses a Logto "Machine-to-machine" application and an [M2M]: the
// OAuth 2.0 client credentials grant, a cached token renewed ahead of expiry
// with one request for many concurrent callers, an [http.Client] that sends
// it ([M2M.Client]) and an oauth2.TokenSource ([M2M.TokenSource]):
//
//	m2m, err := logto.NewM2M(logto.M2MConfig{
//		Endpoint:  "https://your-tenant.logto.app",
//		AppID:     os.Getenv("LOGTO_M2M_APP_ID"),
//		AppSecret: os.Getenv("LOGTO_M2M_APP_SECRET"),
//		Resource:  "https://api.example.com", // or logto.ManagementAPIResource(endpoint) with scope "all"
//		Scopes:    []string{"read:items"},
//	})
//	resp, err := m2m.Client(nil).Get("https://api.example.com/items")
//
// # Sessions
//
// By default the whole session (ID token, refresh token, access tokens) lives
// in the browser: a compact binary record, compressed and sealed with
// gorilla/securecookie, split into cookies of at most 4096 bytes when needed.
// Reading it costs a few microseconds and no call to Logto. With
// [Config.SessionStore] the session lives server-side (see package
// redisstore) and the cookie holds a sealed random ID. Sessions have an
// absolute and an idle lifetime, checked from sealed timestamps; a tampered,
// expired, truncated or foreign cookie simply means "signed out". Several
// instances of an app share sessions, back-channel logouts and token
// refreshes through one [Config.Shared] value.
//
// # Security
//
// Every policy (algorithm allowlist, clock skew, transaction lifetime and cap,
// the JWKS refetch rule on key rotation, single redemption of a code,
// validation of refreshed ID tokens, input bounds, token kinds at a
// ResourceServer, redirect targets, CSRF on sign-out, what is logged) is
// listed in SECURITY.md in the repository, with the tests that fix it.
//
// # Errors and statuses
//
// Every error matches a sentinel with [errors.Is]; [StatusCode] maps it to the
// status the default error page uses:
//
//	ErrInvalidCallback          400  bad state, replay (a code already redeemed), iss mix-up, duplicate, oversized or malformed parameters
//	ErrInvalidLogoutToken       400  a rejected back-channel logout request
//	ErrAuthorization            401  Logto answered with an OAuth error (e.g. access_denied)
//	ErrNotAuthenticated         401  no usable session (or Logto ended it)
//	ErrNoRefreshToken           401  no refresh token to get access tokens with
//	ErrDeviceCodeExpired        401  a device sign-in's code expired before the user approved it
//	ErrInvalidToken             401  a ResourceServer rejected the access token
//	ErrCSRF                     403  cross-origin sign-out
//	ErrAccessDenied             403  Logto refused an organization token
//	ErrInsufficientScope        403  a ResourceServer wanted another scope, token kind or organization
//	ErrMethodNotAllowed         405  GET on sign-out
//	ErrInvalidConfig            500  (also ErrInvalidResource, ErrInvalidSignInOptions, ErrSessionTooLarge)
//	ErrProviderResponse         502  bad answer from Logto, invalid ID token, invalid_grant
//	ErrProviderUnavailable      503  Logto unreachable
//	ErrSessionStoreUnavailable  503  the session store cannot be read
//	ErrProviderTimeout          504  Logto too slow
//
// # Device sign-in
//
// Command-line tools sign users in with [NewDevice] (RFC 8628, a Native app
// created with the device flow on): [Device.SignIn] shows a code and a link
// and polls until the user approved; the [DeviceSession] it returns gets
// access tokens like a web session and is sealed into a file with
// [DeviceSession.Seal]. README: https://github.com/logto-go/logto#device-sign-in-clis
//
// # Testing
//
// Package logtotest is an in-process Logto-compatible provider for your own
// tests (users, apps, API resources, organizations, misbehaviour hooks, an
// injectable clock); package logtodev adds Logto's sign-in pages for local
// development, and storetest checks custom session stores.
//
// README: https://github.com/logto-go/logto#readme (quick start, configuration, modules).
package logto

import (
	"net/http"
	"time"

	"github.com/logto-go/logto/internal/oauth"
	"github.com/logto-go/logto/internal/seal"
)

// Client signs users in and out with one Logto application. It is safe for
// concurrent use; create one per app at start-up and share it.
type Client struct {
	cfg  *settings
	http *http.Client // provider calls: size-capped, no redirects
	// oauth makes every call to the token, revocation and userinfo endpoints.
	oauth *oauth.Client
	// sessions seals, opens and keeps sessions (sessions.go).
	sessions *sessions
	// results seals refresh results handed to the RefreshCoalescer.
	results *seal.Codec
	tx      *transactions
	disc    *discoverer
	csrf    *http.CrossOriginProtection

	// redeemed makes each authorization code redeemed once (redeem.go).
	redeemed *redemptions
}

// New validates cfg, applies defaults and returns a Client. It does not
// contact Logto: discovery happens on first use and is retried after a
// failure. A bad field yields a [*ConfigError] naming it.
func New(cfg Config) (*Client, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	useLogger(s.RevocationList, s.Logger) // the memory list warns past its bound
	sessions, err := newSessions(s)
	if err != nil {
		return nil, err
	}
	results, err := seal.New(s.cookieSecrets, "refresh-result|"+s.AppID, time.Minute)
	if err != nil {
		return nil, err
	}
	txs, err := newTransactions(s)
	if err != nil {
		return nil, err
	}
	csrf := http.NewCrossOriginProtection()
	if err := csrf.AddTrustedOrigin(s.baseOrigin); err != nil {
		return nil, &ConfigError{"BaseURL", err.Error()}
	}
	hc := newProviderHTTPClient(s.HTTPClient)
	return &Client{
		cfg:      s,
		http:     hc,
		sessions: sessions,
		results:  results,
		tx:       txs,
		csrf:     csrf,
		disc: &discoverer{
			issuer: s.issuer, http: hc, timeout: clientTimeout(s.HTTPClient), now: s.Now, logger: s.Logger,
			allowedAlgs: s.signingAllowed, insecureHTTP: s.InsecureAllowHTTPEndpoint, skew: s.ClockSkew,
		},
		oauth:    &oauth.Client{HTTP: hc, ClientID: s.AppID, ClientSecret: s.AppSecret, Timeout: clientTimeout(s.HTTPClient), Now: s.Now},
		redeemed: newRedemptions(s.Now),
	}, nil
}

// Scopes returns the scopes sent at sign-in: the reserved ones first.
func (c *Client) Scopes() []string { return append([]string(nil), c.cfg.scopes...) }

// Resources returns the resource indicators sent at sign-in.
func (c *Client) Resources() []string { return append([]string(nil), c.cfg.resources...) }

// RedirectURI returns the callback URL to register in the Logto Console.
func (c *Client) RedirectURI() string { return c.cfg.redirectURI }

// PostLogoutRedirectURI returns the post sign-out URL to register in the Logto Console.
func (c *Client) PostLogoutRedirectURI() string { return c.cfg.PostLogoutRedirectURI }

// Issuer returns the issuer the provider must announce: Endpoint + "/oidc".
func (c *Client) Issuer() string { return c.cfg.issuer }
