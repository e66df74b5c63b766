package logto_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/logto-go/logto"
)

// The SDK's input bounds, as seen from outside (bounds.go);
// TestCallbackInputBoundaries pins them.
const (
	callbackQueryLimit = 16 << 10
	callbackParamLimit = 4 << 10
	logoutBodyLimit    = 64 << 10
	logoutTokenLimit   = 16 << 10
	maxSetCookieBytes  = 4096 // what browsers store of one Set-Cookie line
)

// callbackReason returns the CallbackError reason of err, "" if none.
func callbackReason(err error) logto.Reason {
	var ce *logto.CallbackError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// TestCallbackOversizedInput: an oversized or malformed callback is refused
// with 400 before any work: no provider request of any kind, no session or
// transaction cookie written or deleted, and the transaction stays usable, so
// the genuine callback then signs in.
func TestCallbackOversizedInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	cb := h.authorize(b, h.startSignIn(b, "/after"))
	good := cb.Query()

	big := func(n int) string { return strings.Repeat("a", n) }
	with := func(edit func(q url.Values)) string {
		q := url.Values{}
		for k, v := range good {
			q[k] = append([]string(nil), v...)
		}
		edit(q)
		return q.Encode()
	}
	for _, tc := range []struct {
		name  string
		query string
		want  logto.Reason
	}{
		{"64 KiB code", with(func(q url.Values) { q.Set("code", big(64<<10)) }), logto.ReasonParameterTooLarge},
		{"code over the parameter bound", with(func(q url.Values) { q.Set("code", big(callbackParamLimit+1)) }), logto.ReasonParameterTooLarge},
		{"state", with(func(q url.Values) { q.Set("state", good.Get("state")+big(callbackParamLimit)) }), logto.ReasonParameterTooLarge},
		{"iss", with(func(q url.Values) { q.Set("iss", good.Get("iss")+"/"+big(callbackParamLimit)) }), logto.ReasonParameterTooLarge},
		{"error", with(func(q url.Values) { q.Del("code"); q.Set("error", big(callbackParamLimit+1)) }), logto.ReasonParameterTooLarge},
		{"error_description", with(func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_description", big(callbackParamLimit+1))
		}), logto.ReasonParameterTooLarge},
		{"error_uri", with(func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_uri", "https://x.example/"+big(callbackParamLimit))
		}), logto.ReasonParameterTooLarge},
		{"second oversized code", with(func(q url.Values) { q.Add("code", big(callbackParamLimit+1)) }), logto.ReasonParameterTooLarge},
		{"whole query", with(func(q url.Values) { q.Set("utm_source", big(callbackQueryLimit)) }), logto.ReasonParameterTooLarge},
		{"malformed escape", good.Encode() + "&x=%zz", logto.ReasonMalformedQuery},
		{"malformed code", strings.Replace(good.Encode(), "code=", "code=%zz", 1), logto.ReasonMalformedQuery},
		{"semicolon separator", good.Encode() + ";x=1", logto.ReasonMalformedQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests, tokens := len(h.op.Requests()), h.tokenCalls()
			r := b.get(h.app.URL + "/callback?" + tc.query)
			if r.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.StatusCode)
			}
			err := h.lastError()
			if !errors.Is(err, logto.ErrInvalidCallback) || callbackReason(err) != tc.want {
				t.Fatalf("error %v, want ErrInvalidCallback with reason %q", err, tc.want)
			}
			if got := len(h.op.Requests()) - requests; got != 0 {
				t.Errorf("provider saw %d requests, want 0", got)
			}
			if got := h.tokenCalls() - tokens; got != 0 {
				t.Errorf("token endpoint saw %d requests, want 0", got)
			}
			if lines := r.Header.Values("Set-Cookie"); len(lines) != 0 {
				t.Errorf("Set-Cookie written (the transaction must stay untouched): %q", lines)
			}
			h.assertNoLeak(r)
		})
	}

	// The oversized callbacks consumed nothing: the genuine one signs in.
	requests := len(h.op.Requests())
	r := b.get(cb.String())
	if r.StatusCode != http.StatusSeeOther || location(t, r).Path != "/after" {
		t.Fatalf("genuine callback: status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	if !h.sessionCookieWritten(r) {
		t.Fatal("genuine callback wrote no session")
	}
	if got := h.tokenCalls(); got != 1 {
		t.Fatalf("token endpoint saw %d requests over the whole test, want 1", got)
	}
	t.Logf("provider requests: %d before the genuine callback, %d after", requests, len(h.op.Requests()))
}

