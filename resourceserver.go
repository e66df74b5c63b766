package logto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/logto-go/logto/internal/jwt"
)

// ResourceServerConfig configures a [ResourceServer]: a Go API that receives
// Logto access tokens. No [Client] is needed.
type ResourceServerConfig struct {
	// Endpoint is the Logto server, as in [Config.Endpoint]; the issuer is
	// Endpoint + "/oidc".
	Endpoint string
	// Audience is the API's resource indicator, as registered in Logto
	// ("API resources"), e.g. "https://api.example.com". Tokens must name it
	// in aud.
	Audience string
	// AllowOrganizationTokens also accepts organization tokens (aud
	// urn:logto:organization:<id>), for APIs that serve organizations.
	AllowOrganizationTokens bool
	// Realm names the API in WWW-Authenticate. Default: Audience.
	Realm string
	// HTTPClient fetches discovery and the JWKS. Default: 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger gets rejected tokens' reasons (never the token). nil discards.
	Logger *slog.Logger
	// ClockSkew is the tolerance for exp, iat and nbf. Default 60 s.
	ClockSkew time.Duration
	// SigningAlgs is the allowlist of JWS algorithms, intersected with
	// discovery. Default: the asymmetric algorithms of [Config.IDTokenSigningAlgs].
	SigningAlgs []string
	// InsecureAllowHTTPEndpoint accepts http:// on a non-loopback Endpoint;
	// MUST NOT be used outside closed test networks.
	InsecureAllowHTTPEndpoint bool
}

// ResourceServer verifies Logto access tokens (RFC 9068 JWTs signed with the
// tenant key, ES384 by default) and protects handlers with them.
type ResourceServer struct {
	cfg    ResourceServerConfig
	issuer string
	disc   *discoverer
}

// Resource-server errors. Both come as a [*TokenError].
var (
	// ErrInvalidToken: no, malformed, expired, foreign or badly signed token.
	// HTTP 401 with WWW-Authenticate: Bearer error="invalid_token".
	ErrInvalidToken = errors.New("logto: invalid access token")
	// ErrInsufficientScope: a valid token without a required scope. HTTP 403.
	ErrInsufficientScope = errors.New("logto: insufficient scope")
)

// TokenError says why a ResourceServer rejected a request.
type TokenError struct {
	Kind        error  // ErrInvalidToken or ErrInsufficientScope
	Reason      Reason // e.g. "aud", "exp", "signature", "token_type", "scope", "missing"
	Description string // safe to send: never contains the token
	Scopes      []string
}

func (e *TokenError) Error() string { return e.Kind.Error() + ": " + e.Description }

// Unwrap makes errors.Is work with the Kind sentinel.
func (e *TokenError) Unwrap() error { return e.Kind }

// Reasons of TokenError.
const (
	ReasonMissingToken Reason = "missing"
	ReasonScope        Reason = "scope"
)

