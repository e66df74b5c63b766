// Package jwt is the SDK's one verifier for the JWTs it accepts: ID tokens
// (at the callback and on refresh), access tokens (ResourceServer) and
// back-channel logout tokens. Every token is parsed once (compact JWS only),
// checked against one algorithm allowlist and one key set with one refetch
// policy, and then against the rules common to all kinds (typ, iss, aud,
// azp, exp/iat/nbf with one skew, at_hash). Each kind adds only its own
// rules, through Rules and its own claims type.
package jwt

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// MaxTokenLength bounds every token before any work. Logto's ID tokens are
// about 1 KB, but one listing a user's many roles and organizations can
// reach tens of KB (and then fails as too large for a session, clearly);
// untrusted tokens (bearer, logout) are bounded tighter by their callers.
const MaxTokenLength = 256 << 10

// Reasons of Error, in the vocabulary of the SDK's public Reason type.
const (
	ReasonSignature       = "signature" // malformed, disallowed alg, unknown kid, bad signature
	ReasonTokenType       = "token_type"
	ReasonInvalidJSON     = "invalid_json"
	ReasonIssuer          = "iss"
	ReasonAudience        = "aud"
	ReasonAuthorizedParty = "azp"
	ReasonSubject         = "sub"
	ReasonExpired         = "exp"
	ReasonIssuedAt        = "iat"
	ReasonNotBefore       = "nbf"
	ReasonAccessTokenHash = "at_hash"
)

// Error is a token that fails verification. Failures to fetch the keys are
// not an Error: they come as *FetchError or the context's error.
type Error struct {
	Reason string
	Err    error
}

// Error names the rule the token broke.
func (e *Error) Error() string { return "jwt: " + e.Reason + ": " + e.Err.Error() }

// Unwrap returns the detail.
func (e *Error) Unwrap() error { return e.Err }

