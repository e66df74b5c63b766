package logto

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/logto-go/logto/internal/jwks"
)

// idTokenCheck says what a verified ID token must contain besides the
// standard checks.
type idTokenCheck struct {
	nonce string // required value of the nonce claim; "" means none was sent
}

// verifyIDToken verifies raw (OpenID Connect Core 3.1.3.7): signature with a
// provider key and an allowlisted algorithm, iss, aud, azp, exp/iat/nbf with
// the configured skew, sub and nonce. Every failure is a *ProviderError with a
// precise Reason.
func (c *Client) verifyIDToken(ctx context.Context, p *provider, raw string, check idTokenCheck) (*IDTokenClaims, error) {
	fail := func(reason Reason, err error) error {
		return &ProviderError{Stage: "id_token", Reason: reason, Err: err}
	}
	// go-oidc formats key-set errors with %v; keep ours to classify them.
	rec := &keyErrorRecorder{KeySet: p.keys}
	verifier := oidc.NewVerifier(p.issuer, rec, &oidc.Config{
		ClientID:             c.cfg.AppID,
		SupportedSigningAlgs: p.algorithms,
		SkipExpiryCheck:      true, // checked below with the configured clock and skew
	})
	if _, err := verifier.Verify(ctx, raw); err != nil {
		if kerr := rec.err(); kerr != nil {
			var fe *jwks.FetchError
			if errors.As(kerr, &fe) {
				if fe.StatusCode != 0 {
					return nil, &ProviderError{Stage: "jwks", Reason: ReasonHTTPStatus, StatusCode: fe.StatusCode}
				}
				return nil, providerFailure("jwks", fe.Err, ReasonInvalidJSON)
			}
			if errors.Is(kerr, context.Canceled) || errors.Is(kerr, context.DeadlineExceeded) {
				return nil, providerFailure("jwks", kerr, ReasonTimeout)
			}
			return nil, fail(ReasonSignature, kerr)
		}
		// Signature was fine or never reached: find which claim check failed.
		var claims struct {
			Iss string   `json:"iss"`
			Aud Audience `json:"aud"`
		}
		if decodeJWTClaims(raw, &claims) != nil {
			return nil, fail(ReasonSignature, errors.New("malformed token"))
		}
		switch {
		case claims.Iss != p.issuer:
			return nil, fail(ReasonIssuer, errors.New("iss does not match the issuer"))
		case !slices.Contains(claims.Aud, c.cfg.AppID):
			return nil, fail(ReasonAudience, errors.New("aud does not contain the app ID"))
		case !claimsDecode(raw):
			return nil, fail(ReasonInvalidJSON, errors.New("claims of the wrong type"))
		}
		return nil, fail(ReasonSignature, err)
	}
	var claims IDTokenClaims
	if err := decodeJWTClaims(raw, &claims); err != nil {
		return nil, fail(ReasonInvalidJSON, err)
	}
	var times struct {
		Exp *json.Number `json:"exp"`
		Iat *json.Number `json:"iat"`
		Nbf *json.Number `json:"nbf"`
	}
	if err := decodeJWTClaims(raw, &times); err != nil {
		return nil, fail(ReasonInvalidJSON, err)
	}
	now := c.cfg.Now()
	skew := c.cfg.ClockSkew
	switch {
	case claims.Sub == "":
		return nil, fail(ReasonSubject, errors.New("sub missing"))
	case len(claims.Aud) != 1 && claims.Azp == "":
		return nil, fail(ReasonAuthorizedParty, errors.New("azp required with multiple audiences"))
	case len(claims.Aud) != 1:
		return nil, fail(ReasonAudience, errors.New("aud lists untrusted audiences"))
	case claims.Azp != "" && claims.Azp != c.cfg.AppID:
		return nil, fail(ReasonAuthorizedParty, errors.New("azp is not the app ID"))
	}
	exp, ok := unixClaim(times.Exp)
	if !ok {
		return nil, fail(ReasonExpired, errors.New("exp missing or not a number"))
	}
	if !now.Before(exp.Add(skew)) {
		return nil, fail(ReasonExpired, fmt.Errorf("expired at %s", exp.UTC().Format(time.RFC3339)))
	}
	iat, ok := unixClaim(times.Iat)
	if !ok {
		return nil, fail(ReasonIssuedAt, errors.New("iat missing or not a number"))
	}
	if d := now.Sub(iat); d > skew || d < -skew {
		return nil, fail(ReasonIssuedAt, fmt.Errorf("iat is %s away from now (allowed %s)", d.Round(time.Second), skew))
	}
	if times.Nbf != nil {
		nbf, ok := unixClaim(times.Nbf)
		if !ok || nbf.After(now.Add(skew)) {
			return nil, fail(ReasonNotBefore, errors.New("not valid yet"))
		}
	}
	if check.nonce != "" && subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(check.nonce)) != 1 {
		return nil, fail(ReasonNonce, errors.New("nonce does not match the transaction"))
	}
	return &claims, nil
}

// claimsDecode reports whether the token's claims have the expected types.
func claimsDecode(raw string) bool {
	var claims IDTokenClaims
	var times struct {
		Exp, Iat, Nbf *json.Number
	}
	return decodeJWTClaims(raw, &claims) == nil && decodeJWTClaims(raw, &times) == nil
}

func unixClaim(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e12 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// keyErrorRecorder keeps the key-set error of one verification.
type keyErrorRecorder struct {
	*jwks.KeySet
	mu   sync.Mutex
	last error
}

func (r *keyErrorRecorder) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := r.KeySet.VerifySignature(ctx, jwt)
	if err != nil {
		r.mu.Lock()
		r.last = err
		r.mu.Unlock()
	}
	return payload, err
}

func (r *keyErrorRecorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}
