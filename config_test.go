package logto_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/logto-go/logto"
)

func validConfig() logto.Config {
	return logto.Config{
		AppID:        "app1234567890abcdefgh",
		AppSecret:    "secret-CANARY-0123456789abcdefghi",
		Endpoint:     "https://tenant.logto.app",
		BaseURL:      "https://app.example.com",
		CookieSecret: "cookie-CANARY-0123456789abcdefghijkl",
	}
}

func TestNewValidatesAndNamesTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		field  string
		modify func(*logto.Config)
	}{
		{"AppID", func(c *logto.Config) { c.AppID = "" }},
		{"AppID", func(c *logto.Config) { c.AppID = "a;b" }},
		{"AppSecret", func(c *logto.Config) { c.AppSecret = "" }},
		{"Endpoint", func(c *logto.Config) { c.Endpoint = "" }},
		{"Endpoint", func(c *logto.Config) { c.Endpoint = "ftp://x" }},
		{"Endpoint", func(c *logto.Config) { c.Endpoint = "http://logto.example.com" }},
		{"Endpoint", func(c *logto.Config) { c.Endpoint = "https://x/?a=b" }},
		{"BaseURL", func(c *logto.Config) { c.BaseURL = "app.example.com" }},
		{"CookieSecret", func(c *logto.Config) { c.CookieSecret = "short" }},
		{"PreviousCookieSecrets[0]", func(c *logto.Config) { c.PreviousCookieSecrets = []string{"short"} }},
		{"Prompt", func(c *logto.Config) { c.Prompt = "always" }},
		{"Scopes", func(c *logto.Config) { c.Scopes = []string{"a b"} }},
		{"Resources", func(c *logto.Config) { c.Resources = []string{"not a uri"} }},
		{"ClockSkew", func(c *logto.Config) { c.ClockSkew = -1 }},
		{"CallbackPath", func(c *logto.Config) { c.CallbackPath = "callback" }},
		{"IDTokenSigningAlgs", func(c *logto.Config) { c.IDTokenSigningAlgs = []string{"HS256"} }},
		{"PostLogoutRedirectURI", func(c *logto.Config) { c.PostLogoutRedirectURI = "/relative" }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			cfg := validConfig()
			tc.modify(&cfg)
			_, err := logto.New(cfg)
			if !errors.Is(err, logto.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			var ce *logto.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("err = %v, want field %q", err, tc.field)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestNewAcceptsLoopbackHTTPAndInsecureOption(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{"http://localhost:3001", "http://127.0.0.1:3001/", "http://[::1]:3001", "https://cloud.logto.io/tenant-id"} {
		cfg := validConfig()
		cfg.Endpoint = ep
		c, err := logto.New(cfg)
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		if want := strings.TrimRight(ep, "/") + "/oidc"; c.Issuer() != want {
			t.Errorf("Issuer = %q, want %q", c.Issuer(), want)
		}
	}
	cfg := validConfig()
	cfg.Endpoint = "http://logto.internal:3001"
	cfg.InsecureAllowHTTPEndpoint = true
	if _, err := logto.New(cfg); err != nil {
		t.Fatalf("InsecureAllowHTTPEndpoint: %v", err)
	}
}

func TestScopesAndResources(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.Scopes = []string{logto.UserScopeEmail, "openid", logto.UserScopeOrganizations, logto.UserScopeEmail}
	cfg.Resources = []string{"https://api.example.com", "https://api.example.com"}
	c, err := logto.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantScopes := []string{"openid", "offline_access", "profile", "email", "urn:logto:scope:organizations"}
	if got := c.Scopes(); !slices.Equal(got, wantScopes) {
		t.Errorf("Scopes = %q, want %q", got, wantScopes)
	}
	wantRes := []string{"https://api.example.com", "urn:logto:resource:organizations"}
	if got := c.Resources(); !slices.Equal(got, wantRes) {
		t.Errorf("Resources = %q, want %q", got, wantRes)
	}
	if got, want := c.RedirectURI(), "https://app.example.com/callback"; got != want {
		t.Errorf("RedirectURI = %q, want %q", got, want)
	}
	if got, want := c.PostLogoutRedirectURI(), "https://app.example.com/"; got != want {
		t.Errorf("PostLogoutRedirectURI = %q, want %q", got, want)
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "config", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), buf.String()} {
		if strings.Contains(s, "CANARY") {
			t.Fatalf("secret printed: %s", s)
		}
		if !strings.Contains(s, cfg.AppID) {
			t.Fatalf("AppID missing from %s", s)
		}
	}
}
