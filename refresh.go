package logto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/logto-go/logto/internal/jwks"
)

// RefreshCoalescer runs at most one refresh per key at a time and hands its
// result to every caller that asked for the same key meanwhile. Keys are
// opaque hashes of (refresh token, resource, organization): never a token.
//
// The default, [NewLocalRefreshCoalescer], works within one process. An
// implementation shared by several instances (e.g. a lock and a short-lived
// result in Redis) lets them agree too. The result bytes are sealed by the
// SDK (they hold tokens). Reuse a result only briefly (seconds), measured
// with [Config.Now]: a stale one carries an expired ID token and fails.
type RefreshCoalescer interface {
	Do(ctx context.Context, key string, refresh func(context.Context) ([]byte, error)) ([]byte, error)
}

// recentResultTTL is how long a successful refresh result is handed to late
// requests still carrying the old cookie, so they neither refresh again nor
// replay a rotated refresh token.
const recentResultTTL = 10 * time.Second

// localCoalescer is the in-process RefreshCoalescer.
type localCoalescer struct {
	group singleflight.Group
	now   func() time.Time

	mu     sync.Mutex
	recent map[string]recentResult
}

type recentResult struct {
	value []byte
	until time.Time
}

// NewLocalRefreshCoalescer returns the default in-process RefreshCoalescer:
// concurrent callers with one key share one refresh (singleflight), and a
// success is reused for 10 seconds. now may be nil (time.Now).
func NewLocalRefreshCoalescer(now func() time.Time) RefreshCoalescer {
	if now == nil {
		now = time.Now
	}
	return &localCoalescer{now: now, recent: map[string]recentResult{}}
}

func (l *localCoalescer) Do(ctx context.Context, key string, refresh func(context.Context) ([]byte, error)) ([]byte, error) {
	if v, ok := l.lookup(key); ok {
		return v, nil
	}
	ch := l.group.DoChan(key, func() (any, error) {
		if v, ok := l.lookup(key); ok {
			return v, nil
		}
		// Detached: the first caller going away must not fail the others.
		v, err := refresh(context.WithoutCancel(ctx))
		if err == nil {
			l.remember(key, v)
		}
		return v, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *localCoalescer) lookup(key string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.recent[key]
	if !ok || !l.now().Before(r.until) {
		return nil, false
	}
	return r.value, true
}

func (l *localCoalescer) remember(key string, v []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, r := range l.recent { // bounded by the refreshes of the last TTL
		if !now.Before(r.until) {
			delete(l.recent, k)
		}
	}
	l.recent[key] = recentResult{value: v, until: now.Add(recentResultTTL)}
}

// tokenResponse is a token endpoint answer (RFC 6749 5.1), as Logto sends it.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
	// IssuedAt is the request time (unix seconds), for expiresAt.
	IssuedAt int64 `json:"issued_at"`
}

// refreshKey identifies one refresh without revealing the refresh token.
func refreshKey(refreshToken, resource, organizationID string) string {
	sum := sha256.Sum256([]byte(refreshToken + "\x00" + resource + "\x00" + organizationID))
	return hex.EncodeToString(sum[:])
}

// refresh gets a token for (resource, organizationID) with the session's
// refresh token, coalesced with concurrent identical refreshes.
func (c *Client) refresh(ctx context.Context, p *provider, refreshToken, resource, organizationID string) (*tokenResponse, error) {
	key := refreshKey(refreshToken, resource, organizationID)
	raw, err := c.cfg.RefreshCoalescer.Do(ctx, key, func(ctx context.Context) ([]byte, error) {
		tr, err := c.refreshGrant(ctx, p, refreshToken, resource, organizationID)
		if err != nil {
			return nil, err
		}
		// Sealed: a shared coalescer (e.g. Redis) never holds tokens in clear.
		v, err := c.results.Seal(key, tr)
		return []byte(v), err
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, providerFailure("token", err, ReasonTimeout)
		}
		return nil, err
	}
	var tr tokenResponse
	if err := c.results.Open(key, string(raw), &tr); err != nil {
		return nil, &ProviderError{Stage: "token", Reason: ReasonInvalidJSON, Err: errors.New("coalescer returned an unreadable result")}
	}
	return &tr, nil
}

// refreshGrant posts grant_type=refresh_token (RFC 6749 section 6) with
// client_secret_basic, plus resource (RFC 8707) and Logto's organization_id.
func (c *Client) refreshGrant(ctx context.Context, p *provider, refreshToken, resource, organizationID string) (*tokenResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.httpTimeout())
	defer cancel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {c.cfg.AppID}}
	if resource != "" {
		form.Set("resource", resource)
	}
	if organizationID != "" {
		form.Set("organization_id", organizationID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.tokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &ProviderError{Stage: "token", Reason: ReasonNetwork, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.cfg.AppID), url.QueryEscape(c.cfg.AppSecret))
	issued := c.cfg.Now().Unix()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, providerFailure("token", err, ReasonNetwork)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, providerFailure("token", err, ReasonInvalidJSON)
	}
	if resp.StatusCode != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		reason := ReasonHTTPStatus
		if oe.Error != "" {
			reason = ReasonOAuthError
		}
		return nil, &ProviderError{Stage: "token", Reason: reason, StatusCode: resp.StatusCode, Code: oe.Error, Description: oe.Description}
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return nil, &ProviderError{Stage: "token", Reason: ReasonInvalidJSON, StatusCode: resp.StatusCode, Err: errors.New("not a token response")}
	}
	if !strings.EqualFold(tr.TokenType, "bearer") {
		return nil, &ProviderError{Stage: "token", Reason: ReasonTokenType, Err: errors.New("token_type is not Bearer")}
	}
	tr.IssuedAt = issued
	return &tr, nil
}