// TestCallbackInputBoundaries pins the bounds: a parameter of exactly
// callbackParamLimit bytes and a query of exactly callbackQueryLimit bytes
// pass the size check (and fail later, on the unknown state), one byte more
// is refused.
func TestCallbackInputBoundaries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const state = "st"
	queryOf := func(n int) string {
		q := "state=" + state + "&code=c&pad="
		return q + strings.Repeat("p", n-len(q))
	}
	for _, tc := range []struct {
		name  string
		query string
		want  logto.Reason
	}{
		{"code at the bound", "state=" + state + "&code=" + strings.Repeat("c", callbackParamLimit), logto.ReasonStateMismatch},
		{"code over the bound", "state=" + state + "&code=" + strings.Repeat("c", callbackParamLimit+1), logto.ReasonParameterTooLarge},
		{"escaped code at the bound (decoded length counts)", "state=" + state + "&code=" + strings.Repeat("%41", callbackParamLimit), logto.ReasonStateMismatch},
		{"escaped code over the bound", "state=" + state + "&code=" + strings.Repeat("%41", callbackParamLimit+1), logto.ReasonParameterTooLarge},
		{"error_description at the bound", "state=" + state + "&error=x&error_description=" + strings.Repeat("d", callbackParamLimit), logto.ReasonStateMismatch},
		{"query at the bound", queryOf(callbackQueryLimit), logto.ReasonStateMismatch},
		{"query over the bound", queryOf(callbackQueryLimit + 1), logto.ReasonParameterTooLarge},
		{"other parameter may be large", "state=" + state + "&code=c&pad=" + strings.Repeat("p", callbackParamLimit*2), logto.ReasonStateMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/callback", nil)
			r.URL.RawQuery = tc.query
			err := h.client.HandleSignIn(httptest.NewRecorder(), r)
			if got := callbackReason(err); got != tc.want || logto.StatusCode(err) != http.StatusBadRequest {
				t.Fatalf("HandleSignIn = %v (reason %q), want reason %q", err, got, tc.want)
			}
		})
	}
	if n := len(h.op.Requests()); n != 0 {
		t.Fatalf("provider saw %d requests, want 0", n)
	}
}

// TestBackChannelLogoutOversized: a body over 64 KiB or a logout_token over
// 16 KiB is refused with 400 before discovery, a JWKS fetch or a signature
// check, and ends no session.
func TestBackChannelLogoutOversized(t *testing.T) {
	t.Parallel()
	h := newHarness(t) // nothing discovered yet: any verification would show as a provider request
	valid := h.logoutToken(t, nil, nil)
	post := func(body string) *response {
		req, _ := http.NewRequest(http.MethodPost, h.app.URL+"/backchannel-logout", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return (&browser{t: t, c: http.DefaultClient}).do(req)
	}
	for _, tc := range []struct{ name, body string }{
		{"logout_token over its bound", "logout_token=" + valid + "." + strings.Repeat("A", logoutTokenLimit)},
		{"body over the cap", "logout_token=" + strings.Repeat("A", logoutBodyLimit)},
		{"valid token, body over the cap", "logout_token=" + valid + "&pad=" + strings.Repeat("p", logoutBodyLimit)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := post(tc.body); r.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.StatusCode)
			}
			req := httptest.NewRequest(http.MethodPost, "/backchannel-logout", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := h.client.HandleBackChannelLogout(httptest.NewRecorder(), req); !errors.Is(err, logto.ErrInvalidLogoutToken) {
				t.Fatalf("HandleBackChannelLogout = %v, want ErrInvalidLogoutToken", err)
			}
		})
	}
	if n := len(h.op.Requests()); n != 0 {
		t.Fatalf("provider saw %d requests, want 0: %+v", n, h.op.Requests())
	}
	// The same token within the bounds is accepted, and only then is the
	// provider asked (discovery and keys).
	if r := post(url.Values{"logout_token": {valid}}.Encode()); r.StatusCode != http.StatusOK {
		t.Fatalf("valid logout token: status %d", r.StatusCode)
	}
	if n := len(h.op.Requests()); n == 0 {
		t.Fatal("valid logout token verified without the provider: the counts above prove nothing")
	}
}

