package sms_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/logtodev/sms"
)

func TestSMSAeroRequestShape(t *testing.T) {
	t.Parallel()
	f := newFakeAero(t, http.StatusOK, `{"id":1,"from":"x","number":"13800138000","status":0}`)
	a := newAero(t, mockConfig(), sms.WithEndpoint(f.endpoint()))
	err := a.Send(t.Context(), sms.Message{To: "13800138000", Type: sms.Generic, Code: "1234"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	checks := []struct{ name, got, want string }{
		{"method", r.Method, http.MethodPost},
		{"path", r.Path, "/v2/sms/send"},
		{"query", r.RawQuery, ""},
		{"content-type", r.ContentType, "application/json"},
		{"basic user", r.User, testEmail},
		{"basic password", r.Pass, testAPIKey},
		{"raw body", r.RawBody, `{"number":"13800138000","sign":"sender-name","text":"This is for testing purposes only. Your verification code is 1234."}`},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if !r.BasicOK {
		t.Error("no Basic authorization")
	}
	if len(r.Body) != 3 {
		t.Errorf("body has %d keys, want 3: %v", len(r.Body), r.Body)
	}
}

func TestSMSAeroBodyNoHTMLEscaping(t *testing.T) {
	t.Parallel()
	f := newFakeAero(t, http.StatusOK, "")
	cfg := mockConfig()
	cfg.Templates = append(cfg.Templates, sms.Template{UsageType: sms.BindMfa, Content: "<b>{{code}}</b> & \"more\""})
	a := newAero(t, cfg, sms.WithEndpoint(f.endpoint()))
	if err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.BindMfa, Code: "999999"}); err != nil {
		t.Fatal(err)
	}
	want := `{"number":"1","sign":"sender-name","text":"<b>999999</b> & \"more\""}`
	if got := f.requests()[0].RawBody; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSMSAeroTemplateChoice(t *testing.T) {
	t.Parallel()
	f := newFakeAero(t, http.StatusOK, "")
	a := newAero(t, mockConfig(), sms.WithEndpoint(f.endpoint()))
	tests := []struct {
		typ  sms.UsageType
		want string
	}{
		{sms.SignIn, "sign-in 123456"},
		{sms.Register, "register 123456"},
		{sms.ForgotPassword, "forgot 123456"},
		{sms.Generic, "This is for testing purposes only. Your verification code is 123456."},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			t.Parallel()
			to := "7999" + string(tt.typ) // distinct per subtest to find our request
			if err := a.Send(t.Context(), sms.Message{To: to, Type: tt.typ, Code: "123456"}); err != nil {
				t.Fatal(err)
			}
			for _, r := range f.requests() {
				if r.Body["number"] == to {
					if got := r.Body["text"]; got != tt.want {
						t.Errorf("text: got %q, want %q", got, tt.want)
					}
					return
				}
			}
			t.Fatal("request not received")
		})
	}
}

func TestSMSAeroFirstMatchingTemplateWins(t *testing.T) {
	t.Parallel()
	f := newFakeAero(t, http.StatusOK, "")
	cfg := mockConfig()
	cfg.Templates = append(cfg.Templates, sms.Template{UsageType: sms.SignIn, Content: "second {{code}}"})
	a := newAero(t, cfg, sms.WithEndpoint(f.endpoint()))
	if err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "111111"}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].Body["text"]; got != "sign-in 111111" {
		t.Errorf("got %q, want %q", got, "sign-in 111111")
	}
}

