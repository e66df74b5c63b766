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
	// AllowOrganizationTokens is ignored (NewResourceServer logs a warning
	// when it is set). It used to let organization tokens (aud
	// urn:logto:organization:<id>) through every route, for every
	// organization.
	//
	// Deprecated: [ResourceServer.Middleware] and [ResourceServer.Verify]
	// accept user tokens only. Protect the routes that serve an organization
	// with [ResourceServer.OrganizationMiddleware] (or
	// [ResourceServer.VerifyOrganization]), naming the token kinds they
	// accept and the organization the request is for.
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
//
// Logto issues three kinds of access token an API can receive (see
// [TokenKind]): user tokens, organization tokens and organization-scoped
// resource tokens. They carry different grants, so a route accepts only the
// kinds it names: [ResourceServer.Middleware] and [ResourceServer.Verify]
// user tokens, [ResourceServer.OrganizationMiddleware] and
// [ResourceServer.VerifyOrganization] the organization kinds, for the
// organization the request names. A ResourceServer is safe for concurrent
// use.
type ResourceServer struct {
	cfg    ResourceServerConfig
	issuer string
	disc   *discoverer
}

// Resource-server errors. Both come as a [*TokenError].
var (
	// ErrInvalidToken: no, malformed, oversized, expired, foreign or badly
	// signed token, or one whose audience the route does not accept (an
	// organization token on a user route). HTTP 401 with WWW-Authenticate:
	// Bearer error="invalid_token".
	ErrInvalidToken = errors.New("logto: invalid access token")
	// ErrInsufficientScope: a valid token without a required scope, of a
	// kind the route does not accept although its audience is right, or for
	// another organization. HTTP 403 with error="insufficient_scope".
	ErrInsufficientScope = errors.New("logto: insufficient scope")
)

// TokenError says why a ResourceServer rejected a request.
type TokenError struct {
	Kind        error  // ErrInvalidToken or ErrInsufficientScope
	Reason      Reason // e.g. "aud", "exp", "signature", "token_type", "scope", "missing"
	Description string // safe to send: never contains the token
	Scopes      []string
}

// Error names the kind and the description (never the token).
func (e *TokenError) Error() string { return e.Kind.Error() + ": " + e.Description }

// Unwrap makes errors.Is work with the Kind sentinel.
func (e *TokenError) Unwrap() error { return e.Kind }

// Reasons of TokenError. See also [ReasonTokenKind] and [ReasonOrganization].
const (
	ReasonMissingToken Reason = "missing"
	ReasonScope        Reason = "scope"
	// ReasonTokenTooLarge: the Authorization header, or the token given to
	// Verify, is over 8 KiB: no Logto access token is that large. It
	// matches ErrInvalidToken (401); nothing is fetched from Logto.
	ReasonTokenTooLarge Reason = "token_too_large"
)

// maxAuthorizationHeader bounds the Authorization header, and a token given
// to Verify, before any other work (no discovery, no JWKS fetch, no parsing).
// Logto's access tokens are compact ES384 JWS of about 1 KiB; a long scope
// list adds a few hundred bytes. Go's server accepts 1 MiB of headers.
const maxAuthorizationHeader = 8 << 10