// assertCookiesFit fails when r sets a cookie browsers would drop.
func assertCookiesFit(t *testing.T, r *response) {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		if len(line) > maxSetCookieBytes {
			t.Errorf("%s %s: Set-Cookie of %d bytes (browsers drop over %d)", r.Request.Method, r.Request.URL.Path, len(line), maxSetCookieBytes)
		}
	}
}

// TestReturnToFitsCookie: a returnTo sealed into the transaction cookie never
// makes it exceed 4096 bytes. One that fits is kept; a longer one (up to the
// 2048 characters safeReturnTo accepts, or shorter with characters JSON
// escapes) is replaced by "/", and the sign-in completes. RequireAuth on a
// long deep link degrades the same way.
func TestReturnToFitsCookie(t *testing.T) {
	t.Parallel()
	const marker = "/deep-MARKER-"
	path := func(n int, fill string) string {
		return (marker + strings.Repeat(fill, n))[:n]
	}
	for _, tc := range []struct {
		name     string
		returnTo string
		deepLink bool // reach /sign-in through RequireAuth
		want     string
	}{
		{"short", "/dashboard?tab=1", false, "/dashboard?tab=1"},
		{"1500 characters fits", path(1500, "a"), false, path(1500, "a")},
		{"2048 characters", path(2048, "a"), false, "/"},
		{"2048 characters of ampersands", "/?" + strings.Repeat("&", 2046), false, "/"},
		{"1200 characters of ampersands", "/?" + strings.Repeat("&", 1198), false, "/"},
		{"deep link that fits", "/private?q=" + strings.Repeat("x", 1000), true, "/private?q=" + strings.Repeat("x", 1000)},
		{"long deep link", "/private?q=" + strings.Repeat("x", 2030), true, "/"},
		{"deep link past safeReturnTo", "/private?q=" + strings.Repeat("x", 5000), true, "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			b := h.browser()
			signIn := h.app.URL + "/sign-in?returnTo=" + url.QueryEscape(tc.returnTo)
			if tc.deepLink {
				r := b.get(h.app.URL + tc.returnTo)
				assertCookiesFit(t, r)
				if r.StatusCode != http.StatusSeeOther {
					t.Fatalf("RequireAuth: status %d", r.StatusCode)
				}
				signIn = location(t, r).String()
			}
			r := b.get(signIn)
			assertCookiesFit(t, r)
			if r.StatusCode != http.StatusFound {
				t.Fatalf("/sign-in: status %d", r.StatusCode)
			}
			tx := 0
			for name, ck := range setCookies(r) {
				if strings.HasPrefix(name, "logto_"+h.appID+"_tx_") && ck.MaxAge > 0 {
					tx++
				}
			}
			if tx != 1 {
				t.Fatalf("/sign-in set %d transaction cookies, want 1", tx)
			}
			r = b.get(h.authorize(b, location(t, r)).String())
			assertCookiesFit(t, r)
			if r.StatusCode != http.StatusSeeOther || !h.sessionCookieWritten(r) {
				t.Fatalf("callback: status %d, session written %v", r.StatusCode, h.sessionCookieWritten(r))
			}
			if got := location(t, r).RequestURI(); got != tc.want {
				t.Fatalf("landed on %.80q (%d bytes), want %.80q (%d bytes)", got, len(got), tc.want, len(tc.want))
			}
			replaced := strings.Contains(h.logs.String(), "returnTo too long")
			if replaced != (tc.want == "/" && len(tc.returnTo) <= 2048) {
				t.Errorf("warning logged = %v", replaced)
			}
			if strings.Contains(h.logs.String(), "MARKER") {
				t.Errorf("logs contain the returnTo value:\n%s", h.logs.String())
			}
			if h.tokenCalls() != 1 {
				t.Errorf("token endpoint saw %d requests, want 1", h.tokenCalls())
			}
		})
	}
}

