package logtotest

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Fixed identifiers of [DefaultApp] and [DefaultUser]. They have Logto's
// shapes: an app ID is 21 characters of [0-9a-z], an app secret 32 characters
// of [0-9A-Za-z] and a user ID 12 characters of [0-9a-z].
const (
	DefaultAppID     = "logtotestdefaultapp01"
	DefaultAppSecret = "LogtoTestDefaultAppSecret0123456"
	DefaultUserID    = "defaultuser1"

	// DefaultRedirectURI and DefaultPostLogoutRedirectURI are registered
	// for DefaultApp.
	DefaultRedirectURI           = "http://localhost:3000/callback"
	DefaultPostLogoutRedirectURI = "http://localhost:3000/"
)

// ReservedOrganizationResource is Logto's reserved API resource for
// organization scopes (organization permissions). It is always accepted as a
// resource indicator. Its scopes are those of the [OrganizationRole]s of the
// configured organizations, plus those of a [Resource] with this indicator;
// without any role configured, organization tokens carry every scope of such
// a Resource.
const ReservedOrganizationResource = "urn:logto:resource:organizations"

// App is a Logto application (an OIDC client).
type App struct {
	// ID is the client_id; Logto uses 21 characters of [0-9a-z].
	ID string
	// Secret is the client secret of a Traditional app; Logto uses 32
	// characters of [0-9A-Za-z]. Ignored for public apps.
	Secret string
	// Name is informational.
	Name string
	// RedirectURIs are matched exactly. When there is exactly one, the
	// redirect_uri parameter may be omitted, as in Logto.
	RedirectURIs []string
	// PostLogoutRedirectURIs are matched exactly at end session.
	PostLogoutRedirectURIs []string
	// Public marks an SPA or Native app: token_endpoint_auth_method none and
	// PKCE required. The zero value is a Traditional app that authenticates
	// with client_secret_basic (client_secret_post is accepted too, like
	// Logto).
	Public bool

	// MachineToMachine marks a Logto "Machine-to-machine" app: it
	// authenticates with its Secret, has no redirect URIs and may use only
	// the client_credentials grant (see [DefaultM2MApp]).
	MachineToMachine bool
	// Roles are the global [Role]s assigned to a machine-to-machine app: its
	// token for an API resource carries the requested scopes they grant.
	Roles []string
	// Organizations are the organizations a machine-to-machine app is
	// associated with (organization tokens for others answer 403
	// access_denied), and OrganizationRoles its roles there,
	// "<orgId>:<roleName>" naming an [OrganizationRole].
	Organizations     []string
	OrganizationRoles []string

	// DeviceFlow marks a Native app created with the device flow on (Logto's
	// isDeviceFlow, which cannot be switched later): a public client (it
	// implies Public) that may use only the device_code and refresh_token
	// grants. Its refresh tokens rotate on every use, each with a full TTL.
	DeviceFlow bool
}

// User is a Logto user. Empty strings become JSON null claims, which Logto
// keeps in ID tokens and userinfo.
type User struct {
	// ID is the sub claim; Logto uses 12 characters of [0-9a-z].
	ID       string
	Username string
	Name     string
	Email    string
	// Phone is digits only, without '+', as Logto stores it.
	Phone    string
	Picture  string
	Password string // kept for demo apps; the provider signs in without it
	// Roles are global role names (roles claim). Those configured as a
	// [Role] grant its resource scopes.
	Roles []string
	// Organizations are organization IDs (organizations claim). Membership
	// decides whether organization tokens are issued.
	Organizations []string
	// OrganizationRoles are "<orgId>:<roleName>" (organization_roles claim).
	// Those naming an [OrganizationRole] of a configured [Organization] the
	// user is a member of grant its scopes.
	OrganizationRoles []string
	// CustomData is the custom_data userinfo claim.
	CustomData map[string]any
	// CreatedAt and UpdatedAt are emitted as epoch milliseconds. Zero means
	// the time the user was added (by the provider clock).
	CreatedAt, UpdatedAt time.Time
}

// Resource is a Logto API resource: an indicator accepted in the resource
// parameter and the scopes it defines. Which of them a user holds is decided
// by [Role]s and [OrganizationRole]s; with no role configured at all, every
// user holds all of them.
type Resource struct {
	Indicator string
	Scopes    []string
}

// DefaultApp returns a Traditional app with ID [DefaultAppID], secret
// [DefaultAppSecret], redirect URI [DefaultRedirectURI] and post-logout
// redirect URI [DefaultPostLogoutRedirectURI].
func DefaultApp() App {
	return App{
		ID:                     DefaultAppID,
		Secret:                 DefaultAppSecret,
		Name:                   "logtotest default app",
		RedirectURIs:           []string{DefaultRedirectURI},
		PostLogoutRedirectURIs: []string{DefaultPostLogoutRedirectURI},
	}
}

// DefaultUser returns the user with ID [DefaultUserID]: username "probeuser",
// name "Probe User", email "probe@example.com", phone "15551234567" and
// password "Passw0rd!probe", created and updated at fixed times.
func DefaultUser() User {
	return User{
		ID:        DefaultUserID,
		Username:  "probeuser",
		Name:      "Probe User",
		Email:     "probe@example.com",
		Phone:     "15551234567",
		Password:  "Passw0rd!probe",
		CreatedAt: time.UnixMilli(1795518839646),
		UpdatedAt: time.UnixMilli(1795518971983),
	}
}

func (a App) clone() App {
	a.Public = a.Public || a.DeviceFlow
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	a.PostLogoutRedirectURIs = slices.Clone(a.PostLogoutRedirectURIs)
	a.Roles = slices.Clone(a.Roles)
	a.Organizations = slices.Clone(a.Organizations)
	a.OrganizationRoles = slices.Clone(a.OrganizationRoles)
	return a
}

func (u User) clone() User {
	u.Roles = slices.Clone(u.Roles)
	u.Organizations = slices.Clone(u.Organizations)
	u.OrganizationRoles = slices.Clone(u.OrganizationRoles)
	u.CustomData = maps.Clone(u.CustomData)
	return u
}

func (r Resource) clone() Resource {
	r.Scopes = slices.Clone(r.Scopes)
	return r
}

// matchesHint reports whether a login_hint names u by phone (with or without
// '+'), email (case-insensitive) or username.
func (u User) matchesHint(hint string) bool {
	if hint == "" {
		return false
	}
	if u.Phone != "" && strings.TrimPrefix(hint, "+") == u.Phone {
		return true
	}
	if u.Email != "" && strings.EqualFold(hint, u.Email) {
		return true
	}
	return u.Username != "" && hint == u.Username
}
