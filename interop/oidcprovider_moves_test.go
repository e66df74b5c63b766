package interop_test

// When the world moves while users are signed in: oidc-provider rotates its
// signing key, and a browser delivers one callback several times at once.
// server.mjs's test endpoints (/__test/...) rotate the keys, slow the token
// endpoint down and count what the provider saw.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
)

// providerStats is what server.mjs counted (GET /__test/stats).
type providerStats struct {
	Requests    map[string]int `json:"requests"`    // by path
	Token       map[string]int `json:"token"`       // /oidc/token by grant_type
	TokenErrors map[string]int `json:"tokenErrors"` // by "grant_type error"
}

func (s providerStats) jwks() int { return s.Requests["/oidc/jwks"] }

// admin calls a test endpoint of server.mjs and decodes its JSON answer.
func (op *oidcProvider) admin(t *testing.T, method, path string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, op.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d, %v: %s", method, path, resp.StatusCode, err, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, body)
	}
}

func (op *oidcProvider) stats(t *testing.T) providerStats {
	t.Helper()
	var s providerStats
	op.admin(t, http.MethodGet, "/__test/stats", &s)
	return s
}

// rotateKeys makes a new signing key current and returns the published kids,
// new first.
func (op *oidcProvider) rotateKeys(t *testing.T) []string {
	t.Helper()
	var r struct{ Kids []string }
	op.admin(t, http.MethodPost, "/__test/rotate-keys", &r)
	return r.Kids
}

// setTokenDelay makes /oidc/token wait d before handling each request.
func (op *oidcProvider) setTokenDelay(t *testing.T, d time.Duration) {
	t.Helper()
	var r struct{ MS int64 }
	op.admin(t, http.MethodPost, fmt.Sprintf("/__test/token-delay?ms=%d", d.Milliseconds()), &r)
}

// signIn runs a whole sign-in in b and checks it ended signed in.
func (a *interopApp) signIn(b *browser) {
	a.t.Helper()
	if r := b.get(a.authorize(b, a.startSignIn(b)).String()); r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("callback: status %d: %s (error %v)", r.StatusCode, r.body, a.lastError())
	}
	if c := a.context(b, ""); !c.IsAuthenticated || c.Claims["sub"] != interopAccount {
		a.t.Fatalf("after sign-in: %+v", c)
	}
}