func fail(reason string, format string, args ...any) *Error {
	return &Error{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Verifier checks tokens signed by one issuer. It is safe for concurrent use.
type Verifier struct {
	Issuer     string
	Keys       *KeySet
	Algorithms []string // allowlist (already narrowed by discovery)
	Now        func() time.Time
	Skew       time.Duration
}

// Rules are what one kind of token must satisfy besides signature and iss.
type Rules struct {
	// Types are the accepted typ header values, compared case-insensitively
	// with an optional "application/" prefix (RFC 8725 3.11). A typ outside
	// the list is refused; an absent typ is accepted unless TypeRequired.
	// Empty Types accepts no typ but "JWT": an ID token must not be an
	// access or logout token.
	Types        []string
	TypeRequired bool

	// Audience must be in aud, unless AudienceMatch is set.
	Audience      string
	AudienceMatch func(aud []string) bool
	// SingleAudience refuses any audience besides Audience (ID tokens: the
	// SDK trusts no other party).
	SingleAudience bool
	// AuthorizedParty, when set, is the only accepted azp, and azp is
	// required when aud has several values (OpenID Connect Core 3.1.3.7).
	AuthorizedParty string

	RequireSubject bool
	RequireExpiry  bool
	RequireIssued  bool
	// IssuedJustNow refuses an iat further than the skew from now, in the
	// past too: a token the issuer minted for this very request.
	IssuedJustNow bool
	// MaxAge, when positive, refuses an iat older than MaxAge plus the skew.
	MaxAge time.Duration

	// AccessToken, when set, is the access token that came with the token:
	// an at_hash claim must then match it (OpenID Connect Core 3.1.3.8).
	AccessToken string
	// Trusted: the token came from the token endpoint, not from a request
	// (see KeySet's refetch policy).
	Trusted bool
}

// Claims are the registered claims every kind shares.
type Claims struct {
	Iss    string       `json:"iss"`
	Sub    string       `json:"sub"`
	Aud    audience     `json:"aud"`
	Azp    string       `json:"azp"`
	Exp    *json.Number `json:"exp"`
	Iat    *json.Number `json:"iat"`
	Nbf    *json.Number `json:"nbf"`
	AtHash *string      `json:"at_hash"`
}

// Token is a verified token.
type Token struct {
	Header  jose.Header
	Type    string // the typ header, "" when absent
	Payload []byte // the verified JSON claim set
	Claims  Claims
	Expiry  time.Time // zero when absent
	Issued  time.Time // zero when absent
}

// Verify checks raw against the common rules and rules. On success it
// returns the token with its verified payload, for the kind's own claims.
func (v *Verifier) Verify(ctx context.Context, raw string, rules Rules) (*Token, error) {
	if len(raw) > MaxTokenLength {
		return nil, fail(ReasonSignature, "token longer than %d bytes", MaxTokenLength)
	}
	if !canonicalCompact(raw) {
		return nil, fail(ReasonSignature, "not a canonical compact JWS")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(v.Algorithms))
	for _, a := range v.Algorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return nil, fail(ReasonSignature, "malformed or algorithm not allowed")
	}
	if len(jws.Signatures) != 1 {
		return nil, fail(ReasonSignature, "want exactly one signature")
	}
	hdr := jws.Signatures[0].Header
	if hdr.JSONWebKey != nil {
		return nil, fail(ReasonSignature, "embedded jwk header not accepted")
	}
	typ, _ := hdr.ExtraHeaders["typ"].(string)
	if err := checkType(typ, rules); err != nil {
		return nil, err
	}

	keys, err := v.Keys.Keys(ctx, hdr.KeyID, hdr.Algorithm, rules.Trusted)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, &Error{Reason: ReasonSignature, Err: ErrUnknownKey}
		}
		return nil, err
	}
	var payload []byte
	for _, key := range keys {
		if payload, err = jws.Verify(key); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, &Error{Reason: ReasonSignature, Err: ErrSignature}
	}

	t := &Token{Header: hdr, Type: typ, Payload: payload}
	if err := json.Unmarshal(payload, &t.Claims); err != nil {
		return nil, fail(ReasonInvalidJSON, "claims of the wrong type")
	}
	if err := v.checkClaims(t, rules); err != nil {
		return nil, err
	}
	return t, nil
}

func (v *Verifier) checkClaims(t *Token, rules Rules) error {
	c := &t.Claims
	if c.Iss != v.Issuer {
		return fail(ReasonIssuer, "iss does not match the issuer")
	}
	if rules.AudienceMatch != nil {
		if !rules.AudienceMatch(c.Aud) {
			return fail(ReasonAudience, "not issued for this audience")
		}
	} else if !slices.Contains(c.Aud, rules.Audience) {
		return fail(ReasonAudience, "aud does not contain %q", rules.Audience)
	}
	if rules.AuthorizedParty != "" {
		switch {
		case len(c.Aud) > 1 && c.Azp == "":
			return fail(ReasonAuthorizedParty, "azp required with multiple audiences")
		case c.Azp != "" && c.Azp != rules.AuthorizedParty:
			return fail(ReasonAuthorizedParty, "azp is not the client ID")
		}
	}
	if rules.SingleAudience && len(c.Aud) != 1 {
		return fail(ReasonAudience, "aud lists untrusted audiences")
	}
	if rules.RequireSubject && c.Sub == "" {
		return fail(ReasonSubject, "sub missing")
	}

	now, skew := v.Now(), v.Skew
	var ok bool
	if c.Exp != nil {
		if t.Expiry, ok = unixTime(c.Exp); !ok {
			return fail(ReasonExpired, "exp is not a valid time")
		}
		if !now.Before(t.Expiry.Add(skew)) {
			return fail(ReasonExpired, "expired at %s", t.Expiry.UTC().Format(time.RFC3339))
		}
	} else if rules.RequireExpiry {
		return fail(ReasonExpired, "exp missing")
	}
	if c.Iat != nil {
		if t.Issued, ok = unixTime(c.Iat); !ok {
			return fail(ReasonIssuedAt, "iat is not a valid time")
		}
		if t.Issued.After(now.Add(skew)) {
			return fail(ReasonIssuedAt, "issued in the future")
		}
		maxAge := rules.MaxAge
		if rules.IssuedJustNow {
			maxAge = 0
		}
		if (rules.IssuedJustNow || maxAge > 0) && now.Sub(t.Issued) > maxAge+skew {
			return fail(ReasonIssuedAt, "issued %s ago (allowed %s)", now.Sub(t.Issued).Round(time.Second), maxAge+skew)
		}
	} else if rules.RequireIssued {
		return fail(ReasonIssuedAt, "iat missing")
	}
	if c.Nbf != nil {
		nbf, ok := unixTime(c.Nbf)
		if !ok || nbf.After(now.Add(skew)) {
			return fail(ReasonNotBefore, "not valid yet")
		}
	}
	if rules.AccessToken != "" && c.AtHash != nil {
		if !atHashMatches(*c.AtHash, rules.AccessToken, t.Header.Algorithm) {
			return fail(ReasonAccessTokenHash, "at_hash does not match the access token")
		}
	}
	return nil
}

