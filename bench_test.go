package logto_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkGetContext measures the per-request cost of reading a session:
// cookie reassembly, securecookie MAC check and decryption, JSON decoding.
func BenchmarkGetContext(b *testing.B) {
	h := newHarness(b)
	br := h.browser()
	h.signIn(br, "")
	cks := h.sessionCookies(br)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range cks {
		r.AddCookie(ck)
	}
	b.ReportAllocs()
	for b.Loop() {
		lc, err := h.client.GetContext(nil, r)
		if err != nil || !lc.IsAuthenticated {
			b.Fatal("not authenticated")
		}
	}
}

// BenchmarkSignInRoundTrip measures a full sign-in against the in-process
// provider: sign-in redirect, provider hops, code exchange, ID token check.
func BenchmarkSignInRoundTrip(b *testing.B) {
	h := newHarness(b)
	for b.Loop() {
		br := h.browser()
		if r := h.signIn(br, ""); r.StatusCode != http.StatusSeeOther {
			b.Fatalf("status %d", r.StatusCode)
		}
	}
}
