package logto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"

	"github.com/logto-go/logto/internal/jwt"
)

// provider is what discovery taught us about the Logto tenant.
type provider struct {
	issuer                string
	authorizationEndpoint string
	tokenEndpoint         string
	userinfoEndpoint      string
	endSessionEndpoint    string
	revocationEndpoint    string
	jwksURI               string
	issParameterSupported bool
	algorithms            []string // allowlist ∩ discovery
	// verifier checks every JWT from this provider: ID, access and logout
	// tokens, with one key set and its refetch policy.
	verifier *jwt.Verifier
	// deviceAuthorizationEndpoint is RFC 8628's, "" when not advertised.
	deviceAuthorizationEndpoint string
}

// discoveryMeta holds the discovery fields go-oidc does not expose.
type discoveryMeta struct {
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	IssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	IDTokenAlgs           []string `json:"id_token_signing_alg_values_supported"`
	JWKSURI               string   `json:"jwks_uri"`
	DeviceAuthorization   string   `json:"device_authorization_endpoint"`
}

const (
	// discoveryRetryAfter rate-limits discovery after a failure; the failure is
	// forgotten afterwards so an outage never sticks.
	discoveryRetryAfter = time.Second
	// maxProviderBody caps every response body read from the provider.
	maxProviderBody = 1 << 20
)

// discoverer fetches the provider metadata lazily, caches it, and retries
// after a failure. Client and ResourceServer each own one.
type discoverer struct {
	issuer       string
	http         *http.Client
	timeout      time.Duration
	now          func() time.Time
	logger       *slog.Logger
	allowedAlgs  []string
	insecureHTTP bool
	skew         time.Duration

	mu       sync.Mutex
	cached   *provider
	failure  error
	failedAt time.Time
	group    singleflight.Group
}

// provider returns the discovered metadata, fetching it if needed.
func (c *Client) provider(ctx context.Context) (*provider, error) { return c.disc.get(ctx) }

func (d *discoverer) get(ctx context.Context) (*provider, error) {
	d.mu.Lock()
	if d.cached != nil {
		p := d.cached
		d.mu.Unlock()
		return p, nil
	}
	if d.failure != nil && d.now().Sub(d.failedAt) < discoveryRetryAfter {
		err := d.failure
		d.mu.Unlock()
		return nil, err
	}
	d.mu.Unlock()

	ch := d.group.DoChan("discover", func() (any, error) {
		p, err := d.discover(context.WithoutCancel(ctx))
		d.mu.Lock()
		defer d.mu.Unlock()
		if err != nil {
			d.failure, d.failedAt = err, d.now()
			return nil, err
		}
		d.cached, d.failure = p, nil
		return p, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*provider), nil
	case <-ctx.Done():
		return nil, providerFailure("discovery", ctx.Err(), ReasonDiscovery)
	}
}

func (d *discoverer) discover(ctx context.Context) (*provider, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, d.http), d.issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, &ProviderError{Stage: "discovery", Reason: ReasonIssuer, Err: fmt.Errorf("issuer %q does not match the expected %q", sanitize(mismatch.Discovered, 200), d.issuer)}
		}
		return nil, providerFailure("discovery", err, ReasonDiscovery)
	}
	var meta discoveryMeta
	if err := op.Claims(&meta); err != nil {
		return nil, &ProviderError{Stage: "discovery", Reason: ReasonInvalidJSON, Err: err}
	}
	ep := op.Endpoint()
	p := &provider{
		issuer:                d.issuer,
		authorizationEndpoint: ep.AuthURL,
		tokenEndpoint:         ep.TokenURL,
		userinfoEndpoint:      op.UserInfoEndpoint(),
		endSessionEndpoint:    meta.EndSessionEndpoint,
		revocationEndpoint:    meta.RevocationEndpoint,
		jwksURI:               meta.JWKSURI,
		issParameterSupported: meta.IssParameterSupported,
	}
	p.deviceAuthorizationEndpoint = meta.DeviceAuthorization
	for name, u := range map[string]string{"authorization_endpoint": p.authorizationEndpoint, "token_endpoint": p.tokenEndpoint, "jwks_uri": p.jwksURI} {
		if err := d.checkEndpointURL(u); err != nil {
			return nil, &ProviderError{Stage: "discovery", Reason: ReasonDiscovery, Err: fmt.Errorf("%s: %v", name, err)}
		}
	}
	for name, u := range map[string]*string{"end_session_endpoint": &p.endSessionEndpoint, "revocation_endpoint": &p.revocationEndpoint, "userinfo_endpoint": &p.userinfoEndpoint, "device_authorization_endpoint": &p.deviceAuthorizationEndpoint} {
		if *u != "" && d.checkEndpointURL(*u) != nil {
			d.logger.Warn("logto: ignoring unusable endpoint from discovery", "endpoint", name)
			*u = ""
		}
	}
	// The allowlist is ours; discovery can only narrow it (never widen it).
	for _, a := range d.allowedAlgs {
		if len(meta.IDTokenAlgs) == 0 || slices.Contains(meta.IDTokenAlgs, a) {
			p.algorithms = append(p.algorithms, a)
		}
	}
	if len(p.algorithms) == 0 {
		return nil, &ProviderError{Stage: "discovery", Reason: ReasonDiscovery, Err: errors.New("no allowed ID token signing algorithm in id_token_signing_alg_values_supported")}
	}
	p.verifier = &jwt.Verifier{
		Issuer:     d.issuer,
		Keys:       &jwt.KeySet{URL: p.jwksURI, Client: d.http, Now: d.now},
		Algorithms: p.algorithms,
		Now:        d.now,
		Skew:       d.skew,
	}
	return p, nil
}

// checkEndpointURL applies the Endpoint transport rule to discovered URLs.
func (d *discoverer) checkEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (isLoopback(u.Hostname()) || d.insecureHTTP):
		return nil
	}
	return errors.New("must be https")
}

func (c *Client) httpTimeout() time.Duration { return c.disc.timeout }

// clientTimeout is the timeout of one provider call.
func clientTimeout(hc *http.Client) time.Duration {
	if hc.Timeout > 0 {
		return hc.Timeout
	}
	return defaultHTTPTimeout
}

// newProviderHTTPClient wraps the configured client so that provider calls
// never follow redirects and never read more than maxProviderBody bytes.
func newProviderHTTPClient(base *http.Client) *http.Client {
	cl := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	cl.Transport = limitTransport{rt}
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cl
}

type limitTransport struct{ next http.RoundTripper }

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{r: io.LimitReader(resp.Body, maxProviderBody+1), c: resp.Body}
	return resp, nil
}

type limitedBody struct {
	r io.Reader
	c io.Closer
	n int64
}

var errBodyTooLarge = errors.New("provider response body too large")

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > maxProviderBody {
		return 0, errBodyTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }
