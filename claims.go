package logto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// IDTokenClaims are the claims of a Logto ID token. The typed fields cover
// what Logto issues for the scopes in [Config.Scopes]; Extra holds every other
// claim. It marshals back to the original JSON claim set.
//
// Logto sends unset profile values as JSON null; they decode to "".
type IDTokenClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"` // the Logto user ID
	Aud      Audience `json:"aud"`
	Exp      int64    `json:"exp"` // seconds since the epoch
	Iat      int64    `json:"iat"`
	Nonce    string   `json:"nonce,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	AtHash   string   `json:"at_hash,omitempty"`
	Sid      string   `json:"sid,omitempty"`
	Azp      string   `json:"azp,omitempty"`

	// profile
	Name              string `json:"name,omitempty"`
	Username          string `json:"username,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Picture           string `json:"picture,omitempty"`
	// Logto timestamps, in milliseconds since the epoch; see CreatedTime.
	CreatedAt int64 `json:"created_at,omitempty"`
	UpdatedAt int64 `json:"updated_at,omitempty"`

	// email, phone
	Email               string `json:"email,omitempty"`
	EmailVerified       bool   `json:"email_verified,omitempty"`
	PhoneNumber         string `json:"phone_number,omitempty"`
	PhoneNumberVerified bool   `json:"phone_number_verified,omitempty"`

	// roles, organizations, organization_roles
	Roles             []string `json:"roles,omitempty"`
	Organizations     []string `json:"organizations,omitempty"`
	OrganizationRoles []string `json:"organization_roles,omitempty"` // "<organizationID>:<role name>"

	raw json.RawMessage
}

// CreatedTime converts CreatedAt (milliseconds) to a time.Time.
func (c IDTokenClaims) CreatedTime() time.Time { return time.UnixMilli(c.CreatedAt) }

// UpdatedTime converts UpdatedAt (milliseconds) to a time.Time.
func (c IDTokenClaims) UpdatedTime() time.Time { return time.UnixMilli(c.UpdatedAt) }

// DisplayName is a name to greet the user with: Name, else Username, else
// PhoneNumber, else Email, else Sub. Logto leaves name empty for users who
// registered with a phone number or an email address; templates can write
// {{.Claims.DisplayName}}.
func (c IDTokenClaims) DisplayName() string {
	for _, v := range []string{c.Name, c.Username, c.PhoneNumber, c.Email} {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return c.Sub
}

// ExpiresAt converts Exp to a time.Time.
func (c IDTokenClaims) ExpiresAt() time.Time { return time.Unix(c.Exp, 0) }

// Extra returns the claims without a typed field (custom claims, profile
// claims such as given_name), decoded from the original claim set.
func (c IDTokenClaims) Extra() map[string]any {
	var all map[string]any
	if len(c.raw) == 0 || json.Unmarshal(c.raw, &all) != nil {
		return nil
	}
	for k := range all {
		if new(IDTokenClaims).field(k) != nil { // a typed field holds it
			delete(all, k)
		}
	}
	return all
}

// Raw returns the original JSON claim set (nil for claims built in code).
func (c IDTokenClaims) Raw() json.RawMessage { return c.raw }

// MarshalJSON returns the original claim set, so nothing is lost and the
// shape is the one @logto/next's LogtoContext.claims has.
func (c IDTokenClaims) MarshalJSON() ([]byte, error) {
	if len(c.raw) > 0 {
		return c.raw, nil
	}
	type plain IDTokenClaims
	return json.Marshal(plain(c))
}

// UnmarshalJSON decodes the typed fields (claim names are case-sensitive,
// unlike encoding/json's struct matching; JSON null leaves a field zero, as
// Logto sends unset profile values) and keeps the original claim set for
// MarshalJSON and Extra. The claim set is read once; each known claim's
// value is decoded into its field.
func (c *IDTokenClaims) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	var out IDTokenClaims
	for name, v := range all {
		dst := out.field(name)
		if dst == nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return err
		}
	}
	out.raw = append(json.RawMessage(nil), b...)
	*c = out
	return nil
}

// field returns a pointer to the typed field of the claim called name, or
// nil for a claim without one.
func (c *IDTokenClaims) field(name string) any {
	switch name {
	case "iss":
		return &c.Iss
	case "sub":
		return &c.Sub
	case "aud":
		return &c.Aud
	case "exp":
		return &c.Exp
	case "iat":
		return &c.Iat
	case "nonce":
		return &c.Nonce
	case "auth_time":
		return &c.AuthTime
	case "at_hash":
		return &c.AtHash
	case "sid":
		return &c.Sid
	case "azp":
		return &c.Azp
	case "name":
		return &c.Name
	case "username":
		return &c.Username
	case "preferred_username":
		return &c.PreferredUsername
	case "picture":
		return &c.Picture
	case "created_at":
		return &c.CreatedAt
	case "updated_at":
		return &c.UpdatedAt
	case "email":
		return &c.Email
	case "email_verified":
		return &c.EmailVerified
	case "phone_number":
		return &c.PhoneNumber
	case "phone_number_verified":
		return &c.PhoneNumberVerified
	case "roles":
		return &c.Roles
	case "organizations":
		return &c.Organizations
	case "organization_roles":
		return &c.OrganizationRoles
	}
	return nil
}

