package logtotest

import (
	"net/http"
	"net/url"
	"strings"
)

// refreshGrant serves grant_type=refresh_token, with Logto's resource and
// organization_id extensions (RFC 0001), role-based scopes (roles.go) and
// oidc-provider's rotation policy:
// public clients rotate on every use, confidential ones once 70 % of the
// token's life has passed; a rotated token may be replayed for 3 seconds,
// after which a replay revokes the whole grant.
func (p *Provider) refreshGrant(app App, form url.Values) (map[string]any, *oidcError) {
	value := form.Get("refresh_token")
	if value == "" {
		return nil, missingParam("refresh_token")
	}
	if len(form["resource"]) > 1 {
		return nil, errSingleResource()
	}
	resource := form.Get("resource")
	orgID := form.Get("organization_id")

	p.mu.Lock()
	now := p.now()
	p.maybeGCLocked(now)
	is, e := func() (*issue, *oidcError) {
		rt := p.refreshTokens[value]
		if rt == nil || rt.clientID != app.ID || now.After(rt.expiresAt) {
			return nil, errInvalidGrant()
		}
		g := p.liveGrantLocked(rt.grantID, now)
		if g == nil {
			return nil, errInvalidGrant()
		}
		if !rt.consumedAt.IsZero() && now.Sub(rt.consumedAt) > refreshReuseWait {
			p.revokeGrantLocked(g.id)
			return nil, errInvalidGrant()
		}
		user, ok := p.userLocked(g.userID)
		if !ok {
			return nil, errInvalidGrant()
		}
		all := g.allScopes()
		requested := all
		if s := form.Get("scope"); s != "" {
			requested = strings.Fields(s)
			var missing []string
			for _, sc := range requested {
				if !contains(all, sc) {
					missing = append(missing, sc)
				}
			}
			if len(missing) > 0 {
				e := newError(http.StatusBadRequest, "invalid_scope", "refresh token missing requested scope(s)")
				e.scope = strings.Join(missing, " ")
				return nil, e
			}
		}
		if orgID != "" {
			if !contains(user.Organizations, orgID) {
				return nil, newError(http.StatusForbidden, "access_denied", "user is not a member of the organization")
			}
			if !contains(g.scopes, scopeOrganizations) {
				e := newError(http.StatusForbidden, "insufficient_scope", "refresh token missing required scope")
				e.scope = scopeOrganizations
				return nil, e
			}
		}
		is := &issue{app: app, user: user, grant: *g}
		roles := p.rolesConfiguredLocked()
		switch {
		case resource != "":
			granted, ok := g.resources[resource]
			if !ok {
				return nil, errInvalidTarget()
			}
			scopes := intersect(requested, granted)
			if roles {
				// Re-evaluated like Logto's resource server info: the
				// resource's current scopes the user holds now, through
				// that organization's roles for an organization-scoped
				// token.
				scopes = intersect(intersect(scopes, p.resources[resource].Scopes),
					p.userResourceScopesLocked(user, resource, orgID))
			}
			is.jwtAudience, is.jwtScopes, is.jwtOrg = resource, scopes, orgID
			is.scope = is.jwtScopes
		case orgID != "":
			is.jwtAudience = organizationAudiencePrefix + orgID
			// Empty when the reserved organization resource was not
			// requested at sign-in, as in Logto 1.42.
			is.jwtScopes = intersect(requested, g.resources[ReservedOrganizationResource])
			if roles {
				is.jwtScopes = intersect(is.jwtScopes, p.userOrgScopesLocked(user, orgID))
			}
			is.scope = is.jwtScopes
		default:
			is.scope = intersect(requested, g.scopes)
			is.opaque = p.newAccessTokenLocked(g, is.scope, now)
		}
		if oidcScopes := intersect(requested, g.scopes); contains(oidcScopes, scopeOpenID) {
			is.idScopes = oidcScopes
		}
		is.refresh = value
		life := rt.expiresAt.Sub(rt.issuedAt)
		if app.Public || now.Sub(rt.issuedAt) >= life*7/10 {
			if rt.consumedAt.IsZero() {
				rt.consumedAt = now
			}
			next := &refreshToken{grantID: g.id, clientID: app.ID, issuedAt: now, expiresAt: rt.expiresAt,
				rotations: rt.rotations + 1}
			if !app.Public || app.DeviceFlow { // SPAs keep the first token's expiry
				next.expiresAt = now.Add(refreshTokenTTL)
			}
			is.refresh = randomToken()
			p.refreshTokens[is.refresh] = next
		}
		return is, nil
	}()
	key := p.keys[0]
	p.mu.Unlock()
	if e != nil {
		return nil, e
	}
	return p.mint(is, key, now)
}
