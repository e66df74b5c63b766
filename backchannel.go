package logto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/logto-go/logto/internal/jwt"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): Logto POSTs a
// signed logout token to the app when a user's Logto session ends elsewhere
// (another app signed out, an admin revoked the session). Register
// BaseURL + BackChannelLogoutPath as the application's "Backchannel logout
// URI" in the Logto Console.
//
// Each logout is recorded in the Client's [RevocationList] (revocation.go).

// ErrInvalidLogoutToken: a back-channel logout request was rejected. HTTP 400.
var ErrInvalidLogoutToken = errors.New("logto: invalid logout token")

const backChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutClaims are the claims of a logout token.
type logoutClaims struct {
	Iss    string                     `json:"iss"`
	Aud    Audience                   `json:"aud"`
	Sub    string                     `json:"sub"`
	Sid    string                     `json:"sid"`
	Jti    string                     `json:"jti"`
	Events map[string]json.RawMessage `json:"events"`
	Nonce  *json.RawMessage           `json:"nonce"`
}

// maxLogoutTokenAge bounds how old (by iat) a logout token may be; Logto's
// live 120 s.
const maxLogoutTokenAge = 5 * time.Minute

// HandleBackChannelLogout receives a logout token (POST form logout_token),
// validates it like an ID token plus the Back-Channel Logout rules (events
// claim, no nonce, sub or sid, a jti not seen before, typ logout+jwt when
// present) and ends the matching sessions. It answers 200 with
// Cache-Control: no-store, or returns an error matching
// [ErrInvalidLogoutToken] (400) or a provider error (keys unavailable).
// A body over 64 KiB or a logout_token over 16 KiB is refused (400) before
// any provider call.
func (c *Client) HandleBackChannelLogout(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return ErrMethodNotAllowed
	}
	// Bounded before any work: an oversized body or token is refused
	// without discovery, a key fetch or a signature check.
	r.Body = http.MaxBytesReader(w, r.Body, maxBackChannelBody)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: unreadable or oversized form", ErrInvalidLogoutToken)
	}
	if len(r.PostForm["logout_token"]) != 1 {
		return fmt.Errorf("%w: want exactly one logout_token", ErrInvalidLogoutToken)
	}
	raw := r.PostForm.Get("logout_token")
	if len(raw) > maxLogoutToken {
		return fmt.Errorf("%w: logout_token too large", ErrInvalidLogoutToken)
	}
	claims, err := c.verifyLogoutToken(r.Context(), raw)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	expires := now.Add(c.cfg.SessionMaxAge)
	if claims.Sid != "" {
		err = c.cfg.RevocationList.Revoke(r.Context(), c.revocationKey("sid", claims.Sid), now, expires)
	} else {
		err = c.cfg.RevocationList.Revoke(r.Context(), c.revocationKey("sub", claims.Sub), now, expires)
	}
	if err != nil {
		return fmt.Errorf("logto: recording the logout: %w", err)
	}
	c.cfg.Logger.Info("logto: back-channel logout", "sub", claims.Sub, "by_sid", claims.Sid != "")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (c *Client) verifyLogoutToken(ctx context.Context, raw string) (*logoutClaims, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrInvalidLogoutToken, why) }
	p, err := c.provider(ctx)
	if err != nil {
		return nil, err
	}
	// Back-Channel Logout 1.0 section 2.6: a typ, when present, is
	// logout+jwt; iat is required and recent; exp is optional.
	tok, err := p.verifier.Verify(ctx, raw, jwt.Rules{
		Types:         []string{"logout+jwt"},
		Audience:      c.cfg.AppID,
		RequireIssued: true,
		MaxAge:        maxLogoutTokenAge,
	})
	if err != nil {
		var je *jwt.Error
		if errors.As(err, &je) {
			return nil, bad(je.Reason)
		}
		if pe := keyFetchError(err); pe != nil {
			return nil, pe
		}
		return nil, providerFailure("jwks", err, ReasonNetwork)
	}
	var lc logoutClaims
	if err := json.Unmarshal(tok.Payload, &lc); err != nil {
		return nil, bad("claims of the wrong type")
	}
	switch {
	case lc.Nonce != nil:
		return nil, bad("nonce is forbidden in logout tokens")
	case lc.Sub == "" && lc.Sid == "":
		return nil, bad("neither sub nor sid")
	case lc.Jti == "":
		return nil, bad("jti missing")
	}
	ev, ok := lc.Events[backChannelLogoutEvent]
	var evObj map[string]any
	if !ok || json.Unmarshal(ev, &evObj) != nil || evObj == nil {
		return nil, bad("events lacks the back-channel logout event")
	}
	// Remember the jti while the token could still verify.
	now, skew := c.cfg.Now(), c.cfg.ClockSkew
	expires := tok.Issued.Add(maxLogoutTokenAge + skew)
	if !tok.Expiry.IsZero() && tok.Expiry.Add(skew).After(expires) {
		expires = tok.Expiry.Add(skew)
	}
	// Replay: a jti is accepted once while its token could be valid.
	key := c.revocationKey("jti", lc.Jti)
	if _, seen, err := c.cfg.RevocationList.RevokedAt(ctx, key); err != nil {
		return nil, fmt.Errorf("logto: revocation list: %w", err)
	} else if seen {
		return nil, bad("jti replayed")
	}
	if err := c.cfg.RevocationList.Revoke(ctx, key, now, expires); err != nil {
		return nil, fmt.Errorf("logto: revocation list: %w", err)
	}
	return &lc, nil
}