func TestSMSAeroPlaceholders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, want string
	}{
		{"plain", "code {{code}}.", "code 654321."},
		{"spaces", "code {{ code }}.", "code 654321."},
		{"tabs and newlines", "code {{\t\ncode\n}}", "code 654321"},
		{"nbsp is JavaScript whitespace", "code {{\u00a0code\u00a0}}", "code 654321"},
		{"repeated", "{{code}}-{{code}}", "654321-654321"},
		{"unknown root left unchanged", "{{unknown}} {{code}}", "{{unknown}} 654321"},
		{"unknown nested left unchanged", "{{application.name}}", "{{application.name}}"},
		{"nested under code becomes empty", "[{{code.x}}]", "[]"},
		{"trailing dot becomes empty", "[{{code.}}]", "[]"},
		{"leading dot left unchanged", "[{{.code}}]", "[{{.code}}]"},
		{"not a placeholder", "{code} {{co de}} {{}}", "{code} {{co de}} {{}}"},
		{"triple braces", "{{{code}}}", "{654321}"},
		{"no placeholder", "no code here", "no code here"},
		{"case sensitive", "{{Code}}", "{{Code}}"},
	}
	f := newFakeAero(t, http.StatusOK, "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := mockConfig()
			cfg.Templates = append([]sms.Template{{UsageType: sms.MfaVerification, Content: tt.content}}, cfg.Templates...)
			a := newAero(t, cfg, sms.WithEndpoint(f.endpoint()))
			to := "1" + strings.Repeat("0", len(tt.name)) + tt.name
			if err := a.Send(t.Context(), sms.Message{To: to, Type: sms.MfaVerification, Code: "654321"}); err != nil {
				t.Fatal(err)
			}
			for _, r := range f.requests() {
				if r.Body["number"] == to {
					if got := r.Body["text"]; got != tt.want {
						t.Errorf("got %q, want %q", got, tt.want)
					}
					return
				}
			}
			t.Fatal("request not received")
		})
	}
}

func TestSMSAeroTemplateNotFound(t *testing.T) {
	t.Parallel()
	f := newFakeAero(t, http.StatusOK, "")
	a := newAero(t, mockConfig(), sms.WithEndpoint(f.endpoint()))
	for _, typ := range []sms.UsageType{sms.OrganizationInvitation, sms.MfaVerification, sms.BindMfa,
		sms.BindNewIdentifier, sms.UserPermissionValidation, "Test", ""} {
		t.Run(string(typ), func(t *testing.T) {
			t.Parallel()
			err := a.Send(t.Context(), sms.Message{To: "1", Type: typ, Code: "123456"})
			if !errors.Is(err, sms.ErrTemplateNotFound) {
				t.Fatalf("got %v, want ErrTemplateNotFound", err)
			}
			if want := "sms: cannot find template for type: " + string(typ); err.Error() != want {
				t.Errorf("got %q, want %q", err.Error(), want)
			}
		})
	}
	t.Cleanup(func() {
		if n := len(f.requests()); n != 0 {
			t.Errorf("gateway got %d requests, want 0", n)
		}
	})
}

func TestSMSAeroHTTPErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name     string
		status   int
		body     string
		wantBody string
		wantMsg  string
	}{
		{"400 with body", 400, "some error body", "some error body", "sms: smsaero: HTTP 400 Bad Request: some error body"},
		{"401 echoing key", 401, `{"message":"bad key ` + testAPIKey + `"}`, `{"message":"bad key [REDACTED]"}`, ""},
		{"echoing basic credentials", 403, "got " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testAPIKey)), "got [REDACTED]", ""},
		{"500 empty", 500, "", "", "sms: smsaero: HTTP 500 Internal Server Error"},
		{"302 not followed", 302, "moved", "moved", ""},
		{"body capped", 502, long, long[:4096], ""},
		{"key straddling the cap", 400, strings.Repeat("y", 4090) + testAPIKey, strings.Repeat("y", 4090) + "[REDAC", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAero(t, tt.status, tt.body)
			a := newAero(t, mockConfig(), sms.WithEndpoint(f.endpoint()))
			err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
			var he *sms.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want *HTTPError", err)
			}
			if !errors.Is(err, sms.ErrDelivery) {
				t.Error("errors.Is(err, ErrDelivery) = false")
			}
			if he.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", he.StatusCode, tt.status)
			}
			if he.Body != tt.wantBody {
				t.Errorf("body: got %q, want %q", trim(he.Body), trim(tt.wantBody))
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("Error(): got %q, want %q", err.Error(), tt.wantMsg)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func trim(s string) string {
	if len(s) > 60 {
		return s[:30] + "..." + s[len(s)-30:]
	}
	return s
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(testEmail + ":" + testAPIKey))
	for _, secret := range []string{testAPIKey, basic, "Authorization"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q contains %q", s, secret)
		}
	}
}

