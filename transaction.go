package logto

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
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
}

// transactionTTL is how long a sign-in may take, from the redirect to Logto
// to the callback.
const transactionTTL = 10 * time.Minute

// transactions stores sign-in transactions in cookies.
type transactions struct {
	codec  *seal.Codec
	prefix string // logto_<AppID>_tx_, __Host- first with Secure cookies
	secure bool
	max    int
	now    func() time.Time
}

func newTransactions(cfg *settings) (*transactions, error) {
	codec, err := seal.New(cfg.cookieSecrets, "transaction|"+cfg.AppID, transactionTTL)
	if err != nil {
		return nil, err
	}
	return &transactions{codec: codec, prefix: cfg.cookieName("logto_" + cfg.AppID + "_tx_"), secure: cfg.secure, max: cfg.MaxPendingSignIns, now: cfg.Now}, nil
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

// save writes tx as a new cookie and drops the oldest pending transactions
// beyond the cap (and any unreadable ones). It fails with
// errTransactionTooLarge, having written nothing, when the cookie would not
// fit in a browser.
func (t *transactions) save(w http.ResponseWriter, r *http.Request, tx *transaction) error {
	name := t.cookieName(tx.State)
	value, err := t.codec.Seal(name, tx)
	if err != nil {
		return err
	}
	ck := t.cookie(name, value, int(transactionTTL/time.Second))
	if len(ck.String()) > seal.MaxSetCookieBytes {
		return errTransactionTooLarge
	}
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

// take finds the transaction for state and deletes its cookie whatever the
// outcome. It returns nil when there is no live transaction for state. A
// value longer than a browser stores is not opened.
func (t *transactions) take(w http.ResponseWriter, r *http.Request, state string) *transaction {
	name := t.cookieName(state)
	cks := r.CookiesNamed(name)
	if len(cks) == 0 {
		return nil
	}
	http.SetCookie(w, t.cookie(name, "", -1))
	for i, ck := range cks {
		if i >= t.scanLimit() {
			break
		}
		var tx transaction
		if len(ck.Value) > seal.MaxSetCookieBytes || t.codec.Open(name, ck.Value, &tx) != nil || t.expired(&tx) {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(tx.State), []byte(state)) == 1 {
			return &tx
		}
	}
	return nil
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
