package main

import (
	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/api/messages"
	"github.com/logto-go/logto/logtotest"
)

const (
	// defaultAPIResource is the demo API's resource indicator and, with the
	// demo provider, where the app serves examples/api's handler.
	defaultAPIResource = "http://localhost:3002"
	demoOrgID          = "demo-org"
	demoOrgName        = "Demo Org"
	demoRole           = "reader"
	demoOrgRole        = "member"
)

// demoScopes are requested by default with the demo provider (LOGTO_SCOPES
// replaces them): phone, so the claims show the number the user signed in
// with; roles and organizations, so the ID token lists them and organization
// tokens can be fetched; and the demo API's permissions: as in Logto, a token
// carries only the scopes requested at sign-in that the user's roles grant.
var demoScopes = []string{
	logto.UserScopePhone,
	logto.UserScopeRoles, logto.UserScopeOrganizations, logto.UserScopeOrganizationRoles,
	messages.ScopeRead, messages.ScopeWrite,
}

// demoDirectory is what the demo provider knows besides the app: one user
// who holds read:messages for the demo API through a global role, and who
// is a member of one organization.
type demoDirectory struct {
	User          logtotest.User
	Resources     []logtotest.Resource
	Roles         []logtotest.Role
	Organizations []logtotest.Organization
}

func newDemoDirectory(apiResource string) demoDirectory {
	user := logtotest.DefaultUser()
	user.Roles = []string{demoRole}
	user.Organizations = []string{demoOrgID}
	user.OrganizationRoles = []string{demoOrgID + ":" + demoOrgRole}
	return demoDirectory{
		User:      user,
		Resources: []logtotest.Resource{{Indicator: apiResource, Scopes: []string{messages.ScopeRead, messages.ScopeWrite}}},
		Roles:     []logtotest.Role{{Name: demoRole, Scopes: map[string][]string{apiResource: {messages.ScopeRead}}}},
		Organizations: []logtotest.Organization{{
			ID:          demoOrgID,
			Name:        demoOrgName,
			Description: "The organization of the Logto Go demo",
			Roles: []logtotest.OrganizationRole{{
				Name: demoOrgRole,
				// Organization permission, carried by organization tokens.
				Scopes: []string{messages.ScopeRead},
				// The API's scope in organization-scoped resource tokens.
				ResourceScopes: map[string][]string{apiResource: {messages.ScopeRead}},
			}},
		}},
	}
}

// providerOptions configures the dev provider at providerURL for the
// directory and the one app that may sign in with it.
func (d demoDirectory) providerOptions(providerURL string, app logtotest.App) logtotest.Options {
	return logtotest.Options{
		URL:           providerURL,
		Apps:          []logtotest.App{app},
		Users:         []logtotest.User{d.User},
		Resources:     d.Resources,
		Roles:         d.Roles,
		Organizations: d.Organizations,
	}
}
