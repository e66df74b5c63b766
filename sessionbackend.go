package logto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/logto-go/logto/internal/seal"
)

// sessionBackend keeps each browser's sealed session record: bytes only.
// Sealing, opening with the current or a previous secret, re-sealing and the
// lifetimes live once, above both backends, in sessions.go.
type sessionBackend interface {
	// read finds the request's sealed record: errNoSession, errBadSession,
	// or a failure of the store.
	read(ctx context.Context, r *http.Request) (sessionRef, string, error)
	// fresh names a new session: never one the request carried.
	fresh() sessionRef
	// persist keeps sealed for ref until expires; attach makes ref the
	// browser's session. A new session is persisted once and may be
	// attached to several responses (see redeem.go).
	persist(ctx context.Context, ref sessionRef, sealed string, ttl time.Duration) error
	attach(ctx context.Context, w http.ResponseWriter, r *http.Request, ref sessionRef, sealed string) error
	// remove forgets ref's record and clears the browser's cookies.
	remove(ctx context.Context, w http.ResponseWriter, r *http.Request, ref sessionRef)
}

// sessionRef names a session record: the store key of its ID (a store
// backend) and what its seal is bound to.
type sessionRef struct {
	id   string // store backend: the random session ID the cookie holds
	name string // the seal's name: the cookie name, or the store key
}

// maxSessionChunks bounds the number of session cookies (about 47 KB).
const maxSessionChunks = 12

// sessionCookie is the cookie family of the app's session: logto_<AppID>,
// or logto_<AppID>.0, .1, ... when it needs more than one cookie.
func sessionCookie(cfg *settings) seal.Chunked {
	return seal.Chunked{
		Base: http.Cookie{
			Name: cfg.cookieName("logto_" + cfg.AppID), Path: "/", HttpOnly: true, Secure: cfg.secure,
			SameSite: http.SameSiteLaxMode, MaxAge: int(cfg.SessionMaxAge / time.Second),
		},
		MaxChunks: maxSessionChunks,
	}
}

// cookieBackend keeps the whole sealed record in the session cookies.
type cookieBackend struct {
	cookie seal.Chunked
}

var _ sessionBackend = cookieBackend{}

func (b cookieBackend) read(_ context.Context, r *http.Request) (sessionRef, string, error) {
	raw := b.cookie.Read(r)
	if raw == "" {
		if b.cookie.Present(r) {
			return sessionRef{}, "", errBadSession // chunks without a head, empty or oversized values
		}
		return sessionRef{}, "", errNoSession
	}
	return b.fresh(), raw, nil
}

func (b cookieBackend) fresh() sessionRef { return sessionRef{name: b.cookie.Base.Name} }

func (b cookieBackend) persist(_ context.Context, _ sessionRef, sealed string, _ time.Duration) error {
	return tooLarge(b.cookie.Check(sealed)) // fail once, before any response is written
}

func (b cookieBackend) attach(_ context.Context, w http.ResponseWriter, r *http.Request, _ sessionRef, sealed string) error {
	return tooLarge(b.cookie.Write(w, r, sealed))
}

func (b cookieBackend) remove(_ context.Context, w http.ResponseWriter, r *http.Request, _ sessionRef) {
	b.cookie.Clear(w, r)
}

// storeBackend keeps the sealed record in a Store under a hash of a random
// session ID, and only that ID in the cookie: a 256-bit bearer value, like
// the record's cookie it replaces. The record's seal is bound to its store
// key, so records cannot be moved between IDs, and the store never learns a
// cookie's ID.
type storeBackend struct {
	store  Store
	cookie seal.Chunked
	prefix string // logto:session:<AppID>:
}

var _ sessionBackend = storeBackend{}

func (b storeBackend) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return b.prefix + hex.EncodeToString(sum[:])
}

func (b storeBackend) read(ctx context.Context, r *http.Request) (sessionRef, string, error) {
	id := b.cookie.Read(r)
	if id == "" {
		if b.cookie.Present(r) {
			return sessionRef{}, "", errBadSession
		}
		return sessionRef{}, "", errNoSession
	}
	if !isRandomToken(id) {
		return sessionRef{}, "", errBadSession
	}
	ref := sessionRef{id: id, name: b.key(id)}
	v, err := b.store.Get(ctx, ref.name)
	if errors.Is(err, ErrStoreNotFound) {
		return sessionRef{}, "", errBadSession
	}
	if err != nil {
		return sessionRef{}, "", err
	}
	return ref, string(v), nil
}

func (b storeBackend) fresh() sessionRef {
	id := randomToken()
	return sessionRef{id: id, name: b.key(id)}
}

func (b storeBackend) persist(ctx context.Context, ref sessionRef, sealed string, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("logto: session already expired")
	}
	return b.store.Set(ctx, ref.name, []byte(sealed), ttl)
}

// attach points the browser at ref. A sign-in replaces a session the
// browser held: its record is deleted (best effort: it expires anyway).
func (b storeBackend) attach(ctx context.Context, w http.ResponseWriter, r *http.Request, ref sessionRef, _ string) error {
	old := b.cookie.Read(r)
	if old == ref.id {
		return nil // the browser holds it already
	}
	if isRandomToken(old) {
		_ = b.store.Delete(ctx, b.key(old))
	}
	return b.cookie.Write(w, r, ref.id)
}

func (b storeBackend) remove(ctx context.Context, w http.ResponseWriter, r *http.Request, ref sessionRef) {
	if ref.id != "" {
		_ = b.store.Delete(ctx, ref.name) // best effort: the record expires anyway
	}
	b.cookie.Clear(w, r)
}

// isRandomToken reports whether s has the shape of randomToken's output.
func isRandomToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// tooLarge reports seal.ErrTooLarge as ErrSessionTooLarge.
func tooLarge(err error) error {
	if errors.Is(err, seal.ErrTooLarge) {
		return ErrSessionTooLarge
	}
	return err
}
