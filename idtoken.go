package logto

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"slices"

	"github.com/logto-go/logto/internal/jwt"
)

// idTokenCheck says what a verified ID token must contain besides the
// standard checks.
type idTokenCheck struct {
	nonce string // required value of the nonce claim; "" means none was sent
	// accessToken came in the same token response: a present at_hash must
	// match it.
	accessToken string
	// previous is the session's ID token when this one comes from a refresh
	// (OpenID Connect Core 12.2).
	previous *IDTokenClaims
}

// verifyIDToken verifies raw, an ID token from the token endpoint (OpenID
// Connect Core 3.1.3.7, and 12.2 after a refresh): signature with a
// published key and an allowlisted algorithm, no typ but JWT, iss, aud (the
// app alone), azp, sub, exp, iat (just issued at the callback, not in the
// future on refresh), nbf, nonce, at_hash. Every failure is a
// *ProviderError with Stage "id_token" and a precise Reason, except a
// failure to fetch the keys (Stage "jwks").
func (c *Client) verifyIDToken(ctx context.Context, p *provider, raw string, check idTokenCheck) (*IDTokenClaims, error) {
	return verifyIDToken(ctx, p, c.cfg.AppID, raw, check)
}

// verifyIDToken is [Client.verifyIDToken] for the app appID: the one set of
// ID token rules of the web and device flows.
func verifyIDToken(ctx context.Context, p *provider, appID, raw string, check idTokenCheck) (*IDTokenClaims, error) {
	fail := func(reason Reason, err error) error {
		return &ProviderError{Stage: "id_token", Reason: reason, Err: err}
	}
	rules := jwt.Rules{
		Audience:        appID,
		SingleAudience:  true,
		AuthorizedParty: appID,
		RequireSubject:  true,
		RequireExpiry:   true,
		RequireIssued:   true,
		AccessToken:     check.accessToken,
		Trusted:         true, // from the token endpoint, over TLS
	}
	// At the callback the token was issued a moment ago; a refreshed one may
	// come from a coalesced refresh of a few seconds ago.
	rules.IssuedJustNow = check.previous == nil
	tok, err := p.verifier.Verify(ctx, raw, rules)
	if err != nil {
		return nil, verificationError("id_token", err)
	}
	var claims IDTokenClaims
	if err := json.Unmarshal(tok.Payload, &claims); err != nil {
		return nil, fail(ReasonInvalidJSON, errors.New("claims of the wrong type"))
	}
	if check.nonce != "" && subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(check.nonce)) != 1 {
		return nil, fail(ReasonNonce, errors.New("nonce does not match the transaction"))
	}
	if old := check.previous; old != nil {
		if err := sameAuthentication(old, &claims); err != nil {
			return nil, err
		}
	}
	return &claims, nil
}

// sameAuthentication applies OpenID Connect Core 12.2 to a refreshed ID
// token: the same iss, sub and aud; azp with the same presence and value;
// auth_time unchanged; a nonce only if it is the original one (Logto
// repeats it).
func sameAuthentication(old, cur *IDTokenClaims) error {
	changed := func(what string) error {
		return &ProviderError{Stage: "id_token", Reason: ReasonIdentityChange, Err: errors.New("refreshed ID token changed " + what)}
	}
	switch {
	case cur.Iss != old.Iss:
		return changed("iss")
	case cur.Sub != old.Sub:
		return changed("sub")
	case !slices.Equal(cur.Aud, old.Aud):
		return changed("aud")
	case cur.Azp != old.Azp:
		return changed("azp")
	case cur.AuthTime != old.AuthTime:
		return changed("auth_time")
	case cur.Nonce != "" && subtle.ConstantTimeCompare([]byte(cur.Nonce), []byte(old.Nonce)) != 1:
		return &ProviderError{Stage: "id_token", Reason: ReasonNonce, Err: errors.New("refreshed ID token carries another nonce")}
	}
	return nil
}

// verificationError turns a failure of the JWT verifier into a
// *ProviderError of stage; a failure to fetch the keys is stage "jwks".
func verificationError(stage string, err error) error {
	var je *jwt.Error
	if errors.As(err, &je) {
		return &ProviderError{Stage: stage, Reason: Reason(je.Reason), Err: je.Err}
	}
	if pe := keyFetchError(err); pe != nil {
		return pe
	}
	return providerFailure(stage, err, ReasonSignature)
}

// keyFetchError turns a failure to fetch the JWKS into a *ProviderError of
// stage "jwks", and returns nil for anything else.
func keyFetchError(err error) *ProviderError {
	var fe *jwt.FetchError
	switch {
	case errors.As(err, &fe) && fe.StatusCode != 0:
		return &ProviderError{Stage: "jwks", Reason: ReasonHTTPStatus, StatusCode: fe.StatusCode}
	case errors.As(err, &fe):
		return providerFailure("jwks", fe.Err, ReasonInvalidJSON)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return providerFailure("jwks", err, ReasonTimeout)
	}
	return nil
}
