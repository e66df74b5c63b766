package logto_test

import (
	"net/http"
	"testing"

	"github.com/logto-go/logto"
)

// TestRevocationsScopedByApp: two apps of one Logto share a store for their
// sessions and revocations. A sub-only logout token for app A ends the user's
// session in A and leaves the same user signed in to B.
func TestRevocationsScopedByApp(t *testing.T) {
	t.Parallel()
	store := logto.NewMemoryStore()
	shared := withConfig(func(c *logto.Config) {
		c.SessionStore = store
		c.RevocationList = logto.NewStoreRevocationList(store)
	})
	a := newHarness(t, shared)
	b := newHarness(t, shared, withServer(a.op), withAppID("harnessappB123456789b"))
	inA, inB := a.browser(), b.browser()
	a.signIn(inA, "")
	b.signIn(inB, "")
	if !a.context(inA).IsAuthenticated || !b.context(inB).IsAuthenticated {
		t.Fatal("sign-in to both apps failed")
	}
	// The harness's logout token has sub and no sid: it covers every
	// session of the user in A, and only in A.
	if r := a.postLogout(t, a.logoutToken(t, nil, nil)); r.StatusCode != http.StatusOK {
		t.Fatalf("logout for A: %d %s", r.StatusCode, r.body)
	}
	if a.context(inA).IsAuthenticated {
		t.Fatal("app A's session survived its back-channel logout")
	}
	if !b.context(inB).IsAuthenticated {
		t.Fatal("a logout token for app A ended the user's session in app B")
	}
	// B's own logout ends B's session.
	if r := b.postLogout(t, b.logoutToken(t, nil, nil)); r.StatusCode != http.StatusOK {
		t.Fatalf("logout for B: %d %s", r.StatusCode, r.body)
	}
	if b.context(inB).IsAuthenticated {
		t.Fatal("app B's session survived its back-channel logout")
	}
}
