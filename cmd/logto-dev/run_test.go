package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"

	"github.com/logto-go/logto/logtotest"
)

// lockedBuffer is a log or console sink safe for concurrent use.
type lockedBuffer = testkit.Buffer

var issuerRE = regexp.MustCompile(`Issuer: +(\S+)`)

// TestRun starts the command on a free port, reads the issuer it prints,
// fetches discovery, and stops it.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &lockedBuffer{}
	env := map[string]string{"LOGTO_DEV_ADDR": "127.0.0.1:0", "LOGTO_DEV_SMS": "console"}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-app-id", "myapp", "-redirect-uri", "http://localhost:8080/cb, http://localhost:8080/cb2"},
			func(k string) string { return env[k] }, out)
	}()

	var issuer string
	for deadline := time.Now().Add(10 * time.Second); issuer == ""; {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no issuer printed:\n%s", out)
		}
		if m := issuerRE.FindStringSubmatch(out.String()); m != nil {
			issuer = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/oidc$`).MatchString(issuer) {
		t.Errorf("issuer %q", issuer)
	}
	for _, want := range []string{"App ID:        myapp", logtotest.DefaultAppSecret, "http://localhost:8080/cb, http://localhost:8080/cb2",
		"phone 15551234567, username probeuser, password Passw0rd!probe"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || doc.Issuer != issuer {
		t.Errorf("discovery: %d %v issuer %q, want %q", resp.StatusCode, err, doc.Issuer, issuer)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("output lacks the stop line:\n%s", out)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	for _, tc := range []struct {
		name string
		args []string
		env  func(string) string
	}{
		{"unknown flag", []string{"-nope"}, none},
		{"extra argument", []string{"-addr", "127.0.0.1:0", "x"}, none},
		{"bad SMS spec", []string{"-addr", "127.0.0.1:0", "-sms", "pigeon"}, none},
		{"bad URL", []string{"-addr", "127.0.0.1:0", "-url", "ftp://x"}, none},
		{"bad address", nil, func(k string) string {
			if k == "LOGTO_DEV_ADDR" {
				return "256.0.0.1:x"
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := run(t.Context(), tc.args, tc.env, &lockedBuffer{}); err == nil {
				t.Error("run succeeded")
			}
		})
	}
	if err := run(t.Context(), []string{"-h"}, none, &lockedBuffer{}); err != nil {
		t.Errorf("-h: %v", err)
	}
}

func TestDefaultURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, want string }{
		{"localhost:3001", "http://localhost:3001"},
		{":3001", "http://localhost:3001"},
		{"0.0.0.0:3001", "http://localhost:3001"},
		{"127.0.0.1:3001", "http://127.0.0.1:3001"},
		{"[::1]:3001", "http://[::1]:3001"},
	} {
		if got := defaultURL(tc.addr, &net.TCPAddr{Port: 3001}); got != tc.want {
			t.Errorf("defaultURL(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