func checkType(typ string, rules Rules) error {
	norm := strings.TrimPrefix(strings.ToLower(typ), "application/")
	switch {
	case typ == "":
		if rules.TypeRequired {
			return fail(ReasonTokenType, "typ header missing")
		}
		return nil
	case len(rules.Types) == 0:
		if norm != "jwt" {
			return fail(ReasonTokenType, "unexpected typ")
		}
		return nil
	case slices.Contains(rules.Types, norm):
		return nil
	}
	return fail(ReasonTokenType, "typ must be one of %s", strings.Join(rules.Types, ", "))
}

// atHashMatches checks at_hash (OpenID Connect Core 3.1.3.6): the base64url
// left half of the access token's hash with the ID token's algorithm's hash.
func atHashMatches(atHash, accessToken, alg string) bool {
	var h hash.Hash
	switch alg {
	case "ES256", "RS256", "PS256":
		h = sha256.New()
	case "ES384", "RS384", "PS384":
		h = sha512.New384()
	case "ES512", "RS512", "PS512", "EdDSA":
		h = sha512.New()
	default:
		return false
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	want := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	return subtle.ConstantTimeCompare([]byte(atHash), []byte(want)) == 1
}

// canonicalCompact reports whether raw is three base64url segments in their
// only canonical form (no padding, zero trailing bits), so that no token
// other than the one the issuer signed decodes to the same bytes.
func canonicalCompact(raw string) bool {
	segments := 0
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '.' {
			continue
		}
		if !canonicalSegment(raw[start:i]) {
			return false
		}
		segments++
		start = i + 1
	}
	return segments == 3
}

func canonicalSegment(s string) bool {
	if len(s) == 0 || len(s)%4 == 1 {
		return false
	}
	last := 0
	for i := 0; i < len(s); i++ {
		v := base64URLValue(s[i])
		if v < 0 {
			return false
		}
		last = v
	}
	switch len(s) % 4 {
	case 2:
		return last&0x0f == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

func base64URLValue(b byte) int {
	switch {
	case b >= 'A' && b <= 'Z':
		return int(b - 'A')
	case b >= 'a' && b <= 'z':
		return int(b-'a') + 26
	case b >= '0' && b <= '9':
		return int(b-'0') + 52
	case b == '-':
		return 62
	case b == '_':
		return 63
	}
	return -1
}

// unixTime reads a NumericDate (RFC 7519 2): seconds, possibly fractional,
// positive and before year 33658.
func unixTime(n *json.Number) (time.Time, bool) {
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e12 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// audience is aud as a string or an array of strings (RFC 7519 4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}
