package sms_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/logto-go/logto/logtodev/sms"
)

const (
	testEmail  = "test@test.com"
	testAPIKey = "api-key-5ecret-Value"
	testSender = "sender-name"
)

// mockConfig is connector-smsaero's src/mock.ts config: 4 templates.
func mockConfig() sms.SMSAeroConfig {
	return sms.SMSAeroConfig{
		Email:      testEmail,
		APIKey:     testAPIKey,
		SenderName: testSender,
		Templates: []sms.Template{
			{UsageType: sms.SignIn, Content: "sign-in {{code}}"},
			{UsageType: sms.Register, Content: "register {{code}}"},
			{UsageType: sms.ForgotPassword, Content: "forgot {{code}}"},
			{UsageType: sms.Generic, Content: "This is for testing purposes only. Your verification code is {{code}}."},
		},
	}
}

// captured is one request the fake SMS Aero gateway received.
type captured struct {
	Method, Path, RawQuery, ContentType string
	User, Pass                          string
	BasicOK                             bool
	Body                                map[string]any
	RawBody                             string
}

// fakeAero is a local SMS Aero gateway answering status and body.
type fakeAero struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
}

func newFakeAero(t *testing.T, status int, body string) *fakeAero {
	t.Helper()
	f := &fakeAero{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		c := captured{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), RawBody: string(raw)}
		c.User, c.Pass, c.BasicOK = r.BasicAuth()
		_ = json.Unmarshal(raw, &c.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, c)
		f.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAero) endpoint() string { return f.URL + "/v2/sms/send" }

func (f *fakeAero) requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.reqs...)
}

func newAero(t *testing.T, cfg sms.SMSAeroConfig, opts ...sms.Option) *sms.SMSAero {
	t.Helper()
	a, err := sms.NewSMSAero(cfg, opts...)
	if err != nil {
		t.Fatalf("NewSMSAero: %v", err)
	}
	return a
}
