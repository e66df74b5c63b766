package logtotest

// Logto's OIDC scopes (UserScope plus the reserved ones), in discovery order.
const (
	scopeOpenID            = "openid"
	scopeOfflineAccess     = "offline_access"
	scopeProfile           = "profile"
	scopeEmail             = "email"
	scopePhone             = "phone"
	scopeCustomData        = "custom_data"
	scopeIdentities        = "identities"
	scopeRoles             = "roles"
	scopeOrganizations     = "urn:logto:scope:organizations"
	scopeOrganizationRoles = "urn:logto:scope:organization_roles"
)

var supportedScopes = []string{
	scopeOpenID, scopeOfflineAccess, scopeProfile, scopeEmail, scopePhone, "address",
	scopeCustomData, scopeIdentities, scopeRoles, scopeOrganizations, scopeOrganizationRoles,
	"urn:logto:scope:sessions", "urn:logto:scope:trusted_devices",
}

// organizationAudiencePrefix prefixes organization token audiences.
const organizationAudiencePrefix = "urn:logto:organization:"

// nullable returns nil (JSON null) for "", as Logto keeps null claims.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return append([]string(nil), s...)
}

// userClaims returns the claims of u for the granted scopes. The ID token
// gets Logto's default set (extended claims roles, organizations and
// organization_roles enabled); userinfo also gets custom_data, identities,
// sso_identities and organization_data (orgData, from
// organizationDataLocked).
func userClaims(u User, scopes []string, userinfo bool, orgData []map[string]any) map[string]any {
	c := map[string]any{"sub": u.ID}
	for _, s := range scopes {
		switch s {
		case scopeProfile:
			c["name"] = nullable(u.Name)
			c["picture"] = nullable(u.Picture)
			c["username"] = nullable(u.Username)
			c["preferred_username"] = nullable(u.Username)
			c["created_at"] = u.CreatedAt.UnixMilli()
			c["updated_at"] = u.UpdatedAt.UnixMilli()
		case scopeEmail:
			c["email"] = nullable(u.Email)
			c["email_verified"] = u.Email != ""
		case scopePhone:
			c["phone_number"] = nullable(u.Phone)
			c["phone_number_verified"] = u.Phone != ""
		case scopeRoles:
			c["roles"] = nonNil(u.Roles)
		case scopeOrganizations:
			c["organizations"] = nonNil(u.Organizations)
			if userinfo {
				if orgData == nil {
					orgData = []map[string]any{}
				}
				c["organization_data"] = orgData
			}
		case scopeOrganizationRoles:
			c["organization_roles"] = nonNil(u.OrganizationRoles)
		case scopeCustomData:
			if userinfo {
				cd := map[string]any{}
				for k, v := range u.CustomData {
					cd[k] = v
				}
				c["custom_data"] = cd
			}
		case scopeIdentities:
			if userinfo {
				c["identities"] = map[string]any{}
				c["sso_identities"] = []any{}
			}
		}
	}
	return c
}