// endsSession reports whether a refresh failure is definitive: the grant is
// gone (invalid_grant) or Logto's answer cannot belong to this session.
func endsSession(err error) bool {
	var pe *ProviderError
	if !errors.As(err, &pe) {
		return false
	}
	switch {
	case pe.Code == "invalid_grant":
		return true
	case errors.Is(err, jwks.ErrUnknownKey):
		return false // a key rotation not seen yet: the next try refetches the JWKS
	case pe.Stage == "id_token" && (pe.Reason == ReasonExpired || pe.Reason == ReasonIssuedAt):
		return false // a stale result (e.g. reused by a coalescer too long) or a clock problem: retry later
	case pe.Stage == "id_token":
		return true // a refreshed ID token that fails verification or changes identity
	}
	return false
}

// applyRefresh stores a refresh result in sess: the access token under key,
// the rotated refresh token (kept when none came back: Logto rotates a
// confidential client's token only late in its life) and the refreshed ID
// token after verifying it belongs to the same identity.
func (c *Client) applyRefresh(ctx context.Context, p *provider, sess *session, key string, tr *tokenResponse) error {
	if tr.IDToken != "" {
		old := sess.identity()
		// Logto repeats the original nonce in refreshed ID tokens.
		claims, err := c.verifyIDToken(ctx, p, tr.IDToken, idTokenCheck{nonce: old.Nonce})
		if err != nil {
			return err
		}
		if claims.Iss != old.Iss || claims.Sub != old.Sub || strings.Join(claims.Aud, " ") != strings.Join(old.Aud, " ") {
			return &ProviderError{Stage: "id_token", Reason: ReasonIdentityChange, Err: fmt.Errorf("refreshed ID token changed iss, sub or aud")}
		}
		sess.IDToken, sess.claims = tr.IDToken, *claims
	}
	if tr.RefreshToken != "" {
		sess.RefreshToken = tr.RefreshToken
	}
	if sess.AccessTokens == nil {
		sess.AccessTokens = map[string]accessTokenEntry{}
	}
	sess.AccessTokens[key] = accessTokenEntry{Token: tr.AccessToken, Scope: tr.Scope, ExpiresAt: tr.IssuedAt + tr.ExpiresIn}
	return nil
}
