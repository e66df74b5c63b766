package logto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/logto-go/logto/internal/oauth"
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
// success is reused for 10 seconds, measured by the clock of [WithClock].
func NewLocalRefreshCoalescer(opts ...StateOption) RefreshCoalescer {
	return &localCoalescer{now: stateClock(opts), recent: map[string]recentResult{}}
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

// tokenResponse is a token endpoint answer (RFC 6749 5.1), as sealed for a
// RefreshCoalescer.
type tokenResponse = oauth.TokenResponse

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

// refreshGrant posts grant_type=refresh_token (RFC 6749 section 6), plus
// resource (RFC 8707) and Logto's organization_id.
func (c *Client) refreshGrant(ctx context.Context, p *provider, refreshToken, resource, organizationID string) (*tokenResponse, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if resource != "" {
		form.Set("resource", resource)
	}
	if organizationID != "" {
		form.Set("organization_id", organizationID)
	}
	tr, err := c.oauth.Token(ctx, p.tokenEndpoint, form)
	if err != nil {
		return nil, endpointError(err)
	}
	return tr, nil
}

// endsSession reports whether a refresh failure is definitive: the grant is
// gone (invalid_grant), or the response cannot belong to this session: a
// refreshed ID token that fails verification or OpenID Connect Core 12.2
// (signature, even after refetching the keys; iss, sub, aud, azp,
// auth_time, nonce, exp, iat; at_hash). A failure to reach Logto or its keys
// keeps the session.
func endsSession(err error) bool {
	var pe *ProviderError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "invalid_grant" || pe.Stage == "id_token"
}

// applyRefresh stores a refresh result in sess: the access token under key,
// the rotated refresh token (kept when none came back: Logto rotates a
// confidential client's token only late in its life) and the refreshed ID
// token, verified to continue the same authentication. On error nothing of
// the response is stored.
func (c *Client) applyRefresh(ctx context.Context, p *provider, sess *session, key string, tr *tokenResponse) error {
	return applyRefresh(ctx, p, c.cfg.AppID, sess, key, tr)
}

// applyRefresh is [Client.applyRefresh] for the app appID: web and device
// sessions take a refresh result the same way.
func applyRefresh(ctx context.Context, p *provider, appID string, sess *session, key string, tr *tokenResponse) error {
	if tr.IDToken != "" {
		old := sess.identity()
		// Logto repeats the original nonce in refreshed ID tokens; a nonce,
		// when present, must be that one (checked with the other 12.2 rules).
		claims, err := verifyIDToken(ctx, p, appID, tr.IDToken, idTokenCheck{accessToken: tr.AccessToken, previous: &old})
		if err != nil {
			return err
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
