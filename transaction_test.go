package logto_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/logto-go/logto"
)

// TestHostPrefixedCookieNames: with Secure cookies (an https BaseURL, or
// CookieSecure) every cookie the SDK writes during sign-in, callback and
// sign-out is named __Host-... and meets the prefix's rules (Secure, Path=/,
// no Domain), so browsers refuse the same names from a sibling subdomain or
// plain http. On http the names stay plain.
func TestHostPrefixedCookieNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opt    harnessOption
		scheme string
		host   bool
	}{
		{"https BaseURL", withTLS(), "https", true},
		{"CookieSecure on http", withConfig(func(c *logto.Config) { c.CookieSecure = true }), "http", true},
		{"http", withConfig(func(*logto.Config) {}), "http", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opt)
			if !strings.HasPrefix(h.app.URL, tc.scheme+"://") {
				t.Fatalf("app at %s, want %s", h.app.URL, tc.scheme)
			}
			b := h.browser()
			seen := map[string]bool{}
			check := func(step string, r *response) {
				t.Helper()
				lines := r.Header.Values("Set-Cookie")
				if len(lines) == 0 {
					t.Errorf("%s: no Set-Cookie", step)
				}
				for _, line := range lines {
					ck, err := http.ParseSetCookie(line)
					if err != nil {
						t.Fatalf("%s: %q: %v", step, line, err)
					}
					base, prefixed := strings.CutPrefix(ck.Name, "__Host-")
					if prefixed != tc.host {
						t.Errorf("%s: cookie %q, want __Host- prefix %v", step, ck.Name, tc.host)
					}
					if ck.Secure != tc.host || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
						t.Errorf("%s: %q", step, line)
					}
					switch {
					case base == "logto_"+h.appID:
						seen[base] = true
					case strings.HasPrefix(base, "logto_"+h.appID+"_tx_"):
						seen["tx"] = true
					default:
						t.Errorf("%s: unexpected cookie %q", step, ck.Name)
					}
				}
			}

			start := b.get(h.app.URL + "/sign-in")
			check("sign-in", start)
			cb := b.get(h.authorize(b, location(t, start)).String())
			if cb.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: %d %s", cb.StatusCode, cb.body)
			}
			check("callback", cb)
			if !h.context(b).IsAuthenticated {
				t.Fatal("not signed in")
			}
			out := b.post(h.app.URL+"/sign-out", h.app.URL)
			if out.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-out: %d %s", out.StatusCode, out.body)
			}
			check("sign-out", out)
			if len(seen) != 2 {
				t.Errorf("cookies written: %v, want the session and transaction cookies", seen)
			}
		})
	}
}