// TestOIDCProviderKeyRotation: oidc-provider rotates its signing key the way
// Logto does (a new key current at once, the previous one still published
// after it) moments after every key set in play was fetched. Each of them
// fetches the JWKS exactly once more, at its first token with the new kid,
// and nothing fails: the next sign-in, the refresh of a session from before
// the rotation (its renewed ID token), and a ResourceServer that verified a
// token from before the rotation, given one from after it.
func TestOIDCProviderKeyRotation(t *testing.T) {
	t.Parallel()
	a := newInteropApp(t, appOptions{})
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: a.op.URL, Audience: interopResource})
	if err != nil {
		t.Fatal(err)
	}
	wantJWKS := func(want int, why string) {
		t.Helper()
		if got := a.op.stats(t).jwks(); got != want {
			t.Fatalf("%s: the provider served the JWKS %d times in all, want %d", why, got, want)
		}
	}

	// Before the rotation: the app's client fetches the key set for b1's ID
	// token, the eager client (its own key set) for the ID token of a forced
	// refresh, and the ResourceServer for the resource token that refresh
	// returned.
	b1 := newBrowser(t)
	a.signIn(b1)
	signedIn := time.Now()
	wantJWKS(1, "first sign-in")
	r := a.token(b1, "/eager/api/token")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("refresh before the rotation: status %d (error %v)", r.StatusCode, a.lastError())
	}
	tok1 := r.body
	a.verifyResourceToken(rs, tok1)
	wantJWKS(3, "refresh and ResourceServer before the rotation")

	kids := a.op.rotateKeys(t)
	if oldKid := jwtHeader(t, tok1)["kid"]; len(kids) != 2 || kids[1] != oldKid || kids[0] == oldKid {
		t.Fatalf("rotation published kids %q; want a new one, then %v", kids, oldKid)
	}
	rotated := time.Now()

	// A sign-in at once, with another browser: its ID token has the new kid,
	// which the app's client fetched its key set for a moment ago.
	b2 := newBrowser(t)
	a.signIn(b2)
	t.Logf("second sign-in done %s after the rotation, %s after the app's JWKS fetch",
		time.Since(rotated).Round(time.Millisecond), time.Since(signedIn).Round(time.Millisecond))
	if since := time.Since(signedIn); since >= 10*time.Second {
		t.Fatalf("the second sign-in ended %s after the app's JWKS fetch: too late to show an immediate refetch", since)
	}
	wantJWKS(4, "sign-in right after the rotation")

	// b1's session from before the rotation renews its ID token (a forced
	// refresh of the default access token, so not the refresh the eager
	// client remembers): the new ID token's kid makes the eager client fetch
	// its key set again, seconds after its first fetch.
	if r := b1.get(a.app.URL + "/eager/api/token?resource="); r.StatusCode != http.StatusOK {
		t.Fatalf("refresh of the pre-rotation session: status %d (error %v)", r.StatusCode, a.lastError())
	}
	wantJWKS(5, "ID token renewal after the rotation")
	if c := a.context(b1, ""); !c.IsAuthenticated || c.Claims["sub"] != interopAccount {
		t.Fatalf("pre-rotation session after its refresh: %+v", c)
	}

	// A resource token issued after the rotation (b2's refresh: the app's
	// client already knows the new key, so no fetch) is signed with the new
	// key; the ResourceServer accepts it (one refetch), and still the old one
	// (the previous key is still published).
	r = a.token(b2, "/api/token")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("resource token after the rotation: status %d (error %v)", r.StatusCode, a.lastError())
	}
	tok2 := r.body
	if kid := jwtHeader(t, tok2)["kid"]; kid != kids[0] {
		t.Errorf("resource token after the rotation has kid %v, want the new %s", kid, kids[0])
	}
	wantJWKS(5, "refresh with the known new key")
	a.verifyResourceToken(rs, tok2)
	a.verifyResourceToken(rs, tok1)
	wantJWKS(6, "ResourceServer after the rotation")
	if s := a.op.stats(t); len(s.TokenErrors) != 0 {
		t.Errorf("token endpoint errors: %v", s.TokenErrors)
	}
}