// NewResourceServer validates cfg. It does not contact Logto: discovery and
// the JWKS are fetched on first use, cached, and retried after a failure.
func NewResourceServer(cfg ResourceServerConfig) (*ResourceServer, error) {
	ep, err := endpointURL(cfg.Endpoint, cfg.InsecureAllowHTTPEndpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Audience == "" {
		return nil, &ConfigError{"Audience", "required: the API's resource indicator"}
	}
	if err := validateResource(cfg.Audience); err != nil {
		return nil, &ConfigError{"Audience", err.Error()}
	}
	if strings.HasPrefix(cfg.Audience, OrganizationURNPrefix) {
		return nil, &ConfigError{"Audience", "an organization URN is not an API resource; use OrganizationMiddleware for organization tokens"}
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
	if cfg.AllowOrganizationTokens {
		cfg.Logger.Warn("logto: ResourceServerConfig.AllowOrganizationTokens is deprecated and ignored: Middleware and Verify accept user tokens only; use OrganizationMiddleware or VerifyOrganization for organization routes")
	}
	issuer := ep.String() + "/oidc"
	return &ResourceServer{cfg: cfg, issuer: issuer, disc: &discoverer{
		issuer: issuer, http: newProviderHTTPClient(cfg.HTTPClient), timeout: clientTimeout(cfg.HTTPClient),
		now: cfg.Now, logger: cfg.Logger, allowedAlgs: algs, insecureHTTP: cfg.InsecureAllowHTTPEndpoint, skew: cfg.ClockSkew,
	}}, nil
}

// Verify checks token: JWS signature with a published key and an allowed
// algorithm, header typ at+jwt, iss, aud, exp, iat and nbf with the skew,
// and accepts user tokens only ([UserToken]: aud is the Audience, no
// organization_id). It returns the claims, a [*TokenError], or a provider
// error when the keys cannot be fetched. An organization token (matching
// ErrInvalidToken) or an organization-scoped resource token (matching
// ErrInsufficientScope) is refused with [ReasonTokenKind]: use
// [ResourceServer.VerifyOrganization] where they are expected. A token over
// 8 KiB is refused with [ReasonTokenTooLarge] before any request to Logto.
func (rs *ResourceServer) Verify(ctx context.Context, token string) (*AccessTokenClaims, error) {
	return rs.verifyKind(ctx, token, UserToken, "")
}

// verifyToken checks token's signature and claims. aud must be the Audience
// or an organization URN; the caller checks the token's kind.
func (rs *ResourceServer) verifyToken(ctx context.Context, token string) (*AccessTokenClaims, error) {
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

// audienceAllowed reports whether aud names the Audience or an
// organization: the audiences of the three token kinds. Which kinds a route
// accepts is checked after verification.
func (rs *ResourceServer) audienceAllowed(aud Audience) bool {
	for _, a := range aud {
		if a == rs.cfg.Audience {
			return true
		}
		if _, err := OrganizationIDFromURN(a); err == nil {
			return true
		}
	}
	return false
}

// Middleware lets through requests with a valid Bearer user token (RFC 6750,
// [UserToken]) granting every one of requiredScopes, and puts its claims in
// the request context (see [AccessTokenFromContext]). Others get 401 with
// WWW-Authenticate (invalid_token), or 403 insufficient_scope, with a JSON
// body; 503/504 when Logto's keys cannot be fetched.
//
// Organization tokens get 401 invalid_token (their audience is not the API)
// and organization-scoped resource tokens 403 insufficient_scope (their
// scopes come from the user's roles in one organization), both with
// [ReasonTokenKind]: use [ResourceServer.OrganizationMiddleware] for routes
// that serve an organization. An Authorization header over 8 KiB gets 401
// invalid_token before any other work.
func (rs *ResourceServer) Middleware(requiredScopes ...string) func(http.Handler) http.Handler {
	return rs.protect(UserToken, nil, requiredScopes)
}

// authenticate verifies the request's Bearer token for a route accepting
// kinds for organizationID.
func (rs *ResourceServer) authenticate(r *http.Request, kinds TokenKind, organizationID string) (*AccessTokenClaims, error) {
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return nil, &TokenError{Kind: ErrInvalidToken, Reason: ReasonDuplicateParameter, Description: "more than one Authorization header"}
	}
	var token string
	if len(headers) == 1 {
		// Bounded before anything else: RFC 6750 leaves the size open, and a
		// token larger than any Logto issues cannot be valid (invalid_token
		// rather than invalid_request, as for a malformed token).
		if len(headers[0]) > maxAuthorizationHeader {
			return nil, &TokenError{Kind: ErrInvalidToken, Reason: ReasonTokenTooLarge, Description: "Authorization header too large"}
		}
		scheme, value, ok := strings.Cut(headers[0], " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimSpace(value)
		}
	}
	return rs.verifyKind(r.Context(), token, kinds, organizationID)
}

func (rs *ResourceServer) reject(w http.ResponseWriter, r *http.Request, err error) {
	var te *TokenError
	if !errors.As(err, &te) {
		status := StatusCode(err)
		rs.cfg.Logger.Warn("logto: cannot verify access tokens", "status", status, "err", sanitize(err.Error(), 300))
		WriteJSONError(w, status, "temporarily_unavailable", "the identity provider's keys are unavailable")
		return
	}
	rs.cfg.Logger.Info("logto: access token rejected", "reason", string(te.Reason), "path", sanitize(r.URL.Path, 200))
	challenge := fmt.Sprintf("Bearer realm=%q", rs.cfg.Realm)
	status, code := http.StatusUnauthorized, "invalid_token"
	switch {
	case errors.Is(te, ErrInsufficientScope):
		status, code = http.StatusForbidden, "insufficient_scope"
		challenge += fmt.Sprintf(", error=%q, error_description=%q", code, te.Description)
		if len(te.Scopes) > 0 {
			challenge += fmt.Sprintf(", scope=%q", strings.Join(te.Scopes, " "))
		}
	case te.Reason == ReasonMissingToken:
		// RFC 6750 3.1: no error code when the request had no credentials.
	default:
		challenge += fmt.Sprintf(", error=%q, error_description=%q", code, te.Description)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if te.Reason == ReasonMissingToken {
		code = "unauthorized"
	}
	WriteJSONError(w, status, code, te.Description)
}

type accessTokenKeyCtx struct{}

// AccessTokenFromContext returns the claims [ResourceServer.Middleware] or
// [ResourceServer.OrganizationMiddleware] verified for this request.
func AccessTokenFromContext(ctx context.Context) (AccessTokenClaims, bool) {
	c, ok := ctx.Value(accessTokenKeyCtx{}).(AccessTokenClaims)
	return c, ok
}
