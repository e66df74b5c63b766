package logtotest

import (
	"crypto/rand"
	"net/url"
	"slices"
	"time"
)

// Lifetimes, as in Logto 1.42 (logto-server.md 1.7).
const (
	codeTTL          = 60 * time.Second
	accessTokenTTL   = 3600 * time.Second
	idTokenTTL       = 3600 * time.Second
	refreshTokenTTL  = 14 * 24 * time.Hour
	sessionTTL       = 14 * 24 * time.Hour
	interactionTTL   = time.Hour
	grantTTL         = 180 * 24 * time.Hour
	refreshReuseWait = 3 * time.Second
	gcInterval       = time.Minute
	gcEveryOps       = 1000
	// maxEntries caps each kind of state so hostile traffic cannot grow
	// memory without bound; past it, arbitrary entries are evicted.
	maxEntries = 50000
)

// grant is what a user allowed a client at one authorization.
type grant struct {
	id, clientID, userID, sessionID string
	scopes                          []string            // granted OIDC scopes, request order
	resources                       map[string][]string // indicator -> granted scopes
	nonce                           string
	authTime                        time.Time
	withAuthTime                    bool // max_age or prompt=login was sent
	expiresAt                       time.Time
}

func (g *grant) offline() bool { return contains(g.scopes, "offline_access") }

// allScopes is every scope of the grant: OIDC scopes then resource scopes.
func (g *grant) allScopes() []string {
	out := slices.Clone(g.scopes)
	for _, ind := range sortedKeys(g.resources) {
		for _, s := range g.resources[ind] {
			if !contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// authRequest is a validated authorization request waiting at
// /oidc/auth/<uid>.
type authRequest struct {
	clientID, redirectURI, responseMode string
	state, nonce, challenge             string
	scopes                              []string // granted OIDC scopes
	requested                           []string // the scope parameter, deduplicated
	indicators                          []string // validated resource indicators
	userID, sessionID                   string
	withAuthTime                        bool
	expiresAt                           time.Time
	extra                               url.Values // Logto's custom parameters (first_screen, login_hint, ...)
	prompts                             []string
}

type authCode struct {
	grantID, clientID, redirectURI, challenge string
	expiresAt                                 time.Time
	consumed                                  bool
}

type accessToken struct {
	grantID, clientID, userID string
	scopes                    []string
	expiresAt                 time.Time
}

type refreshToken struct {
	grantID, clientID string
	issuedAt          time.Time
	expiresAt         time.Time
	consumedAt        time.Time // zero until rotated
	rotations         int       // how many rotations led to this token
}

// session is a provider (browser) session, the _session cookie.
type session struct {
	id, userID string
	authTime   time.Time
	expiresAt  time.Time
	grantIDs   []string
	logout     *pendingLogout
}

type pendingLogout struct {
	xsrf, clientID, redirectURI, state string
}

// store holds all protocol state; guarded by Provider.mu.
type store struct {
	interactions  map[string]*authRequest
	codes         map[string]*authCode
	grants        map[string]*grant
	accessTokens  map[string]*accessToken
	refreshTokens map[string]*refreshToken
	sessions      map[string]*session
	lastGC        time.Time
	opsSinceGC    int
}

func newStore() store {
	return store{
		interactions:  map[string]*authRequest{},
		codes:         map[string]*authCode{},
		grants:        map[string]*grant{},
		accessTokens:  map[string]*accessToken{},
		refreshTokens: map[string]*refreshToken{},
		sessions:      map[string]*session{},
	}
}

// randomToken returns 43 characters of base64url from 32 random bytes, the
// shape of Logto's opaque tokens, codes and ids.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}

// maybeGCLocked sweeps expired state at most once a minute of provider
// time, or every gcEveryOps calls when the clock stands still.
func (s *store) maybeGCLocked(now time.Time) {
	s.opsSinceGC++
	if s.opsSinceGC < gcEveryOps && now.Sub(s.lastGC) < gcInterval && !now.Before(s.lastGC) {
		return
	}
	s.opsSinceGC, s.lastGC = 0, now
	for k, v := range s.interactions {
		if now.After(v.expiresAt) {
			delete(s.interactions, k)
		}
	}
	for k, v := range s.codes {
		if now.After(v.expiresAt) {
			delete(s.codes, k)
		}
	}
	for k, v := range s.accessTokens {
		if now.After(v.expiresAt) || s.grants[v.grantID] == nil {
			delete(s.accessTokens, k)
		}
	}
	for k, v := range s.refreshTokens {
		if now.After(v.expiresAt) || s.grants[v.grantID] == nil {
			delete(s.refreshTokens, k)
		}
	}
	for k, v := range s.sessions {
		if now.After(v.expiresAt) {
			delete(s.sessions, k)
		}
	}
	capEntries(s.interactions)
	capEntries(s.codes)
	capEntries(s.accessTokens)
	capEntries(s.refreshTokens)
	capEntries(s.sessions)
	live := map[string]bool{}
	for _, v := range s.codes {
		live[v.grantID] = true
	}
	for _, v := range s.accessTokens {
		live[v.grantID] = true
	}
	for _, v := range s.refreshTokens {
		live[v.grantID] = true
	}
	for k, g := range s.grants {
		if !live[k] || now.After(g.expiresAt) {
			delete(s.grants, k)
		}
	}
}

// capEntries deletes arbitrary entries (map order is random) until m holds
// at most 90 % of maxEntries.
func capEntries[V any](m map[string]V) {
	if len(m) <= maxEntries {
		return
	}
	for k := range m {
		if len(m) <= maxEntries*9/10 {
			return
		}
		delete(m, k)
	}
}

// revokeGrantLocked deletes a grant and every token issued from it.
func (s *store) revokeGrantLocked(id string) {
	delete(s.grants, id)
	for k, v := range s.codes {
		if v.grantID == id {
			delete(s.codes, k)
		}
	}
	for k, v := range s.accessTokens {
		if v.grantID == id {
			delete(s.accessTokens, k)
		}
	}
	for k, v := range s.refreshTokens {
		if v.grantID == id {
			delete(s.refreshTokens, k)
		}
	}
}

// liveGrantLocked returns the grant id if it exists and has not expired.
func (s *store) liveGrantLocked(id string, now time.Time) *grant {
	g := s.grants[id]
	if g == nil || now.After(g.expiresAt) {
		return nil
	}
	return g
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// intersect keeps the elements of a that are in b, in a's order.
func intersect(a, b []string) []string {
	out := []string{}
	for _, s := range a {
		if contains(b, s) && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
