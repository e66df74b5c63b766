package logto

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/logto-go/logto/internal/seal"
)

// transaction is one sign-in in flight: it lives in its own sealed cookie,
// named after a hash of its state, so several tabs can sign in at once.
type transaction struct {
	State       string `json:"state"`
	Nonce       string `json:"nonce"`
	Verifier    string `json:"codeVerifier"`
	RedirectURI string `json:"redirectUri"`
	ReturnTo    string `json:"returnTo,omitempty"`
	CreatedAt   int64  `json:"createdAt"` // unix seconds
	Browser     string `json:"browser"`   // browserHash of the binding cookie of the browser that started it
}

// transactionTTL is how long a sign-in may take, from the redirect to Logto
// to the callback.
const transactionTTL = 10 * time.Minute

// transactions stores sign-in transactions in cookies.
type transactions struct {
	codec   *seal.Codec
	prefix  string // logto_<AppID>_tx_, __Host- first with Secure cookies
	browser string // logto_<AppID>_browser, the binding cookie, same rule
	secure  bool
	max     int
	maxAge  int // the binding cookie's, in seconds
	now     func() time.Time
	log     *slog.Logger
}

func newTransactions(cfg *settings) (*transactions, error) {
	codec, err := seal.New(cfg.cookieSecrets, "transaction|"+cfg.AppID, transactionTTL)
	if err != nil {
		return nil, err
	}
	return &transactions{
		codec:   codec,
		prefix:  cfg.cookieName("logto_" + cfg.AppID + "_tx_"),
		browser: cfg.cookieName("logto_" + cfg.AppID + "_browser"),
		secure:  cfg.secure,
		max:     cfg.MaxPendingSignIns,
		maxAge:  int(max(cfg.SessionMaxAge, transactionTTL) / time.Second),
		now:     cfg.Now,
		log:     cfg.Logger,
	}, nil
}

// A transaction is bound to the browser that started it. Otherwise its
// cookie is a bearer ticket: an attacker stops their own sign-in at the
// callback URL, plants their transaction cookie in the victim's browser
// (sibling subdomain, plain http) and sends the victim to that URL, which
// signs the victim in as the attacker (login CSRF). __Host- names stop the
// planting when cookies are Secure; the binding makes a planted transaction
// cookie useless by itself. Each browser holds one random binding cookie,
// shared by its tabs; a transaction seals a hash of it, and take refuses a
// mismatch before any provider call or shared code exchange (redeem.go).
// This package sets one binding cookie per browser, so a request carrying
// several (one planted with a longer Path comes first) is refused too.

// browserOf returns the request's binding cookie value, or "" when there is
// no single well-formed one.
func (t *transactions) browserOf(r *http.Request) string {
	cks := r.CookiesNamed(t.browser)
	if len(cks) != 1 {
		if len(cks) > 1 {
			t.log.Warn("logto: several browser binding cookies in one request, so one was planted; its sign-ins will fail",
				"cookie", t.browser, "count", len(cks))
		}
		return ""
	}
	if b, err := base64.RawURLEncoding.DecodeString(cks[0].Value); err != nil || len(b) != 32 {
		return ""
	}
	return cks[0].Value
}

// browserHash is what a transaction stores of its browser's binding: a
// stolen transaction cookie, once opened, would not reveal the binding.
func browserHash(binding string) string {
	sum := sha256.Sum256([]byte("logto browser binding\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// cookieName derives the cookie name from the state: a lookup by state is a
// lookup by name, and the state itself never appears in a cookie name.
func (t *transactions) cookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return t.prefix + base64.RawURLEncoding.EncodeToString(sum[:12])
}

func (t *transactions) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: t.secure, SameSite: http.SameSiteLaxMode}
}

// errTransactionTooLarge: the sealed transaction would make a Set-Cookie
// line longer than browsers store (RFC 6265 section 6.1), so the callback
// could never find it.
var errTransactionTooLarge = errors.New("logto: transaction cookie exceeds 4096 bytes")

