package serve_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/logto-go/logto/examples/internal/serve"
)

// TestAll: every handler is served on its URL's port once ready is called,
// ctx ends them all (nil error), and a port in use fails before serving.
func TestAll(t *testing.T) {
	t.Parallel()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}
	a, b := free(), free()
	hello := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, s) })
	}
	logger := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- serve.All(ctx, map[string]http.Handler{a: hello("a"), b: hello("b")}, logger, func() { close(ready) })
	}()
	<-ready
	for url, want := range map[string]string{a: "a", b: "b"} {
		resp, err := http.Get(url + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Fatalf("%s: %q, want %q", url, body, want)
		}
	}
	// a is taken: serving it again fails at once, naming it.
	if err := serve.All(context.Background(), map[string]http.Handler{a: hello("x")}, logger, nil); err == nil || !strings.Contains(err.Error(), a) {
		t.Fatalf("port in use: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("after ctx ended: %v", err)
	}
}
