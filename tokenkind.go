package logto

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// TokenKind is a kind of Logto access token an API receives, or (as a bit
// set) the kinds a route accepts. The three kinds carry different grants, so
// they are not interchangeable: a scope granted by the user's role in one
// organization must not open a route that checks the user's own roles.
//
// [ResourceServer.Middleware] and [ResourceServer.Verify] accept user tokens
// only; [ResourceServer.OrganizationMiddleware] and
// [ResourceServer.VerifyOrganization] accept the organization kinds they are
// given, for the organization the request names.
type TokenKind uint8

// Token kinds. [AccessTokenClaims.Kind] tells them apart.
const (
	// UserToken: aud is the API (ResourceServerConfig.Audience), no
	// organization_id claim. Its scopes are the user's for the API: from
	// global roles and, as Logto grants them, from the user's organization
	// roles (for a machine-to-machine token, the app's roles).
	UserToken TokenKind = 1 << iota
	// OrganizationToken: aud is urn:logto:organization:<id> (see
	// [OrganizationURN]). Its scopes are organization permissions from the
	// user's roles in that organization.
	OrganizationToken
	// OrganizationResourceToken: an organization-scoped resource token, aud
	// is the API and the organization_id claim names the organization. Its
	// scopes are the API's permissions from the user's roles in that
	// organization.
	OrganizationResourceToken
)

// organizationKinds are the kinds that belong to one organization.
const organizationKinds = OrganizationToken | OrganizationResourceToken

// String names the kinds, e.g. "organization token|organization-scoped
// resource token"; "none" for zero.
func (k TokenKind) String() string {
	if k == 0 {
		return "none"
	}
	var names []string
	for _, n := range []struct {
		kind TokenKind
		name string
	}{{UserToken, "user token"}, {OrganizationToken, "organization token"}, {OrganizationResourceToken, "organization-scoped resource token"}} {
		if k&n.kind != 0 {
			names = append(names, n.name)
			k &^= n.kind
		}
	}
	if k != 0 {
		names = append(names, "unknown")
	}
	return strings.Join(names, "|")
}

// Kind classifies the token for the API whose resource indicator is
// audience. It returns zero when the token is none of the kinds: aud names
// neither audience nor an organization, names both, names two
// organizations, or an organization token carries an organization_id claim
// for another organization. Kind does not verify anything: use it on claims
// a [ResourceServer] returned.
func (c AccessTokenClaims) Kind(audience string) TokenKind {
	api, orgs, urnOrg := false, 0, ""
	for _, a := range c.Aud {
		if id, err := OrganizationIDFromURN(a); err == nil {
			orgs++
			urnOrg = id
		} else if a == audience && audience != "" {
			api = true
		}
	}
	switch {
	case api && orgs == 0 && c.OrganizationID == "":
		return UserToken
	case api && orgs == 0:
		return OrganizationResourceToken
	case !api && orgs == 1 && (c.OrganizationID == "" || c.OrganizationID == urnOrg):
		return OrganizationToken
	}
	return 0
}

// Reasons of a [TokenError] for a verified token that a route does not accept.
const (
	// ReasonTokenKind: the token is of a kind the route does not name. It
	// matches ErrInvalidToken (401) when the route accepts no token with
	// the token's audience: an organization token on a route without
	// OrganizationToken, or an API token (user or organization-scoped) on a
	// route that accepts organization tokens only. It matches
	// ErrInsufficientScope (403) when the audience is right but the grant is
	// not: a user token where an organization-scoped resource token is
	// needed, or the other way round.
	ReasonTokenKind Reason = "token_kind"
	// ReasonOrganization: the token is for another organization than the
	// one the request names, or the request names none. It matches
	// ErrInsufficientScope (403).
	ReasonOrganization Reason = "organization"
)

// VerifyOrganization checks token's signature and claims as
// [ResourceServer.Verify] does, then accepts it only if it is one of kinds (OrganizationToken,
// OrganizationResourceToken or both) and is for organizationID. An empty
// organizationID refuses every token. Refusals are a [*TokenError] with
// [ReasonTokenKind] or [ReasonOrganization]; kinds that name UserToken or no
// organization kind refuse every token too.
func (rs *ResourceServer) VerifyOrganization(ctx context.Context, token, organizationID string, kinds TokenKind) (*AccessTokenClaims, error) {
	if !validOrganizationKinds(kinds) {
		return nil, &TokenError{Kind: ErrInvalidToken, Reason: ReasonTokenKind, Description: "the route accepts no organization token kind"}
	}
	return rs.verifyKind(ctx, token, kinds, organizationID)
}

