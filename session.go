package logto

import (
	"errors"
	"log/slog"
	"strings"
	"time"
)

// session is the record a signed-in browser carries, sealed: pure data, no
// I/O and no cookie knowledge. The access-token map is keyed like
// @logto/next: "@" (the OIDC token), "@<resource>", "@#<org>",
// "@<resource>#<org>". Where it is kept (cookies or a Store) and how it is
// sealed is sessions.go's business.
type session struct {
	IDToken      string
	RefreshToken string
	AccessTokens map[string]accessTokenEntry
	CreatedAt    int64 // unix milliseconds
	ExpiresAt    int64 // unix seconds, by Config.Now: the absolute lifetime
	SeenAt       int64 // unix seconds of the last recorded activity: the idle lifetime

	// Read from a record (see sessioncodec.go): the ID token's claims are
	// parsed on load, the tokens only when expand is called.
	claims       IDTokenClaims
	defaultScope string
	scopeList    []string // defaultScope split once on load (read-only)
	idPayload    []byte
	rest         []byte
	expanded     bool
}

// idleRefreshDivisor: activity is recorded (the session rewritten) at most
// once per idle timeout / 168, e.g. once an hour for 7 days, every 10 s for
// 30 minutes.
const idleRefreshDivisor = 168

// alive applies the lifetimes at now from the sealed timestamps (a cookie's
// Max-Age is only a hint to the browser): the absolute one, and the idle one
// when idle > 0. touch reports that activity should be recorded: the
// session is alive and its last recorded activity is getting old.
func (s *session) alive(now time.Time, idle time.Duration) (alive, touch bool) {
	t := now.Unix()
	if t >= s.ExpiresAt {
		return false, false
	}
	if limit := int64(idle / time.Second); limit > 0 {
		if t-s.SeenAt > limit {
			return false, false
		}
		return true, t-s.SeenAt > limit/idleRefreshDivisor
	}
	return true, false
}

// identity returns the ID token's claims of a session built in code or loaded.
func (s *session) identity() IDTokenClaims {
	if s.claims.Sub == "" && s.IDToken != "" {
		if _, _, payload, _ := splitJWT(s.IDToken); payload != nil {
			s.claims, _ = parseIDTokenClaims(payload)
		} else {
			_ = decodeJWTClaims(s.IDToken, &s.claims)
		}
	}
	return s.claims
}

// scopes returns the scopes of the "@" access token.
func (s *session) scopes() []string {
	if e, ok := s.AccessTokens[accessTokenKey("", "")]; ok {
		if e.Scope == "" {
			return nil
		}
		return strings.Fields(e.Scope)
	}
	return s.scopeList
}

// scopeOfDefaultToken is the scope of the "@" access token.
func (s *session) scopeOfDefaultToken() string {
	if e, ok := s.AccessTokens[accessTokenKey("", "")]; ok {
		return e.Scope
	}
	return s.defaultScope
}

// dropCachedTokens forgets the access tokens other than the default one:
// they can be fetched again, while a rotated refresh token cannot.
func (s *session) dropCachedTokens() bool {
	if len(s.AccessTokens) <= 1 {
		return false
	}
	def, ok := s.AccessTokens[accessTokenKey("", "")]
	clear(s.AccessTokens)
	if ok {
		s.AccessTokens[accessTokenKey("", "")] = def
	}
	return true
}

// accessTokenEntry mirrors @logto/next's {token, scope, expiresAt}.
type accessTokenEntry struct {
	Token     string `json:"token"`
	Scope     string `json:"scope"`
	ExpiresAt int64  `json:"expiresAt"` // unix seconds
}

// accessTokenKey builds the @logto/next cache key for a resource and organization.
func accessTokenKey(resource, organizationID string) string {
	k := "@" + resource
	if organizationID != "" {
		k += "#" + organizationID
	}
	return k
}

// LogValue keeps tokens out of logs.
func (s *session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("created_at", s.CreatedAt),
		slog.Int("access_tokens", len(s.AccessTokens)),
		slog.Bool("refresh_token", s.RefreshToken != ""),
	)
}

// errNoSession: the request carries no session. errBadSession: it carries one
// that cannot be used (tampered, truncated, expired, foreign): signed out.
var (
	errNoSession  = errors.New("logto: no session")
	errBadSession = errors.New("logto: unusable session")
)
