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
	"time"

	"github.com/logto-go/logto/internal/oauth"
)

// Device sign-in (RFC 8628, the OAuth 2.0 device authorization grant) lets
// a command-line tool or another device without a browser sign a user in:
// it shows a short code and a URL, the user signs in on any browser, and
// the tool gets the user's tokens. In Logto it needs a Native application
// created with the device flow switched on (a choice that cannot be changed
// later): a public client (no secret) allowed only the device_code and
// refresh_token grants. See README "Device sign-in (CLIs)".

// ErrDeviceCodeExpired: the user did not approve a device sign-in before
// its code expired (Logto's live for 10 minutes), or Logto answered
// expired_token. Start a new sign-in. HTTP 401.
var ErrDeviceCodeExpired = errors.New("logto: device code expired")

// DeviceConfig configures a [Device]. Endpoint and AppID are required;
// everything else has a default.
type DeviceConfig struct {
	// Endpoint is the Logto server, as in [Config.Endpoint]. The issuer is
	// Endpoint + "/oidc"; its discovery document must list a
	// device_authorization_endpoint (Logto 1.42 does).
	Endpoint string

	// AppID is the ID of a Native application created in the Logto Console
	// with the device flow on. It has no secret.
	AppID string

	// Scopes are requested in addition to the reserved "openid
	// offline_access profile", like [Config.Scopes]: user scopes and the
	// permissions of your API resources. The device flow needs no
	// prompt=consent for a refresh token (Logto's engine keeps
	// offline_access for device requests, which take no prompt).
	Scopes []string

	// Resources are API resource indicators (RFC 8707) the user grants, as
	// in [Config.Resources].
	Resources []string

	// HTTPClient makes every call to Logto. Default: a client with a 10 s
	// timeout.
	HTTPClient *http.Client

	// Now is the clock of every time check (token expiry, the device code's
	// expiry). Default time.Now.
	Now func() time.Time

	// Sleep waits d between two polls of the token endpoint, or returns
	// ctx's error as soon as ctx is done. Default: a timer. Tests inject one
	// that advances a fake clock instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error

	// Logger receives operational events; never a token, code or secret.
	// nil discards them.
	Logger *slog.Logger

	// OnSessionChange is called with the session when [Device.SignIn] has
	// built it and after every refresh that changed it, before the token is
	// handed out: save it there (for example [DeviceSession.Seal] into a
	// file). Logto rotates a device app's refresh token on every use and
	// revokes the whole grant when an old one is used again a few seconds
	// later, so an unsaved rotation signs the user out at the next start.
	// Its error is returned by the call that caused the change; the session
	// in memory keeps the new tokens. nil: the caller saves when it wants.
	OnSessionChange func(ctx context.Context, s *DeviceSession) error

	// ClockSkew, AccessTokenRefreshMargin, IDTokenSigningAlgs and
	// InsecureAllowHTTPEndpoint mean what they mean in [Config], with the
	// same defaults.
	ClockSkew                 time.Duration
	AccessTokenRefreshMargin  time.Duration
	IDTokenSigningAlgs        []string
	InsecureAllowHTTPEndpoint bool
}

// Device signs users in with the device flow and refreshes their sessions.
// It is immutable and safe for concurrent use.
type Device struct {
	cfg       DeviceConfig // defaults applied
	issuer    string
	scopes    []string
	resources []string
	disc      *discoverer
	oauth     *oauth.Client
}

// DeviceCode is what the user needs to approve a device sign-in: show
// UserCode and VerificationURI (or VerificationURIComplete, which carries
// the code, e.g. as a link or a QR code). It holds no secret: the device
// code proper stays inside [Device.SignIn].
type DeviceCode struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // "" when Logto sends none
	// ExpiresAt is when the code stops working (by DeviceConfig.Now).
	ExpiresAt time.Time
	// Interval is how long SignIn waits between two polls: Logto's interval,
	// else RFC 8628's default of 5 seconds. A slow_down answer adds 5 s.
	Interval time.Duration
}

const (
	defaultPollInterval = 5 * time.Second
	slowDownStep        = 5 * time.Second // RFC 8628 section 3.5
	maxBackoffInterval  = time.Minute
	// maxPollFailures is how many polls in a row may fail to reach Logto
	// (network, timeout, 5xx) before SignIn gives up with that error.
	maxPollFailures = 5
)