// TestOIDCProviderDoubleDelivery: one callback URL, with the same cookies,
// delivered 2 and 10 times at once (double navigation, a retried request)
// while oidc-provider's token endpoint is slow, so all deliveries are in
// flight together. The code is redeemed once (oidc-provider revokes the grant
// of a code redeemed twice), every delivery gets the same answer and session
// cookie, and the session then refreshes. A late delivery gets 400 and makes
// no token request.
func TestOIDCProviderDoubleDelivery(t *testing.T) {
	t.Parallel()
	a := newInteropApp(t, appOptions{})
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: a.op.URL, Audience: interopResource})
	if err != nil {
		t.Fatal(err)
	}
	// The session cookies (logto_<AppID>, or its chunks .0, .1, ...) a
	// response sets, as "name=value", sorted.
	sessionName := "logto_" + a.cfg.AppID
	sessionCookies := func(h http.Header) []string {
		var out []string
		for _, c := range (&http.Response{Header: h}).Cookies() {
			if c.Name == sessionName || strings.HasPrefix(c.Name, sessionName+".") {
				out = append(out, c.Name+"="+c.Value)
			}
		}
		slices.Sort(out)
		return out
	}
	reasonOf := func(err error) logto.Reason {
		var ce *logto.CallbackError
		if errors.As(err, &ce) {
			return ce.Reason
		}
		return ""
	}
	// The token endpoint's delay: far longer than it takes to send the
	// deliveries, so they all reach the app before the first exchange ends.
	const delay = 500 * time.Millisecond

	type delivery struct {
		status        int
		location      string
		cookies       []string
		err           error
		start, finish time.Time
	}

	for _, n := range []int{2, 10} {
		b := newBrowser(t)
		cb := a.authorize(b, a.startSignIn(b))
		browsers := make([]*browser, n)
		for i := range browsers {
			browsers[i] = b.clone(a.app.URL) // the transaction cookie, n times
		}
		before := a.op.stats(t)

		a.op.setTokenDelay(t, delay)
		results := make([]delivery, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, br := range browsers {
			wg.Go(func() {
				<-start
				d := &results[i]
				d.start = time.Now()
				defer func() { d.finish = time.Now() }()
				req, err := http.NewRequest(http.MethodGet, cb.String(), nil)
				if err != nil {
					d.err = err
					return
				}
				req.Header.Set("Accept", "text/html")
				resp, err := br.c.Do(req)
				if err != nil {
					d.err = err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d.status, d.location, d.cookies = resp.StatusCode, resp.Header.Get("Location"), sessionCookies(resp.Header)
			})
		}
		close(start)
		wg.Wait()
		a.op.setTokenDelay(t, 0)
		after := a.op.stats(t)

		lastStart, firstFinish := results[0].start, results[0].finish
		for _, d := range results {
			if d.start.After(lastStart) {
				lastStart = d.start
			}
			if d.finish.Before(firstFinish) {
				firstFinish = d.finish
			}
		}
		overlap := lastStart.Before(firstFinish)
		t.Logf("%d deliveries: in flight together %v; provider saw %d authorization_code token requests (errors %v)",
			n, overlap, after.Token["authorization_code"]-before.Token["authorization_code"], after.TokenErrors)
		if !overlap {
			t.Errorf("%d deliveries: the last one started %s after the first one ended; the test needs them in flight together (raise the token delay)",
				n, lastStart.Sub(firstFinish))
		}

		// One code exchange at the provider, and every delivery got the
		// same answer: signed in, with the same session cookie.
		if got := after.Token["authorization_code"] - before.Token["authorization_code"]; got != 1 {
			t.Errorf("%d deliveries: the provider saw %d authorization_code token requests, want 1", n, got)
		}
		var session []string // the first session cookie set
		for i, d := range results {
			if d.err != nil {
				t.Fatalf("%d deliveries: delivery %d: %v", n, i, d.err)
			}
			if d.status != http.StatusSeeOther || d.location != "/done" || len(d.cookies) == 0 {
				t.Errorf("%d deliveries: delivery %d: status %d, Location %q, %d session cookies; want 303 to /done with a session (last error %v)",
					n, i, d.status, d.location, len(d.cookies), a.lastError())
				continue
			}
			if session == nil {
				session = d.cookies
			} else if !slices.Equal(d.cookies, session) {
				t.Errorf("%d deliveries: delivery %d set another session cookie than the first successful one", n, i)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		for i, br := range browsers {
			if c := a.context(br, ""); !c.IsAuthenticated || c.Claims["sub"] != interopAccount {
				t.Fatalf("%d deliveries: browser %d after its delivery: %+v", n, i, c)
			}
		}

		// The session refreshes: oidc-provider did not revoke the grant.
		r := a.token(browsers[0], "/eager/api/token")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%d deliveries: refresh after the sign-in: status %d (error %v)", n, r.StatusCode, a.lastError())
		}
		a.verifyResourceToken(rs, r.body)

		// A late delivery (b still holds the transaction cookie): 400, no
		// session written, no token request.
		before = a.op.stats(t)
		late := b.get(cb.String())
		if late.StatusCode != http.StatusBadRequest || reasonOf(a.lastError()) != logto.ReasonStateMismatch {
			t.Errorf("%d deliveries: late delivery: status %d, error %v; want 400 state_mismatch", n, late.StatusCode, a.lastError())
		}
		if c := sessionCookies(late.Header); len(c) != 0 {
			t.Errorf("%d deliveries: late delivery set session cookies %v", n, c)
		}
		after = a.op.stats(t)
		if got := after.Token["authorization_code"] - before.Token["authorization_code"]; got != 0 {
			t.Errorf("%d deliveries: late delivery made %d authorization_code token requests, want 0", n, got)
		}
		// ...and the grant is still alive: a brand new client refreshes
		// with the last browser's cookies.
		if r := a.token(browsers[n-1], "/probe/api/token"); r.StatusCode != http.StatusOK {
			t.Fatalf("%d deliveries: refresh after the late delivery: status %d (error %v)", n, r.StatusCode, a.lastError())
		}
		if s := a.op.stats(t); len(s.TokenErrors) != 0 {
			t.Fatalf("%d deliveries: token endpoint errors %v", n, s.TokenErrors)
		}
	}
}
