package logto

import (
	"encoding/json"

	"github.com/logto-go/logto/internal/claimsparse"
)

// parseIDTokenClaims decodes a JWT payload into IDTokenClaims on the
// per-request path: internal/claimsparse for the shapes Logto emits (one
// allocation for every string field), encoding/json, the reference, for
// anything else.
func parseIDTokenClaims(payload []byte) (IDTokenClaims, error) {
	if c, ok := parseClaims(string(payload), payload); ok {
		return c, nil
	}
	var slow IDTokenClaims
	err := json.Unmarshal(payload, &slow)
	return slow, err
}

// parseClaims reads s (the payload as a string, possibly part of a larger
// one shared with other fields; raw is the same payload as bytes) with the
// fast parser; ok is false when it declines.
func parseClaims(s string, raw []byte) (IDTokenClaims, bool) {
	p, ok := claimsparse.Parse(s)
	if !ok {
		return IDTokenClaims{}, false
	}
	return IDTokenClaims{
		Iss: p.Iss, Sub: p.Sub, Aud: p.Aud, Exp: p.Exp, Iat: p.Iat, Nonce: p.Nonce, AuthTime: p.AuthTime,
		AtHash: p.AtHash, Sid: p.Sid, Azp: p.Azp, Name: p.Name, Username: p.Username,
		PreferredUsername: p.PreferredUsername, Picture: p.Picture, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Email: p.Email, EmailVerified: p.EmailVerified, PhoneNumber: p.PhoneNumber,
		PhoneNumberVerified: p.PhoneNumberVerified, Roles: p.Roles, Organizations: p.Organizations,
		OrganizationRoles: p.OrganizationRoles, raw: raw,
	}, true
}
