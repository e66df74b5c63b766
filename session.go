package logto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/logto-go/logto/internal/seal"
)

// session is what a signed-in browser carries, sealed. The access-token map is
// keyed like @logto/next: "@" (the OIDC token), "@<resource>", "@#<org>",
// "@<resource>#<org>".
type session struct {
	Version      int                         `json:"v"`
	IDToken      string                      `json:"idToken"`
	RefreshToken string                      `json:"refreshToken,omitempty"`
	AccessTokens map[string]accessTokenEntry `json:"accessTokens,omitempty"`
	CreatedAt    int64                       `json:"createdAt"` // unix milliseconds
	ExpiresAt    int64                       `json:"expiresAt"` // unix seconds, by Config.Now: the absolute lifetime
	SeenAt       int64                       `json:"seenAt"`    // unix seconds of the last recorded activity: the idle lifetime

	storeID string // server-side sessions: the ID the cookie points to

	// Read from a record (see sessioncodec.go): the ID token's claims are
	// parsed on load; the tokens only when expand is called.
	stale        bool // sealed with an older secret, or activity to record: write it again
	scopeBuf     [12]string
	scopes       []string // scopeBuf[:n] once filled
	scopesFor    string
	claims       IDTokenClaims
	defaultScope string
	idPayload    []byte
	rest         []byte
	expanded     bool
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

// splitScopes splits a space-separated scope list, backed by the session's
// own array the first time (no allocation on the per-request path). The
// array is never rewritten once handed out: a Context keeps what it got.
func (s *session) splitScopes(scope string) []string {
	if s.scopes != nil {
		if s.scopesFor == scope {
			return s.scopes
		}
		return strings.Fields(scope)
	}
	n := 0
	for f := range strings.FieldsSeq(scope) {
		if n == len(s.scopeBuf) {
			return strings.Fields(scope)
		}
		s.scopeBuf[n] = f
		n++
	}
	s.scopes, s.scopesFor = s.scopeBuf[:n:n], scope
	return s.scopes
}

// scopeOfDefaultToken is the scope of the "@" access token.
func (s *session) scopeOfDefaultToken() string {
	if e, ok := s.AccessTokens[accessTokenKey("", "")]; ok {
		return e.Scope
	}
	return s.defaultScope
}

const sessionVersion = 1

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

// sessionStore persists sessions per browser. The cookie store seals the whole
// session into chunked cookies; a server-side store can implement the same
// interface and keep only an ID in the cookie.
type sessionStore interface {
	// Load returns the session, errNoSession, or errBadSession.
	Load(r *http.Request) (*session, error)
	// Save writes s for the browser; it replaces any earlier session.
	Save(w http.ResponseWriter, r *http.Request, s *session) error
	// Delete forgets the browser's session and clears its cookies.
	Delete(w http.ResponseWriter, r *http.Request)
	// sealNew seals a new session (a sign-in) once, and writeNew writes it
	// as a browser's session, replacing any earlier one: the callbacks that
	// share one code exchange all get the same cookies (see redeem.go).
	sealNew(ctx context.Context, s *session) (*sealedSession, error)
	writeNew(w http.ResponseWriter, r *http.Request, s *sealedSession) error
}

// sealedSession is a new session ready to be written to any number of
// responses.
type sealedSession struct {
	value string // the session cookie's value, before chunking
	id    string // server-side sessions: the ID the cookie points to
}

var _ sessionStore = (*cookieStore)(nil)

// maxSessionChunks bounds the number of session cookies (about 47 KB).
const maxSessionChunks = 12

// cookieStore is the default sessionStore: the sealed session lives in
// cookies named logto_<AppID> (or logto_<AppID>.0, .1, ... when it needs
// more than one cookie).
type cookieStore struct {
	codec  *seal.Codec
	cookie seal.Chunked
	now    func() time.Time
	idle   time.Duration
}

func newCookieStore(cfg *settings) (*cookieStore, error) {
	name := cfg.cookieName("logto_" + cfg.AppID)
	codec, err := seal.NewBinary(cfg.cookieSecrets, "session|"+cfg.AppID, cfg.SessionMaxAge)
	if err != nil {
		return nil, err
	}
	return &cookieStore{
		codec: codec,
		cookie: seal.Chunked{
			Base: http.Cookie{
				Name: name, Path: "/", HttpOnly: true, Secure: cfg.secure,
				SameSite: http.SameSiteLaxMode, MaxAge: int(cfg.SessionMaxAge / time.Second),
			},
			MaxChunks: maxSessionChunks,
		},
		now:  cfg.Now,
		idle: cfg.SessionIdleTimeout,
	}, nil
}

func (s *cookieStore) Load(r *http.Request) (*session, error) {
	raw := s.cookie.Read(r)
	if raw == "" {
		if s.cookie.Present(r) {
			return nil, errBadSession // chunks without a head, or empty values
		}
		return nil, errNoSession
	}
	var record []byte
	idx, err := s.codec.OpenIndex(s.cookie.Base.Name, raw, &record)
	if err != nil {
		return nil, errBadSession
	}
	sess, err := decodeSession(record)
	if err != nil || !s.alive(sess) {
		return nil, errBadSession
	}
	sess.stale = idx > 0 // re-seal with the current secret
	return sess, nil
}

// alive checks the absolute and idle lifetimes from the sealed timestamps
// (the cookie's Max-Age is only a hint to the browser), and marks the
// session for a write when its recorded activity is getting old.
func (s *cookieStore) alive(sess *session) bool {
	now := s.now().Unix()
	if now >= sess.ExpiresAt {
		return false
	}
	if idle := int64(s.idle / time.Second); idle > 0 {
		if now-sess.SeenAt > idle {
			return false
		}
		if now-sess.SeenAt > idle/idleRefreshDivisor {
			sess.stale = true
		}
	}
	return true
}

// idleRefreshDivisor: activity is recorded (the cookie rewritten) at most
// once per idle timeout / 168, e.g. once an hour for 7 days.
const idleRefreshDivisor = 168

func (s *cookieStore) Save(w http.ResponseWriter, r *http.Request, sess *session) error {
	raw, err := s.seal(sess)
	if err == nil {
		err = s.cookie.Write(w, r, raw)
	}
	return tooLarge(err)
}

func (s *cookieStore) seal(sess *session) (string, error) {
	sess.Version = sessionVersion
	sess.SeenAt = s.now().Unix()
	record, err := encodeSession(sess)
	if err != nil {
		return "", err
	}
	return s.codec.Seal(s.cookie.Base.Name, record)
}

func (s *cookieStore) sealNew(_ context.Context, sess *session) (*sealedSession, error) {
	raw, err := s.seal(sess)
	if err == nil {
		err = s.cookie.Check(raw) // fail here, once, rather than in every writeNew
	}
	if err != nil {
		return nil, tooLarge(err)
	}
	return &sealedSession{value: raw}, nil
}

func (s *cookieStore) writeNew(w http.ResponseWriter, r *http.Request, sealed *sealedSession) error {
	return tooLarge(s.cookie.Write(w, r, sealed.value))
}

// tooLarge reports seal.ErrTooLarge as ErrSessionTooLarge.
func tooLarge(err error) error {
	if errors.Is(err, seal.ErrTooLarge) {
		return ErrSessionTooLarge
	}
	return err
}

func (s *cookieStore) Delete(w http.ResponseWriter, r *http.Request) {
	s.cookie.Clear(w, r)
}

// loadSession loads the request's session; an unusable one is cleared (when
// w is not nil) and reported as no session. The error is set only when a
// session store cannot be read (ErrSessionStoreUnavailable).
func (c *Client) loadSession(w http.ResponseWriter, r *http.Request) (*session, bool, error) {
	sess, err := c.store.Load(r)
	if err == nil && c.sessionRevoked(r.Context(), sess) {
		sess, err = nil, errBadSession // ended by a back-channel logout
	}
	switch {
	case err == nil:
		if sess.stale && w != nil {
			if serr := c.store.Save(w, r, sess); serr != nil {
				c.cfg.Logger.Warn("logto: could not rewrite the session", "err", sanitize(serr.Error(), 200))
			}
			sess.stale = false
		}
		return sess, true, nil
	case errors.Is(err, errBadSession):
		c.cfg.Logger.Debug("logto: discarding unusable session cookie")
		if w != nil {
			c.store.Delete(w, r)
		}
	case !errors.Is(err, errNoSession):
		c.cfg.Logger.Error("logto: session store unavailable", "err", sanitize(err.Error(), 300))
		return nil, false, fmt.Errorf("%w: %v", ErrSessionStoreUnavailable, sanitize(err.Error(), 200))
	}
	return nil, false, nil
}
