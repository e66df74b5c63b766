package logto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/logto-go/logto/internal/seal"
)

// sessions seals, opens and checks session records above a sessionBackend:
// the one place where a record is opened with the current or a previous
// secret, re-sealed with the current one, and held to its lifetimes.
type sessions struct {
	codec   *seal.Codec
	backend sessionBackend
	now     func() time.Time
	idle    time.Duration
	cache   *sessionCache // cookie sessions only; nil when disabled
}

func newSessions(cfg *settings) (*sessions, error) {
	codec, err := seal.NewBinary(cfg.cookieSecrets, "session|"+cfg.AppID, cfg.SessionMaxAge)
	if err != nil {
		return nil, err
	}
	cookie := sessionCookie(cfg)
	m := &sessions{codec: codec, backend: cookieBackend{cookie: cookie}, now: cfg.Now, idle: cfg.SessionIdleTimeout}
	if cfg.SessionStore != nil {
		// The store stays the source of truth: nothing is cached (the cookie
		// holds the ID itself, so there is no step to skip).
		cookie.MaxChunks = 1 // the ID alone
		m.backend = storeBackend{store: cfg.SessionStore, cookie: cookie, prefix: "logto:session:" + cfg.AppID + ":"}
	} else {
		m.cache = newSessionCache(cfg.SessionCacheBytes)
	}
	return m, nil
}

// loadedSession is a session as sessions.load found it.
type loadedSession struct {
	sess  *session
	ref   sessionRef
	stale bool // write it back: sealed with a previous secret, or activity due
	// shared: sess is in the cache, read-only; copy it before changing it.
	shared bool
	key    string // the sealed bytes it was opened from
}

// load opens the request's session: from the cache when this Client
// verified the exact same bytes before, else by opening them. The error is
// errNoSession, errBadSession (unusable: signed out) or a store failure.
func (m *sessions) load(ctx context.Context, r *http.Request) (loadedSession, error) {
	ref, sealed, err := m.backend.read(ctx, r)
	if err != nil {
		return loadedSession{}, err
	}
	now := m.now()
	if m.cache != nil {
		if e := m.cache.get(sealed, now); e != nil {
			alive, touch := e.sess.alive(now, m.idle)
			if !alive {
				m.cache.remove(sealed)
				return loadedSession{}, errBadSession
			}
			return loadedSession{sess: e.sess, ref: ref, stale: e.stale || touch, shared: true, key: sealed}, nil
		}
	}
	var record []byte
	idx, err := m.codec.OpenIndex(ref.name, sealed, &record)
	if err != nil {
		return loadedSession{}, errBadSession
	}
	sess, err := decodeSession(record)
	if err != nil {
		return loadedSession{}, errBadSession
	}
	alive, touch := sess.alive(now, m.idle)
	if !alive {
		return loadedSession{}, errBadSession
	}
	l := loadedSession{sess: sess, ref: ref, stale: idx > 0 || touch, key: sealed}
	if m.cache != nil {
		m.cache.put(sealed, sess, idx > 0)
		l.shared = true
	}
	return l, nil
}

// seal records now as the session's activity and seals it for ref.
func (m *sessions) seal(sess *session, ref sessionRef) (string, time.Duration, error) {
	now := m.now()
	sess.SeenAt = now.Unix()
	ttl := time.Unix(sess.ExpiresAt, 0).Sub(now)
	record, err := encodeSession(sess)
	if err != nil {
		return "", 0, err
	}
	sealed, err := m.codec.Seal(ref.name, record)
	return sealed, ttl, tooLarge(err)
}

// save writes sess back under ref.
func (m *sessions) save(ctx context.Context, w http.ResponseWriter, r *http.Request, sess *session, ref sessionRef) error {
	sealed, ttl, err := m.seal(sess, ref)
	if err == nil {
		err = m.backend.persist(ctx, ref, sealed, ttl)
	}
	if err == nil {
		err = m.backend.attach(ctx, w, r, ref, sealed)
	}
	return err
}

// sealedSession is a new session, sealed and persisted once, ready to be
// attached to any number of responses (see redeem.go).
type sealedSession struct {
	ref    sessionRef
	sealed string
}

// sealNew seals and persists a new session (a sign-in) under a fresh name:
// never one the request carried.
func (m *sessions) sealNew(ctx context.Context, sess *session) (*sealedSession, error) {
	ref := m.backend.fresh()
	sealed, ttl, err := m.seal(sess, ref)
	if err == nil {
		err = m.backend.persist(ctx, ref, sealed, ttl)
	}
	if err != nil {
		return nil, err
	}
	return &sealedSession{ref: ref, sealed: sealed}, nil
}

// requestSession is one request's session: loaded at most once, changed in
// memory by the operations of the request (GetContext, GetAccessToken, ...),
// and committed once, before the response's headers are written. Middleware
// puts one in the request context (shared by every call of the request and
// committed by its ResponseWriter); without it each Client method uses and
// commits its own.
type requestSession struct {
	c *Client

	mu      sync.Mutex
	loaded  bool
	sess    *session // nil: signed out
	shared  bool     // sess is the cache's: copy before changing it (own)
	key     string   // the sealed bytes sess was opened from
	ref     sessionRef
	loadErr error // the session store could not be read

	pending   pendingWrite
	signIn    *sealedSession // for pendingSignIn
	committed bool           // the headers are out: later changes cannot be sent

	// lc is what Middleware computed for FromContext (or what NewContext
	// was given); nil before.
	lc *Context
}