// OrganizationMiddleware is [ResourceServer.Middleware] for a route that
// serves one organization: organizationID returns the organization the
// request names (e.g. r.PathValue("id")), and only tokens of kinds for that
// organization pass, with every one of requiredScopes. A request naming no
// organization (organizationID returns "") is refused.
//
// A token of a kind the route does not name is refused with
// [ReasonTokenKind]: 401 invalid_token when the route accepts no token with
// its audience (RFC 9068 section 4), e.g. an organization token where kinds
// lacks OrganizationToken, or a user token where kinds is OrganizationToken
// alone; otherwise 403 insufficient_scope (RFC 6750 section 3.1: the
// audience is right, the grant is not), e.g. a user token where
// OrganizationResourceToken is accepted. A token for another organization,
// or of an accepted kind when the request names no organization, gets 403
// insufficient_scope with [ReasonOrganization].
//
// It panics if organizationID is nil or kinds names UserToken or no
// organization kind: routes that serve user tokens use Middleware.
func (rs *ResourceServer) OrganizationMiddleware(organizationID func(*http.Request) string, kinds TokenKind, requiredScopes ...string) func(http.Handler) http.Handler {
	if organizationID == nil {
		panic("logto: OrganizationMiddleware: nil organizationID")
	}
	if !validOrganizationKinds(kinds) {
		panic("logto: OrganizationMiddleware: kinds must be OrganizationToken, OrganizationResourceToken or both, not " + kinds.String())
	}
	return rs.protect(kinds, organizationID, requiredScopes)
}

func validOrganizationKinds(kinds TokenKind) bool {
	return kinds != 0 && kinds&^organizationKinds == 0
}

// verifyKind is every entry point's verification: the size bound, the
// token's signature and claims, then the route's kinds and organization.
func (rs *ResourceServer) verifyKind(ctx context.Context, token string, kinds TokenKind, organizationID string) (*AccessTokenClaims, error) {
	if len(token) > maxAuthorizationHeader {
		return nil, &TokenError{Kind: ErrInvalidToken, Reason: ReasonTokenTooLarge, Description: "token too large"}
	}
	claims, err := rs.verifyToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := rs.accept(claims, kinds, organizationID); err != nil {
		return nil, err
	}
	return claims, nil
}

// accept checks a verified token against the kinds and organization a route
// accepts.
func (rs *ResourceServer) accept(c *AccessTokenClaims, kinds TokenKind, organizationID string) error {
	kind := c.Kind(rs.cfg.Audience)
	if kind == 0 {
		return &TokenError{Kind: ErrInvalidToken, Reason: ReasonAudience, Description: "not issued for this API"}
	}
	if kinds&kind == 0 {
		te := &TokenError{Kind: ErrInsufficientScope, Reason: ReasonTokenKind, Description: "token kind not accepted here: " + kind.String()}
		if kinds&sameAudience(kind) == 0 {
			// RFC 9068 section 4: an audience the route does not accept.
			te.Kind = ErrInvalidToken
		}
		return te
	}
	if kind&organizationKinds == 0 {
		return nil
	}
	if organizationID == "" {
		return &TokenError{Kind: ErrInsufficientScope, Reason: ReasonOrganization, Description: "the request names no organization"}
	}
	if id, _ := c.Organization(); id != organizationID {
		return &TokenError{Kind: ErrInsufficientScope, Reason: ReasonOrganization, Description: "the token is for another organization"}
	}
	return nil
}

// sameAudience returns the kinds whose aud is of the same form as kind's:
// the API for user and organization-scoped resource tokens, an organization
// URN for organization tokens.
func sameAudience(kind TokenKind) TokenKind {
	if kind == OrganizationToken {
		return OrganizationToken
	}
	return UserToken | OrganizationResourceToken
}

// protect is the middleware of a route accepting kinds (for the organization
// organizationID returns, when it is not nil) with requiredScopes.
func (rs *ResourceServer) protect(kinds TokenKind, organizationID func(*http.Request) string, requiredScopes []string) func(http.Handler) http.Handler {
	requiredScopes = slices.Clone(requiredScopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var org string
			if organizationID != nil {
				org = organizationID(r)
			}
			claims, err := rs.authenticate(r, kinds, org)
			if err == nil && !claims.HasScopes(requiredScopes...) {
				err = &TokenError{Kind: ErrInsufficientScope, Reason: ReasonScope, Description: "the token lacks a required scope"}
			}
			if err != nil {
				if te := (*TokenError)(nil); errors.As(err, &te) && te.Kind == ErrInsufficientScope {
					te.Scopes = requiredScopes
				}
				rs.reject(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accessTokenKeyCtx{}, *claims)))
		})
	}
}