// TestOversizedCookies: an oversized session cookie or an absurd number of
// chunk cookies reads as signed out (never a 500) before any decoding, and the
// only Set-Cookie lines are deletions, at most one per real chunk name; a
// flood of transaction cookies is bounded likewise at /sign-in.
func TestOversizedCookies(t *testing.T) {
	t.Parallel()
	for _, server := range []bool{false, true} {
		t.Run("server-side store "+strconv.FormatBool(server), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withConfig(func(c *logto.Config) {
				if server {
					c.SessionStore = logto.NewMemoryStore()
				}
			}))
			name := "logto_" + h.appID
			var many strings.Builder
			for i := 0; i < 2000; i++ {
				many.WriteString(name + "." + strconv.Itoa(i) + "=v; ")
			}
			for _, tc := range []struct {
				name, cookie string
			}{
				{"head over 4096 bytes", name + "=" + strings.Repeat("A", 5000)},
				{"head of 64 KiB", name + "=" + strings.Repeat("A", 64<<10)},
				{"chunk over 4096 bytes", name + ".0=AAAA; " + name + ".1=" + strings.Repeat("A", 5000)},
				{"2000 chunks", many.String()},
				{"non-canonical chunk names", name + ".00=a; " + name + ".+1=b; " + name + ".-0=c; " + name + ".12=d"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/api/context", nil)
					req.Header.Set("Cookie", tc.cookie)
					r := (&browser{t: t, c: http.DefaultClient}).do(req)
					if r.StatusCode != http.StatusOK || strings.Contains(r.body, `"isAuthenticated":true`) {
						t.Fatalf("status %d, body %s", r.StatusCode, r.body)
					}
					lines := r.Header.Values("Set-Cookie")
					if len(lines) > 13 { // the head and 12 chunks
						t.Errorf("%d Set-Cookie lines, want at most 13", len(lines))
					}
					for _, ck := range setCookies(r) {
						if ck.MaxAge >= 0 || ck.Value != "" {
							t.Errorf("cookie written, not cleared: %s", ck.Name)
						}
					}
				})
			}
			if n := len(h.op.Requests()); n != 0 {
				t.Errorf("provider saw %d requests, want 0", n)
			}
		})
	}

	t.Run("transaction cookie flood", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		var many strings.Builder
		for i := 0; i < 2000; i++ {
			many.WriteString("logto_" + h.appID + "_tx_" + strconv.Itoa(i) + "=" + strings.Repeat("A", 20) + "; ")
		}
		many.WriteString("logto_" + h.appID + "_tx_big=" + strings.Repeat("A", 8000))
		req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/sign-in", nil)
		req.Header.Set("Cookie", many.String())
		r := h.browser().do(req)
		if r.StatusCode != http.StatusFound {
			t.Fatalf("/sign-in: status %d: %s", r.StatusCode, r.body)
		}
		assertCookiesFit(t, r)
		if n := len(r.Header.Values("Set-Cookie")); n > 64 {
			t.Errorf("%d Set-Cookie lines for a flood of 2001 cookies", n)
		}
	})
}