// pendingWrite is what commit must write.
type pendingWrite uint8

const (
	pendingNone   pendingWrite = iota
	pendingSave                // the loaded session changed (or is stale)
	pendingRemove              // the session is over, or its cookie unusable
	pendingSignIn              // a new session replaces whatever the browser held
)

type requestSessionKey struct{}

// requestSessionOf returns the request's shared session, if Middleware (or
// RequireAuth) installed one, and whether it did.
func requestSessionOf(r *http.Request) (*requestSession, bool) {
	rs, ok := r.Context().Value(requestSessionKey{}).(*requestSession)
	return rs, ok && rs.c != nil
}

// session returns the request's session for c: the shared one, or a new
// one the caller commits (shared reports which).
func (c *Client) session(r *http.Request) (rs *requestSession, shared bool) {
	if rs, ok := requestSessionOf(r); ok && rs.c == c {
		return rs, true
	}
	return &requestSession{c: c}, false
}

// load opens the session once; rs.mu is held.
func (rs *requestSession) load(r *http.Request) {
	if rs.loaded {
		return
	}
	rs.loaded = true
	c := rs.c
	l, err := c.sessions.load(r.Context(), r)
	if err == nil && c.sessionRevoked(r.Context(), l.sess) {
		err = errBadSession // ended by a back-channel logout
		c.sessions.cache.remove(l.key)
	}
	switch {
	case err == nil:
		rs.sess, rs.ref, rs.shared, rs.key = l.sess, l.ref, l.shared, l.key
		if l.stale {
			rs.pending = pendingSave
		}
	case errors.Is(err, errBadSession):
		c.cfg.Logger.Debug("logto: discarding unusable session cookie")
		rs.pending = pendingRemove
	case !errors.Is(err, errNoSession):
		c.cfg.Logger.Error("logto: session store unavailable", "err", sanitize(err.Error(), 300))
		rs.loadErr = fmt.Errorf("%w: %v", ErrSessionStoreUnavailable, sanitize(err.Error(), 200))
	}
}

// own makes rs.sess the request's own copy before it changes; rs.mu is held.
// The copy shares the cached session's claims and byte slices, which no
// code changes in place.
func (rs *requestSession) own() {
	if rs.shared && rs.sess != nil {
		cp := *rs.sess
		rs.sess, rs.shared = &cp, false
	}
}

// changed marks the loaded session for saving; rs.mu is held.
func (rs *requestSession) changed() {
	if rs.sess != nil && rs.pending == pendingNone {
		rs.pending = pendingSave
	}
}

// end signs the request out; rs.mu is held.
func (rs *requestSession) end() {
	rs.sess, rs.pending, rs.signIn = nil, pendingRemove, nil
}

// commit writes what changed to w, once: nothing when nothing changed. It
// runs before the response's headers are written (by Middleware's writer,
// or by the Client method itself), so no Set-Cookie line is ever taken
// back. rs.mu is held.
func (rs *requestSession) commit(w http.ResponseWriter, r *http.Request) error {
	if rs.pending == pendingNone || w == nil {
		return nil
	}
	if rs.committed {
		rs.c.cfg.Logger.Warn("logto: the session changed after the response's headers were written; the change is lost (call GetAccessToken and the like before writing the response)")
		rs.pending = pendingNone
		return nil
	}
	c, ctx := rs.c, r.Context()
	pending := rs.pending
	rs.pending = pendingNone
	// The bytes the request carried no longer describe the session.
	c.sessions.cache.remove(rs.key)
	switch pending {
	case pendingRemove:
		c.sessions.backend.remove(context.WithoutCancel(ctx), w, r, rs.ref)
	case pendingSignIn:
		return c.sessions.backend.attach(context.WithoutCancel(ctx), w, r, rs.signIn.ref, rs.signIn.sealed)
	case pendingSave:
		rs.own()
		err := c.sessions.save(ctx, w, r, rs.sess, rs.ref)
		if errors.Is(err, ErrSessionTooLarge) && rs.sess.dropCachedTokens() {
			// The cached access tokens can be fetched again; a rotated
			// refresh token cannot: keep the session, lose the cache.
			c.cfg.Logger.Warn("logto: session too large for cookies; dropping cached access tokens")
			err = c.sessions.save(ctx, w, r, rs.sess, rs.ref)
		}
		if err != nil {
			c.cfg.Logger.Warn("logto: could not write the session", "err", sanitize(err.Error(), 200))
		}
		return err
	}
	return nil
}

// beforeHeaders commits once, just before the response's headers are
// written, and records that they are.
func (rs *requestSession) beforeHeaders(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if !rs.committed {
		_ = rs.commit(w, r) // logged by commit
		rs.committed = true
	}
}

// withSession runs op on the request's session, loaded, under its lock. A
// session of its own (no Middleware) is committed to w when op returns; a
// shared one is committed by Middleware's writer, or at once when the
// response is already under way.
func (c *Client) withSession(w http.ResponseWriter, r *http.Request, op func(rs *requestSession) error) error {
	if rs, ok := requestSessionOf(r); ok && rs.c == c {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.load(r)
		err := op(rs)
		if rs.committed { // too late for the writer: say so now
			_ = rs.commit(w, r)
		}
		return err
	}
	local := requestSession{c: c} // stays on the stack: GetContext runs on every request
	local.load(r)
	err := op(&local)
	if cerr := local.commit(w, r); cerr != nil && err == nil {
		err = cerr
	}
	return err
}