func TestSMSAeroAny2xxIsSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
	}{
		{200, `{"success":true,"data":{"id":1}}`},
		{200, `{"success":false,"message":"ignored, as in the connector"}`},
		{200, ""},
		{201, "not json"},
		{202, strings.Repeat("z", 100000)},
		{204, ""},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			f := newFakeAero(t, tt.status, tt.body)
			a := newAero(t, mockConfig(), sms.WithEndpoint(f.endpoint()))
			if err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.Register, Code: "123456"}); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestSMSAeroTransportError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL + "/v2/sms/send"
	srv.Close()
	a := newAero(t, mockConfig(), sms.WithEndpoint(endpoint))
	err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
	if !errors.Is(err, sms.ErrDelivery) {
		t.Fatalf("got %v, want ErrDelivery", err)
	}
	var he *sms.HTTPError
	if errors.As(err, &he) {
		t.Error("transport error is an *HTTPError")
	}
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Errorf("cause is not a net.Error: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "sms: smsaero: send: ") {
		t.Errorf("got %q", err.Error())
	}
	assertNoSecret(t, err.Error())
}

func TestSMSAeroContextCanceled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	a := newAero(t, mockConfig(), sms.WithEndpoint(srv.URL))

	t.Run("already canceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := a.Send(ctx, sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
		if !errors.Is(err, context.Canceled) || !errors.Is(err, sms.ErrDelivery) {
			t.Fatalf("got %v, want context.Canceled and ErrDelivery", err)
		}
		assertNoSecret(t, err.Error())
	})
	t.Run("canceled in flight", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		err := a.Send(ctx, sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		assertNoSecret(t, err.Error())
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		err := a.Send(ctx, sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestSMSAeroClientTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	a := newAero(t, mockConfig(), sms.WithEndpoint(srv.URL), sms.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	start := time.Now()
	err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, want a timeout net.Error", err)
	}
	if !errors.Is(err, sms.ErrDelivery) {
		t.Error("errors.Is(err, ErrDelivery) = false")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	assertNoSecret(t, err.Error())
}

func TestNewSMSAeroEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{sms.DefaultSMSAeroEndpoint, true},
		{"https://example.com/send", true},
		{"http://127.0.0.1:8080/v2/sms/send", true},
		{"http://[::1]:8080/x", true},
		{"http://localhost:1/x", true},
		{"http://gate.smsaero.ru/v2/sms/send", false},
		{"https://user:pass@gate.smsaero.ru/v2/sms/send", false},
		{"https://gate.smsaero.ru/v2/sms/send?x=1", false},
		{"https://gate.smsaero.ru/v2/sms/send#f", false},
		{"ftp://gate.smsaero.ru/", false},
		{"/v2/sms/send", false},
		{"", false},
		{"://", false},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			t.Parallel()
			_, err := sms.NewSMSAero(mockConfig(), sms.WithEndpoint(tt.endpoint))
			if tt.ok && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !tt.ok {
				var ce *sms.ConfigError
				if !errors.As(err, &ce) || ce.Field != "endpoint" || !errors.Is(err, sms.ErrInvalidConfig) {
					t.Fatalf("got %v, want an endpoint ConfigError", err)
				}
			}
		})
	}
}

func TestNewSMSAeroValidatesAndCopies(t *testing.T) {
	t.Parallel()
	cfg := mockConfig()
	cfg.Email = ""
	if _, err := sms.NewSMSAero(cfg); !errors.Is(err, sms.ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}

	f := newFakeAero(t, http.StatusOK, "")
	cfg = mockConfig()
	a := newAero(t, cfg, sms.WithEndpoint(f.endpoint()), nil, sms.WithHTTPClient(nil))
	cfg.Templates[0].Content = "mutated {{code}}"
	if err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "1"}); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].Body["text"]; got != "sign-in 1" {
		t.Errorf("got %q: the connector shares the caller's templates", got)
	}
}

func TestSMSAeroConcurrentSends(t *testing.T) {
	t.Parallel()
	f := newFakeAero(t, http.StatusOK, "")
	a := newAero(t, mockConfig(), sms.WithEndpoint(f.endpoint()))
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- a.Send(t.Context(), sms.Message{To: strings.Repeat("1", i+1), Type: sms.SignIn, Code: "123456"})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(f.requests()); got != n {
		t.Errorf("got %d requests, want %d", got, n)
	}
}

func TestSMSAeroDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	target := newFakeAero(t, http.StatusOK, "")
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.endpoint(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	a := newAero(t, mockConfig(), sms.WithEndpoint(redirector.URL))
	err := a.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
	var he *sms.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("got %v, want HTTPError 307", err)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}
