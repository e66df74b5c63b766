package logtotest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fixed identifiers of [DefaultM2MApp], shaped like Logto's (21 and 32
// characters).
const (
	DefaultM2MAppID     = "logtotestdefaultm2m01"
	DefaultM2MAppSecret = "LogtoTestDefaultM2MSecret0123456"
)

// DefaultM2MApp returns a Machine-to-machine app with ID [DefaultM2MAppID]
// and secret [DefaultM2MAppSecret], holding no role and associated with no
// organization: set [App.Roles], [App.Organizations] and
// [App.OrganizationRoles] for the scopes its tokens should carry.
func DefaultM2MApp() App {
	return App{
		ID:               DefaultM2MAppID,
		Secret:           DefaultM2MAppSecret,
		Name:             "logtotest default machine-to-machine app",
		MachineToMachine: true,
	}
}

// clientCredentialsGrant serves grant_type=client_credentials the way
// Logto 1.42 does (packages/core/src/oidc/grants/client-credentials.ts, see
// real-logto-notes item 15), for Machine-to-machine apps only:
//
//   - organization_id naming an organization the app is not associated
//     with: 403 access_denied, checked first;
//   - each resource must be absolute, without fragment, and registered,
//     else invalid_target; neither resource nor organization_id:
//     invalid_target; more than one resource: invalid_target;
//   - with a resource, the token's scopes are the requested ones (in the
//     order requested) that the app's roles grant for it: through its global
//     [App.Roles], or, with organization_id, through its roles in that
//     organization (and the token carries an organization_id claim);
//     scopes it lacks are dropped silently, and none requested means none
//     granted;
//   - organization_id alone yields an organization token (aud
//     urn:logto:organization:<id>) with the organization permissions of the
//     app's roles there that were requested, in the roles' order.
//
// The access token is an ES384 at+jwt {jti, sub (the app ID), iat, exp,
// scope (absent when empty), client_id, iss, aud[, organization_id]}, valid
// for 3600 s; the answer is {access_token, expires_in, token_type, scope},
// without scope for a resource token that carries none.
func (p *Provider) clientCredentialsGrant(app App, form url.Values) (map[string]any, *oidcError) {
	if !app.MachineToMachine {
		return nil, invalidRequest("requested grant type is not allowed for this client")
	}
	orgID := form.Get("organization_id")
	resources := form["resource"]
	var requested []string
	for _, s := range strings.Split(form.Get("scope"), " ") {
		if s != "" && !contains(requested, s) {
			requested = append(requested, s)
		}
	}

	p.mu.Lock()
	now := p.now()
	claims, scope, e := func() (map[string]any, []string, *oidcError) {
		if orgID != "" && !contains(app.Organizations, orgID) {
			return nil, nil, newError(http.StatusForbidden, "access_denied", "app has not associated with the organization")
		}
		if orgID == "" || len(resources) > 0 {
			for _, r := range resources {
				if e := p.checkResourceLocked(r); e != nil {
					return nil, nil, e
				}
			}
		}
		if orgID == "" && len(resources) == 0 {
			return nil, nil, newError(http.StatusBadRequest, "invalid_target", "both `resource` and `organization_id` are not provided")
		}
		if len(resources) > 1 {
			return nil, nil, newError(http.StatusBadRequest, "invalid_target", "only a single resource indicator value is supported for this grant type")
		}
		c := map[string]any{
			"jti": randomToken(), "sub": app.ID, "client_id": app.ID, "iss": p.issuer,
			"iat": now.Unix(), "exp": now.Add(accessTokenTTL).Unix(),
		}
		var scope []string
		if len(resources) == 1 {
			ind := resources[0]
			scope = intersect(requested, p.appResourceScopesLocked(app, ind, orgID))
			c["aud"] = ind
			if orgID != "" {
				c["organization_id"] = orgID
			}
		} else {
			scope = intersect(p.appOrgScopesLocked(app, orgID), requested)
			c["aud"] = organizationAudiencePrefix + orgID
		}
		if len(scope) > 0 {
			c["scope"] = strings.Join(scope, " ")
		}
		return c, scope, nil
	}()
	key := p.keys[0]
	p.mu.Unlock()
	if e != nil {
		return nil, e
	}
	at, err := signRaw(key, map[string]any{"alg": "ES384", "kid": key.kid, "typ": "at+jwt"}, claims)
	if err != nil {
		return nil, newError(http.StatusInternalServerError, "server_error", "oops! something went wrong")
	}
	body := map[string]any{
		"access_token": at,
		"expires_in":   int(accessTokenTTL / time.Second),
		"token_type":   "Bearer",
	}
	// Logto sets scope from the token: undefined (so absent) for a resource
	// token without scopes, "" for an organization token without any.
	if len(scope) > 0 || len(resources) == 0 {
		body["scope"] = strings.Join(scope, " ")
	}
	return body, nil
}

// checkResourceLocked applies oidc-provider's checkResource and Logto's
// resource lookup to one indicator.
func (p *Provider) checkResourceLocked(indicator string) *oidcError {
	u, err := url.Parse(indicator)
	if err != nil || u.Scheme == "" {
		return newError(http.StatusBadRequest, "invalid_target", "resource indicator must be an absolute URI")
	}
	if strings.Contains(indicator, "#") {
		return newError(http.StatusBadRequest, "invalid_target", "resource indicator must not contain a fragment component")
	}
	if _, ok := p.resources[indicator]; !ok && indicator != ReservedOrganizationResource {
		return errInvalidTarget()
	}
	return nil
}

// appResourceScopesLocked returns the scopes of resource indicator ind the
// app holds: through its global roles, or with orgID through its roles in
// that organization (Logto's findResourceScopes for an application). The
// reserved organization resource yields every organization permission, as
// in Logto.
func (p *Provider) appResourceScopesLocked(app App, ind, orgID string) []string {
	if ind == ReservedOrganizationResource {
		return p.allOrgScopesLocked()
	}
	var out []string
	if orgID != "" {
		for _, r := range p.appOrgRolesLocked(app, orgID) {
			out = union(out, r.ResourceScopes[ind])
		}
	} else {
		for _, name := range app.Roles {
			if r, ok := p.roles[name]; ok {
				out = union(out, r.Scopes[ind])
			}
		}
	}
	return intersect(out, p.resources[ind].Scopes)
}

// appOrgScopesLocked returns the organization permissions of the app's
// roles in orgID, in the roles' order.
func (p *Provider) appOrgScopesLocked(app App, orgID string) []string {
	var out []string
	for _, r := range p.appOrgRolesLocked(app, orgID) {
		out = union(out, r.Scopes)
	}
	return out
}

// appOrgRolesLocked returns the configured roles the app holds in orgID
// ("<orgID>:<role>" in App.OrganizationRoles); none when the app is not
// associated with the organization.
func (p *Provider) appOrgRolesLocked(app App, orgID string) []OrganizationRole {
	return p.orgRolesLocked(app.Organizations, app.OrganizationRoles, orgID)
}