// scanLimit bounds how many transaction cookies one request may make this
// package open (and expire): a browser holds at most MaxPendingSignIns live
// ones, so anything far beyond is a crafted request, ignored.
func (t *transactions) scanLimit() int { return 2*t.max + 16 }

// save binds tx to this browser (its binding cookie, created when the
// request has none), writes tx as a new cookie and drops the oldest pending
// transactions beyond the cap (and any unreadable ones). It fails with
// errTransactionTooLarge, having written nothing, when the cookie would not
// fit in a browser.
func (t *transactions) save(w http.ResponseWriter, r *http.Request, tx *transaction) error {
	binding := t.browserOf(r)
	if binding == "" {
		binding = randomToken()
	}
	tx.Browser = browserHash(binding)
	name := t.cookieName(tx.State)
	value, err := t.codec.Seal(name, tx)
	if err != nil {
		return err
	}
	ck := t.cookie(name, value, int(transactionTTL/time.Second))
	if len(ck.String()) > seal.MaxSetCookieBytes {
		return errTransactionTooLarge
	}
	// Written again on every sign-in, same value: other tabs' transactions
	// stay valid, and it cannot expire while this one is pending.
	http.SetCookie(w, t.cookie(t.browser, binding, t.maxAge))
	type pending struct {
		name    string
		created int64
	}
	var live []pending
	scanned := 0
	for _, old := range r.Cookies() {
		if !strings.HasPrefix(old.Name, t.prefix) {
			continue
		}
		if scanned++; scanned > t.scanLimit() {
			break
		}
		var otx transaction
		if len(old.Value) > seal.MaxSetCookieBytes || t.codec.Open(old.Name, old.Value, &otx) != nil || t.expired(&otx) {
			http.SetCookie(w, t.cookie(old.Name, "", -1))
			continue
		}
		live = append(live, pending{old.Name, otx.CreatedAt})
	}
	slices.SortFunc(live, func(a, b pending) int { return int(a.created - b.created) })
	for len(live) >= t.max {
		http.SetCookie(w, t.cookie(live[0].name, "", -1))
		live = live[1:]
	}
	http.SetCookie(w, ck)
	return nil
}

// take finds the transaction for state, started in this browser, and
// deletes its cookie whatever the outcome. It fails with ReasonStateMismatch
// when there is no live transaction for state, and ReasonBrowserMismatch
// when there is one but the request's binding cookie is not the one it was
// started with. A value longer than a browser stores is not opened.
func (t *transactions) take(w http.ResponseWriter, r *http.Request, state string) (*transaction, error) {
	name := t.cookieName(state)
	cks := r.CookiesNamed(name)
	if len(cks) == 0 {
		return nil, &CallbackError{Reason: ReasonStateMismatch}
	}
	http.SetCookie(w, t.cookie(name, "", -1))
	var binding []byte
	if b := t.browserOf(r); b != "" {
		binding = []byte(browserHash(b))
	}
	otherBrowser := false
	for i, ck := range cks {
		if i >= t.scanLimit() {
			break
		}
		var tx transaction
		if len(ck.Value) > seal.MaxSetCookieBytes || t.codec.Open(name, ck.Value, &tx) != nil || t.expired(&tx) {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(tx.State), []byte(state)) != 1 {
			continue
		}
		if binding == nil || subtle.ConstantTimeCompare([]byte(tx.Browser), binding) != 1 {
			otherBrowser = true
			continue
		}
		return &tx, nil
	}
	if otherBrowser {
		return nil, &CallbackError{Reason: ReasonBrowserMismatch}
	}
	return nil, &CallbackError{Reason: ReasonStateMismatch}
}

func (t *transactions) expired(tx *transaction) bool {
	age := t.now().Sub(time.Unix(tx.CreatedAt, 0))
	return age > transactionTTL || age < -transactionTTL
}

// randomToken returns 32 bytes from crypto/rand, base64url without padding
// (43 characters): used for state, nonce and the PKCE verifier.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead on a broken system)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkceChallenge is the S256 code challenge for verifier (RFC 7636 section 4.2).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
