package serve_test

import (
	"testing"

	"github.com/logto-go/logto/examples/internal/serve"
)

func TestListenAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, want string
	}{
		{"http://localhost:3000", ":3000"},
		{"http://LOCALHOST:8080/app", ":8080"},
		{"http://127.0.0.1:3000", "127.0.0.1:3000"},
		{"http://[::1]:3000", "[::1]:3000"},
		{"https://app.example.com", "app.example.com:443"},
		{"http://app.example.com", "app.example.com:80"},
	}
	for _, tt := range tests {
		got, err := serve.ListenAddr(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "localhost:3000", "ftp://x:1", "http://%zz"} {
		if got, err := serve.ListenAddr(bad); err == nil {
			t.Errorf("ListenAddr(%q) = %q, nil; want an error", bad, got)
		}
	}
}