// NewDevice validates cfg and returns a Device. It does not contact Logto:
// discovery happens on first use. A bad field gives a [*ConfigError].
func NewDevice(cfg DeviceConfig) (*Device, error) {
	d := &Device{cfg: cfg}
	if cfg.AppID == "" {
		return nil, &ConfigError{"AppID", "required (a Native app's ID, created with the device flow on)"}
	}
	if strings.ContainsFunc(cfg.AppID, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, &ConfigError{"AppID", "must not contain spaces or control characters"}
	}
	ep, err := endpointURL(cfg.Endpoint, cfg.InsecureAllowHTTPEndpoint)
	if err != nil {
		return nil, err
	}
	d.cfg.Endpoint = ep.String()
	d.issuer = d.cfg.Endpoint + "/oidc"
	for _, sc := range cfg.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			return nil, &ConfigError{"Scopes", fmt.Sprintf("invalid scope %q", sc)}
		}
	}
	d.scopes = normalizeScopes(cfg.Scopes)
	for _, r := range cfg.Resources {
		if err := validateResource(r); err != nil {
			return nil, &ConfigError{"Resources", err.Error()}
		}
	}
	d.resources = normalizeResources(cfg.Scopes, cfg.Resources)
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"ClockSkew", &d.cfg.ClockSkew, defaultClockSkew}, {"AccessTokenRefreshMargin", &d.cfg.AccessTokenRefreshMargin, defaultRefreshMargin}} {
		if *f.v < 0 {
			return nil, &ConfigError{f.name, "must not be negative"}
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	algs := defaultSigningAlgs
	if len(cfg.IDTokenSigningAlgs) > 0 {
		for _, a := range cfg.IDTokenSigningAlgs {
			if !slices.Contains(defaultSigningAlgs, a) {
				return nil, &ConfigError{"IDTokenSigningAlgs", fmt.Sprintf("%q is not an allowed asymmetric algorithm", a)}
			}
		}
		algs = slices.Clone(cfg.IDTokenSigningAlgs)
	}
	if d.cfg.HTTPClient == nil {
		d.cfg.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if d.cfg.Now == nil {
		d.cfg.Now = time.Now
	}
	if d.cfg.Sleep == nil {
		d.cfg.Sleep = sleepContext
	}
	if d.cfg.Logger == nil {
		d.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hc := newProviderHTTPClient(d.cfg.HTTPClient)
	timeout := clientTimeout(d.cfg.HTTPClient)
	d.disc = &discoverer{
		issuer: d.issuer, http: hc, timeout: timeout, now: d.cfg.Now, logger: d.cfg.Logger,
		allowedAlgs: algs, insecureHTTP: cfg.InsecureAllowHTTPEndpoint, skew: d.cfg.ClockSkew,
	}
	// A public client: client_id in the form, no secret (RFC 8628 3.1).
	d.oauth = &oauth.Client{HTTP: hc, ClientID: cfg.AppID, Timeout: timeout, Now: d.cfg.Now}
	return d, nil
}

// Scopes returns the scopes a sign-in requests: the reserved ones first.
func (d *Device) Scopes() []string { return slices.Clone(d.scopes) }

// Resources returns the resource indicators a sign-in requests.
func (d *Device) Resources() []string { return slices.Clone(d.resources) }

// Issuer returns the issuer the provider must announce: Endpoint + "/oidc".
func (d *Device) Issuer() string { return d.issuer }

// SignIn runs a device sign-in: it asks Logto for a code, hands it to
// prompt to show to the user, then polls the token endpoint at Logto's
// interval (5 s without one; slow_down adds 5 s; a failure to reach Logto
// doubles it, up to a minute, and the fifth in a row ends the sign-in)
// until the user has approved or denied, the code expired, or ctx is done.
// The ID token is verified exactly like at a web sign-in's callback.
//
// Errors: the user denied matches [ErrAuthorization] (an
// [*AuthorizationError] with Code "access_denied"); an expired code
// matches [ErrDeviceCodeExpired]; a done ctx matches ctx's error
// ([context.Canceled] or [context.DeadlineExceeded]); an error of prompt is
// returned as is; a nil prompt matches [ErrInvalidConfig]; anything else is
// a [*ProviderError] (an app that is not a device-flow Native app gets Code
// "invalid_request", a Traditional app's ID 401 "invalid_client").
func (d *Device) SignIn(ctx context.Context, prompt func(DeviceCode) error) (*DeviceSession, error) {
	if prompt == nil {
		return nil, fmt.Errorf("%w: Device.SignIn needs a prompt to show the code", ErrInvalidConfig)
	}
	p, err := d.disc.get(ctx)
	if err != nil {
		return nil, d.ctxOr(ctx, err)
	}
	if p.deviceAuthorizationEndpoint == "" {
		return nil, &ProviderError{Stage: "discovery", Reason: ReasonDiscovery, Err: errors.New("no device_authorization_endpoint in the discovery document")}
	}
	form := url.Values{"scope": {strings.Join(d.scopes, " ")}}
	if len(d.resources) > 0 {
		form["resource"] = slices.Clone(d.resources)
	}
	da, err := d.oauth.DeviceAuthorize(ctx, p.deviceAuthorizationEndpoint, form)
	if err != nil {
		return nil, d.ctxOr(ctx, endpointError(err))
	}
	code := DeviceCode{
		UserCode: da.UserCode, VerificationURI: da.VerificationURI, VerificationURIComplete: da.VerificationURIComplete,
		ExpiresAt: time.Unix(da.IssuedAt+da.ExpiresIn, 0), Interval: time.Duration(da.Interval) * time.Second,
	}
	if code.Interval <= 0 {
		code.Interval = defaultPollInterval
	}
	if err := prompt(code); err != nil {
		return nil, err
	}
	tr, err := d.poll(ctx, p, da.DeviceCode, code)
	if err != nil {
		return nil, err
	}
	if tr.IDToken == "" {
		return nil, &ProviderError{Stage: "token", Reason: ReasonMissingIDToken}
	}
	if _, err := verifyIDToken(ctx, p, d.cfg.AppID, tr.IDToken, idTokenCheck{accessToken: tr.AccessToken}); err != nil {
		return nil, err
	}
	s := newDeviceSession(d, &session{
		IDToken:      tr.IDToken,
		RefreshToken: tr.RefreshToken,
		AccessTokens: map[string]accessTokenEntry{
			accessTokenKey("", ""): {Token: tr.AccessToken, Scope: tr.Scope, ExpiresAt: tr.IssuedAt + tr.ExpiresIn},
		},
		CreatedAt: d.cfg.Now().UnixMilli(),
		expanded:  true,
	})
	d.cfg.Logger.Info("logto: device sign-in approved", "refresh_token", tr.RefreshToken != "")
	if err := s.saved(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// poll asks the token endpoint for the device code's tokens until they
// come or the sign-in ends (RFC 8628 section 3.4 and 3.5).
func (d *Device) poll(ctx context.Context, p *provider, deviceCode string, code DeviceCode) (*tokenResponse, error) {
	interval, failures := code.Interval, 0
	for {
		if err := d.cfg.Sleep(ctx, interval); err != nil {
			return nil, d.ctxOr(ctx, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tr, err := d.oauth.Token(ctx, p.tokenEndpoint, url.Values{"grant_type": {oauth.GrantTypeDeviceCode}, "device_code": {deviceCode}})
		if err == nil {
			return tr, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var oe *oauth.Error
		if !errors.As(err, &oe) {
			return nil, endpointError(err)
		}
		switch {
		case oe.Code == oauth.CodeAuthorizationPending:
			failures = 0
		case oe.Code == oauth.CodeSlowDown:
			failures = 0
			interval += slowDownStep
			d.cfg.Logger.Debug("logto: device sign-in: slow_down, polling less often", "interval", interval)
		case oe.Code == oauth.CodeAccessDenied:
			return nil, &AuthorizationError{Code: oe.Code, Description: oe.Description}
		case oe.Code == oauth.CodeExpiredToken:
			return nil, fmt.Errorf("%w (Logto answered expired_token)", ErrDeviceCodeExpired)
		case oe.Kind == oauth.KindNetwork || oe.Kind == oauth.KindTimeout || oe.StatusCode >= 500:
			if failures++; failures >= maxPollFailures {
				return nil, endpointError(err)
			}
			interval = min(interval*2, max(maxBackoffInterval, interval))
			d.cfg.Logger.Warn("logto: device sign-in: Logto unreachable, polling less often", "err", err.Error(), "interval", interval)
		default:
			return nil, endpointError(err)
		}
		if !d.cfg.Now().Before(code.ExpiresAt) {
			return nil, fmt.Errorf("%w (not approved before %s)", ErrDeviceCodeExpired, code.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
}

// ctxOr returns ctx's error when ctx is done (err is then its consequence),
// else err.
func (d *Device) ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// sleepContext waits d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