// NewResourceServer validates cfg. It does not contact Logto: discovery and
// the JWKS are fetched on first use, cached, and retried after a failure.
func NewResourceServer(cfg ResourceServerConfig) (*ResourceServer, error) {
	ep, err := parseAbsoluteURL(cfg.Endpoint)
	if err != nil {
		return nil, &ConfigError{"Endpoint", err.Error()}
	}
	if ep.Scheme == "http" && !isLoopback(ep.Hostname()) && !cfg.InsecureAllowHTTPEndpoint {
		return nil, &ConfigError{"Endpoint", "http:// is allowed only for loopback hosts; use https://"}
	}
	if cfg.Audience == "" {
		return nil, &ConfigError{"Audience", "required: the API's resource indicator"}
	}
	if err := validateResource(cfg.Audience); err != nil {
		return nil, &ConfigError{"Audience", err.Error()}
	}
	if cfg.Realm == "" {
		cfg.Realm = cfg.Audience
	}
	if cfg.ClockSkew < 0 {
		return nil, &ConfigError{"ClockSkew", "must not be negative"}
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = defaultClockSkew
	}
	algs := defaultSigningAlgs
	if len(cfg.SigningAlgs) > 0 {
		for _, a := range cfg.SigningAlgs {
			if !slices.Contains(defaultSigningAlgs, a) {
				return nil, &ConfigError{"SigningAlgs", fmt.Sprintf("%q is not an allowed asymmetric algorithm", a)}
			}
		}
		algs = cfg.SigningAlgs
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
	issuer := ep.String() + "/oidc"
	return &ResourceServer{cfg: cfg, issuer: issuer, disc: &discoverer{
		issuer: issuer, http: newProviderHTTPClient(cfg.HTTPClient), timeout: clientTimeout(cfg.HTTPClient),
		now: cfg.Now, logger: cfg.Logger, allowedAlgs: algs, insecureHTTP: cfg.InsecureAllowHTTPEndpoint, skew: cfg.ClockSkew,
	}}, nil
}

// Verify checks token: JWS signature with a published key and an allowed
// algorithm, header typ at+jwt, iss, aud (the Audience, or an organization
// URN when allowed), exp, iat and nbf with the skew. It returns the claims,
// a *TokenError, or a provider error when the keys cannot be fetched.
func (rs *ResourceServer) Verify(ctx context.Context, token string) (*AccessTokenClaims, error) {
	invalid := func(reason Reason, desc string) error {
		return &TokenError{Kind: ErrInvalidToken, Reason: reason, Description: desc}
	}
	if token == "" {
		return nil, invalid(ReasonMissingToken, "no access token")
	}
	p, err := rs.disc.get(ctx)
	if err != nil {
		return nil, err
	}
	// RFC 9068 2.1: typ "at+jwt" (or the full media type) is required.
	tok, err := p.verifier.Verify(ctx, token, jwt.Rules{
		Types:          []string{"at+jwt"},
		TypeRequired:   true,
		AudienceMatch:  func(aud []string) bool { return rs.audienceAllowed(aud) },
		RequireSubject: true,
		RequireExpiry:  true,
	})
	if err != nil {
		var je *jwt.Error
		if !errors.As(err, &je) {
			if pe := keyFetchError(err); pe != nil {
				return nil, pe
			}
			return nil, providerFailure("jwks", err, ReasonNetwork)
		}
		return nil, invalid(Reason(je.Reason), accessTokenRejection[je.Reason])
	}
	var claims AccessTokenClaims
	if err := json.Unmarshal(tok.Payload, &claims); err != nil {
		return nil, invalid(ReasonInvalidJSON, "claims of the wrong type")
	}
	return &claims, nil
}

// accessTokenRejection describes each verification failure without
// echoing anything from the token.
var accessTokenRejection = map[string]string{
	jwt.ReasonSignature:   "malformed token, algorithm not allowed, or signature verification failed",
	jwt.ReasonTokenType:   "not an access token (typ must be at+jwt)",
	jwt.ReasonInvalidJSON: "claims of the wrong type",
	jwt.ReasonIssuer:      "issued by another issuer",
	jwt.ReasonAudience:    "not issued for this API",
	jwt.ReasonSubject:     "token without sub",
	jwt.ReasonExpired:     "token expired",
	jwt.ReasonIssuedAt:    "token issued in the future",
	jwt.ReasonNotBefore:   "token not valid yet",
}

func (rs *ResourceServer) audienceAllowed(aud Audience) bool {
	for _, a := range aud {
		if a == rs.cfg.Audience {
			return true
		}
		if rs.cfg.AllowOrganizationTokens && strings.HasPrefix(a, OrganizationURNPrefix) && len(a) > len(OrganizationURNPrefix) {
			return true
		}
	}
	return false
}

// Middleware lets through requests with a valid Bearer token (RFC 6750)
// granting every one of requiredScopes, and puts its claims in the request
// context (see [AccessTokenFromContext]). Others get 401 with
// WWW-Authenticate (invalid_token), or 403 insufficient_scope, with a JSON
// body; 503/504 when Logto's keys cannot be fetched.
func (rs *ResourceServer) Middleware(requiredScopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, err := rs.authenticate(r)
			if err == nil && !claims.HasScopes(requiredScopes...) {
				err = &TokenError{Kind: ErrInsufficientScope, Reason: ReasonScope, Description: "the token lacks a required scope", Scopes: requiredScopes}
			}
			if err != nil {
				rs.reject(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accessTokenKeyCtx{}, *claims)))
		})
	}
}

func (rs *ResourceServer) authenticate(r *http.Request) (*AccessTokenClaims, error) {
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return nil, &TokenError{Kind: ErrInvalidToken, Reason: ReasonDuplicateParameter, Description: "more than one Authorization header"}
	}
	var token string
	if len(headers) == 1 {
		scheme, value, ok := strings.Cut(headers[0], " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimSpace(value)
		}
	}
	return rs.Verify(r.Context(), token)
}

func (rs *ResourceServer) reject(w http.ResponseWriter, r *http.Request, err error) {
	var te *TokenError
	if !errors.As(err, &te) {
		status := StatusCode(err)
		rs.cfg.Logger.Warn("logto: cannot verify access tokens", "status", status, "err", sanitize(err.Error(), 300))
		writeJSONError(w, status, "temporarily_unavailable", "the identity provider's keys are unavailable")
		return
	}
	rs.cfg.Logger.Info("logto: access token rejected", "reason", string(te.Reason), "path", sanitize(r.URL.Path, 200))
	challenge := fmt.Sprintf("Bearer realm=%q", rs.cfg.Realm)
	status, code := http.StatusUnauthorized, "invalid_token"
	switch {
	case errors.Is(te, ErrInsufficientScope):
		status, code = http.StatusForbidden, "insufficient_scope"
		challenge += fmt.Sprintf(", error=%q, error_description=%q, scope=%q", code, te.Description, strings.Join(te.Scopes, " "))
	case te.Reason == ReasonMissingToken:
		// RFC 6750 3.1: no error code when the request had no credentials.
	default:
		challenge += fmt.Sprintf(", error=%q, error_description=%q", code, te.Description)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if te.Reason == ReasonMissingToken {
		code = "unauthorized"
	}
	writeJSONError(w, status, code, te.Description)
}

func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

type accessTokenKeyCtx struct{}

// AccessTokenFromContext returns the claims [ResourceServer.Middleware]
// verified for this request.
func AccessTokenFromContext(ctx context.Context) (AccessTokenClaims, bool) {
	c, ok := ctx.Value(accessTokenKeyCtx{}).(AccessTokenClaims)
	return c, ok
}
