package logtotest

import (
	"maps"
	"slices"
	"strings"
)

// Role is a global Logto role (RBAC). A user holds the roles named in
// [User.Roles]; a user's scopes for an API resource are the union of the
// scopes their roles grant for it (plus those of their organization roles,
// see [OrganizationRole]).
type Role struct {
	// Name is the role name, as listed in User.Roles and the roles claim.
	Name string
	// Scopes maps a resource indicator to the names of the scopes of that
	// [Resource] the role grants.
	Scopes map[string][]string
}

// Organization is a Logto organization. Users are members when its ID is
// in [User.Organizations] and hold the roles named "<ID>:<role name>" in
// [User.OrganizationRoles].
type Organization struct {
	// ID is the organization ID (organization_id, the organizations claim
	// and the urn:logto:organization:<ID> audience).
	ID string
	// Name and Description appear in the organization_data userinfo claim.
	// An empty Description is null there.
	Name, Description string
	// Roles are the organization roles available in this organization.
	Roles []OrganizationRole
}

// OrganizationRole is a role a member holds in one [Organization].
type OrganizationRole struct {
	// Name is the role name, as in "<orgId>:<Name>" of User.OrganizationRoles.
	Name string
	// Scopes are organization permissions: the scopes of the reserved
	// resource urn:logto:resource:organizations carried by organization
	// tokens for this organization.
	Scopes []string
	// ResourceScopes maps a resource indicator to the names of the scopes of
	// that [Resource] granted through this role (organization-scoped API
	// resource tokens, and, as in Logto, the user's resource scopes at
	// sign-in).
	ResourceScopes map[string][]string
}

// AddRole registers a global role, replacing one with the same name.
// Once any role (global or organization) is configured, users hold only the
// resource scopes their roles grant; see the package documentation.
func (p *Provider) AddRole(r Role) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roles[r.Name] = r.clone()
}

// AddOrganization registers an organization, replacing one with the same
// ID.
func (p *Provider) AddOrganization(o Organization) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.orgs[o.ID] = o.clone()
}

func (r Role) clone() Role {
	r.Scopes = cloneScopeMap(r.Scopes)
	return r
}

func (o Organization) clone() Organization {
	roles := make([]OrganizationRole, len(o.Roles))
	for i, r := range o.Roles {
		r.Scopes = slices.Clone(r.Scopes)
		r.ResourceScopes = cloneScopeMap(r.ResourceScopes)
		roles[i] = r
	}
	if o.Roles == nil {
		roles = nil
	}
	o.Roles = roles
	return o
}

func cloneScopeMap(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}

// rolesConfiguredLocked reports whether the role model is in effect: at
// least one global role or organization role is configured. Without any,
// a user holds every scope of every resource (the legacy simplification).
func (p *Provider) rolesConfiguredLocked() bool {
	if len(p.roles) > 0 {
		return true
	}
	for _, o := range p.orgs {
		if len(o.Roles) > 0 {
			return true
		}
	}
	return false
}

// union appends the elements of b missing from a.
func union(a, b []string) []string {
	for _, s := range b {
		if !contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// userOrgRolesLocked returns the configured roles u holds in orgID; none
// when u is not a member.
func (p *Provider) userOrgRolesLocked(u User, orgID string) []OrganizationRole {
	return p.orgRolesLocked(u.Organizations, u.OrganizationRoles, orgID)
}

// orgRolesLocked returns the configured roles of orgID that entries
// ("<orgID>:<role>") name, for a member of memberships (a user or a
// machine-to-machine app); none for a non-member.
func (p *Provider) orgRolesLocked(memberships, entries []string, orgID string) []OrganizationRole {
	org, ok := p.orgs[orgID]
	if !ok || !contains(memberships, orgID) {
		return nil
	}
	var out []OrganizationRole
	for _, entry := range entries {
		id, name, ok := strings.Cut(entry, ":")
		if !ok || id != orgID {
			continue
		}
		for _, r := range org.Roles {
			if r.Name == name {
				out = append(out, r)
			}
		}
	}
	return out
}

// userResourceScopesLocked returns the scopes of resource indicator ind
// that u holds in the role model: with orgID "", through global roles and
// the roles of every organization u is a member of (Logto's
// findFromOrganizations at sign-in); with orgID set, through u's roles in
// that organization only.
func (p *Provider) userResourceScopesLocked(u User, ind, orgID string) []string {
	var out []string
	if orgID != "" {
		for _, r := range p.userOrgRolesLocked(u, orgID) {
			out = union(out, r.ResourceScopes[ind])
		}
		return out
	}
	for _, name := range u.Roles {
		if r, ok := p.roles[name]; ok {
			out = union(out, r.Scopes[ind])
		}
	}
	for _, id := range u.Organizations {
		for _, r := range p.userOrgRolesLocked(u, id) {
			out = union(out, r.ResourceScopes[ind])
		}
	}
	return out
}

// userOrgScopesLocked returns the organization permissions u holds in
// orgID through organization roles.
func (p *Provider) userOrgScopesLocked(u User, orgID string) []string {
	var out []string
	for _, r := range p.userOrgRolesLocked(u, orgID) {
		out = union(out, r.Scopes)
	}
	return out
}

// allOrgScopesLocked returns every organization permission: the scopes of
// the reserved resource when configured as a Resource, and those of every
// organization role.
func (p *Provider) allOrgScopesLocked() []string {
	out := slices.Clone(p.resources[ReservedOrganizationResource].Scopes)
	for _, id := range sortedKeys(p.orgs) {
		for _, r := range p.orgs[id].Roles {
			out = union(out, r.Scopes)
		}
	}
	return out
}

// grantResourcesLocked resolves the scopes granted for each resource
// indicator at sign-in: the requested scopes the resource defines and, in
// the role model, that the user holds. Scopes the user lacks are dropped
// silently, as in Logto.
func (p *Provider) grantResourcesLocked(u User, requested, indicators []string) map[string][]string {
	out := make(map[string][]string, len(indicators))
	roles := p.rolesConfiguredLocked()
	for _, ind := range indicators {
		switch {
		case !roles:
			out[ind] = intersect(requested, p.resources[ind].Scopes)
		case ind == ReservedOrganizationResource:
			out[ind] = intersect(requested, p.allOrgScopesLocked())
		default:
			out[ind] = intersect(intersect(requested, p.resources[ind].Scopes), p.userResourceScopesLocked(u, ind, ""))
		}
	}
	return out
}

// organizationDataLocked returns the organization_data userinfo claim for
// u: {id, name, description} of each organization, the name falling back to
// the ID and the description to null when not configured.
func (p *Provider) organizationDataLocked(u User) []map[string]any {
	data := make([]map[string]any, 0, len(u.Organizations))
	for _, id := range u.Organizations {
		name, desc := id, ""
		if o, ok := p.orgs[id]; ok {
			if o.Name != "" {
				name = o.Name
			}
			desc = o.Description
		}
		data = append(data, map[string]any{"id": id, "name": name, "description": nullable(desc)})
	}
	return data
}