// Audience is the "aud" claim: a string or an array of strings.
type Audience []string

// UnmarshalJSON accepts a string or an array (null is no audience).
func (a *Audience) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*a = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = l
	return nil
}

// MarshalJSON writes a single audience as a string, like Logto.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// decodeJWTClaims decodes the payload of a compact JWS without verifying it.
// Only for tokens this package verified earlier and sealed in the session.
func decodeJWTClaims(token string, v any) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(payload, v)
}

// AccessTokenClaims are the claims of a Logto JWT access token: one issued for
// an API resource or an organization (header typ "at+jwt"). Opaque access
// tokens (no resource) have no claims.
type AccessTokenClaims struct {
	Jti      string   `json:"jti,omitempty"`
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"` // the user ID, or the client ID for machine-to-machine tokens
	Aud      Audience `json:"aud"` // the resource indicator, or urn:logto:organization:<id>
	ClientID string   `json:"client_id,omitempty"`
	Scope    string   `json:"scope,omitempty"` // space-separated
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf,omitempty"`
	// OrganizationID is set on organization-scoped API resource tokens.
	OrganizationID string `json:"organization_id,omitempty"`
}

// Scopes splits Scope.
func (c AccessTokenClaims) Scopes() []string { return strings.Fields(c.Scope) }

// Organization returns the organization the token is for: the ID in an
// organization token's audience (urn:logto:organization:<id>), or the
// organization_id claim of an organization-scoped resource token.
func (c AccessTokenClaims) Organization() (string, bool) {
	for _, a := range c.Aud {
		if id, err := OrganizationIDFromURN(a); err == nil {
			return id, true
		}
	}
	return c.OrganizationID, c.OrganizationID != ""
}

// HasScopes reports whether every one of scopes was granted.
func (c AccessTokenClaims) HasScopes(scopes ...string) bool {
	granted := c.Scopes()
	for _, s := range scopes {
		if !slices.Contains(granted, s) {
			return false
		}
	}
	return true
}

// InsecureDecodeAccessTokenClaims decodes the claims of a JWT access token
// WITHOUT verifying its signature, issuer, audience or lifetime: anyone can
// write a token that decodes to any claims. Use it only to look at a token
// this package just obtained from Logto (logging its scopes, a test). It
// MUST NOT be used to decide anything about a token received from someone
// else (an Authorization header, a cookie, a query parameter): an API
// verifies the tokens it receives with [ResourceServer.Verify] or
// [ResourceServer.Middleware].
func InsecureDecodeAccessTokenClaims(token string) (AccessTokenClaims, error) {
	var c AccessTokenClaims
	if strings.Count(token, ".") != 2 {
		return c, errors.New("logto: not a JWT access token (opaque tokens have no claims)")
	}
	err := decodeJWTClaims(token, &c)
	return c, err
}

// UserInfo is Logto's userinfo response (/oidc/me): the ID token claims plus
// the claims only userinfo returns. It marshals back to the original JSON.
type UserInfo struct {
	IDTokenClaims
	// CustomData is custom_data (scope custom_data).
	CustomData map[string]any `json:"-"`
	// Identities are the social identities keyed by connector target (scope identities).
	Identities map[string]UserIdentity `json:"-"`
	// OrganizationData describes the user's organizations (scope urn:logto:scope:organizations).
	OrganizationData []OrganizationData `json:"-"`
}

// UserIdentity is one social identity of a user.
type UserIdentity struct {
	UserID  string         `json:"userId"`
	Details map[string]any `json:"details,omitempty"`
}

// OrganizationData is one entry of organization_data.
type OrganizationData struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// UnmarshalJSON decodes the claims and the userinfo-only fields.
func (u *UserInfo) UnmarshalJSON(b []byte) error {
	if err := u.IDTokenClaims.UnmarshalJSON(b); err != nil {
		return err
	}
	var extra struct {
		CustomData       map[string]any          `json:"custom_data"`
		Identities       map[string]UserIdentity `json:"identities"`
		OrganizationData []OrganizationData      `json:"organization_data"`
	}
	if err := json.Unmarshal(b, &extra); err != nil {
		return err
	}
	u.CustomData, u.Identities, u.OrganizationData = extra.CustomData, extra.Identities, extra.OrganizationData
	return nil
}
