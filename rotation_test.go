package logto_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtotest"
)

// Logto rotates its signing key from the Console or the Management API and
// signs with the new key at once, keeping the previous one published
// (real-logto-notes.md item 10). These tests rotate logtotest's key the
// same way a moment after the SDK fetched the JWKS.

func (h *harness) jwksFetches() int { return h.op.CountRequests("/oidc/jwks") }

// TestKeyRotationRightAfterFetch: sign in (the JWKS is fetched), rotate,
// sign in again at once: the unknown kid refetches the set immediately and
// the sign-in succeeds. Sessions from before the rotation still refresh
// (their refreshed ID tokens carry the new kid) and still verify.
func TestKeyRotationRightAfterFetch(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, withAPI(), withClock(clock.Now))
	before := h.browser()
	if r := h.signIn(before, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", r.StatusCode)
	}
	if n := h.jwksFetches(); n != 1 {
		t.Fatalf("JWKS fetches after the first sign-in = %d, want 1", n)
	}
	oldKid := h.op.CurrentKeyID()
	if err := h.op.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)

	after := h.browser()
	r := h.signIn(after, "")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in a second after the rotation: %d (err %v)", r.StatusCode, h.lastError())
	}
	if n := h.jwksFetches(); n != 2 {
		t.Fatalf("JWKS fetches = %d, want 2 (one refetch for the new kid)", n)
	}
	if h.op.CurrentKeyID() == oldKid || !h.context(after).IsAuthenticated {
		t.Fatal("not signed in with the new key")
	}
	// The session from before the rotation refreshes with the new key.
	if r := h.tokenGet(before, "resource="+url.QueryEscape(apiResource)); r.StatusCode != http.StatusOK {
		t.Fatalf("refresh of a pre-rotation session: %d (err %v)", r.StatusCode, h.lastError())
	}
	if n := h.jwksFetches(); n != 2 {
		t.Fatalf("JWKS fetches = %d, want still 2", n)
	}
}

// TestKeyRotationOnRefresh: the first ID token signed with the new key
// arrives in a refresh response; it refetches at once too.
func TestKeyRotationOnRefresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withAPI())
	b := h.browser()
	h.signIn(b, "")
	if err := h.op.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	if r := h.tokenGet(b, "resource="+url.QueryEscape(apiResource)); r.StatusCode != http.StatusOK {
		t.Fatalf("refresh right after the rotation: %d (err %v)", r.StatusCode, h.lastError())
	}
	if n := h.jwksFetches(); n != 2 {
		t.Fatalf("JWKS fetches = %d, want 2", n)
	}
	if !h.context(b).IsAuthenticated {
		t.Fatal("signed out by a key rotation")
	}
}

// TestKeyRotationBackChannelLogout: a logout token signed with the new key
// right after a rotation ends the session.
func TestKeyRotationBackChannelLogout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	h.signIn(b, "")
	if err := h.op.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	if r := h.postLogout(t, h.logoutToken(t, nil, nil)); r.StatusCode != http.StatusOK {
		t.Fatalf("logout token with the new key: %d (err %v)", r.StatusCode, h.lastError())
	}
	if h.context(b).IsAuthenticated {
		t.Fatal("session survived the logout")
	}
}

// TestForgedLogoutKidsDoNotBlockSignIn: forged logout tokens with random
// kids are bounded (at most one wasted JWKS fetch per 10 s) and cannot use
// up the refetch a sign-in after a rotation needs.
func TestForgedLogoutKidsDoNotBlockSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.signIn(h.browser(), "") // the JWKS is cached
	before := h.jwksFetches()
	for i := 0; i < 30; i++ {
		tok := h.logoutToken(t, func(hd map[string]any) { hd["kid"] = fmt.Sprint("forged-", i) }, nil)
		if r := h.postLogout(t, tok); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged kid: %d", r.StatusCode)
		}
	}
	n := h.jwksFetches() - before
	if n > 1 {
		t.Fatalf("JWKS fetches for 30 forged kids = %d, want at most 1", n)
	}
	t.Logf("30 forged logout kids: %d JWKS fetches", n)
	if err := h.op.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	if r := h.signIn(h.browser(), ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in after the flood and a rotation: %d (err %v)", r.StatusCode, h.lastError())
	}
}

// TestResourceServerKeyRotation: an API that verified a token a moment ago
// accepts the first token signed with the new key, with one refetch; a
// flood of forged kids costs at most one fetch per 10 s.
func TestResourceServerKeyRotation(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	op := logtotest.NewServer(t, logtotest.WithClock(clock.Now))
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{Endpoint: op.URL(), Audience: apiResource, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(kid string) string {
		t.Helper()
		now := clock.Now().Unix()
		hdr := map[string]any{"typ": "at+jwt"}
		if kid != "" {
			hdr["kid"] = kid
		}
		tok, err := op.Sign(hdr, map[string]any{"sub": "user1", "iat": now, "exp": now + 3600, "client_id": "app", "iss": op.Issuer(), "aud": apiResource})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ctx := context.Background()
	if _, err := rs.Verify(ctx, mint("")); err != nil {
		t.Fatal(err)
	}
	if err := op.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(100 * time.Millisecond)
	if _, err := rs.Verify(ctx, mint("")); err != nil {
		t.Fatalf("first token with the new key: %v", err)
	}
	if n := op.CountRequests("/oidc/jwks"); n != 2 {
		t.Fatalf("JWKS fetches = %d, want 2", n)
	}

	// A minute of forged kids, 50 concurrent requests per second.
	before := op.CountRequests("/oidc/jwks")
	for sec := 0; sec < 60; sec++ {
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := rs.Verify(ctx, mint(fmt.Sprintf("forged-%d-%d", sec, i)))
				if !errors.Is(err, logto.ErrInvalidToken) {
					t.Errorf("forged kid: %v", err)
				}
			}()
		}
		wg.Wait()
		clock.Advance(time.Second)
	}
	n := op.CountRequests("/oidc/jwks") - before
	if n > 1+60/10 {
		t.Fatalf("JWKS fetches for a minute of forged kids = %d, want at most %d", n, 1+60/10)
	}
	t.Logf("3000 forged kids over 60 s: %d JWKS fetches", n)
	// Still verifying real tokens.
	if _, err := rs.Verify(ctx, mint("")); err != nil {
		t.Fatal(err)
	}
}
