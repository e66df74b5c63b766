package sms_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtodev/sms"
)

// configErrors returns the *ConfigError values inside err.
func configErrors(err error) []*sms.ConfigError {
	var out []*sms.ConfigError
	var walk func(error)
	walk = func(err error) {
		if ce, ok := err.(*sms.ConfigError); ok {
			out = append(out, ce)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

func TestValidate(t *testing.T) {
	t.Parallel()
	with := func(f func(*sms.SMSAeroConfig)) sms.SMSAeroConfig {
		c := mockConfig()
		f(&c)
		return c
	}
	drop := func(types ...sms.UsageType) sms.SMSAeroConfig {
		return with(func(c *sms.SMSAeroConfig) {
			var kept []sms.Template
			for _, tpl := range c.Templates {
				if !strings.Contains(fmt.Sprint(types), string(tpl.UsageType)) {
					kept = append(kept, tpl)
				}
			}
			c.Templates = kept
		})
	}
	tests := []struct {
		name string
		cfg  sms.SMSAeroConfig
		want []sms.ConfigError // nil = valid
	}{
		{"valid mock config", mockConfig(), nil},
		{"valid with all defaults", with(func(c *sms.SMSAeroConfig) { c.Templates = sms.DefaultTemplates() }), nil},
		{"valid with extra free-form type", with(func(c *sms.SMSAeroConfig) {
			c.Templates = append(c.Templates, sms.Template{UsageType: "Test", Content: ""})
		}), nil},
		{"missing email", with(func(c *sms.SMSAeroConfig) { c.Email = "" }), []sms.ConfigError{{"email", "required"}}},
		{"missing apiKey", with(func(c *sms.SMSAeroConfig) { c.APIKey = "" }), []sms.ConfigError{{"apiKey", "required"}}},
		{"missing senderName", with(func(c *sms.SMSAeroConfig) { c.SenderName = "" }), []sms.ConfigError{{"senderName", "required"}}},
		{"missing templates", with(func(c *sms.SMSAeroConfig) { c.Templates = nil }), []sms.ConfigError{
			{"templates", "template with usage type (Register, SignIn, ForgotPassword, Generic) should be provided"}}},
		{"missing SignIn and Generic", drop(sms.Generic, sms.SignIn), []sms.ConfigError{
			{"templates", "template with usage type (SignIn, Generic) should be provided"}}},
		{"missing ForgotPassword", drop(sms.ForgotPassword), []sms.ConfigError{
			{"templates", "template with usage type (ForgotPassword) should be provided"}}},
		{"usage type is case sensitive", with(func(c *sms.SMSAeroConfig) { c.Templates[1].UsageType = "register" }), []sms.ConfigError{
			{"templates", "template with usage type (Register) should be provided"}}},
		{"everything missing", sms.SMSAeroConfig{}, []sms.ConfigError{
			{"email", "required"}, {"apiKey", "required"}, {"senderName", "required"},
			{"templates", "template with usage type (Register, SignIn, ForgotPassword, Generic) should be provided"}}},
	}
	badEmails := []string{"not-an-email", "a@", "@b.c", "Name <a@b.c>", "<a@b.c>", " a@b.c", "a@b.c ",
		"a@b.c, d@e.f", "a@b.c (comment)", `"a:b"@c.d`}
	for _, e := range badEmails {
		tests = append(tests, struct {
			name string
			cfg  sms.SMSAeroConfig
			want []sms.ConfigError
		}{"bad email " + e, with(func(c *sms.SMSAeroConfig) { c.Email = e }), []sms.ConfigError{{Field: "email"}}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, sms.ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
			got := configErrors(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors (%v), want %d", len(got), err, len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].Field != w.Field || (w.Reason != "" && got[i].Reason != w.Reason) {
					t.Errorf("error %d: got %s: %s, want %s: %s", i, got[i].Field, got[i].Reason, w.Field, w.Reason)
				}
			}
			if strings.Contains(err.Error(), testAPIKey) {
				t.Errorf("error contains the API key: %v", err)
			}
		})
	}
}

func TestParseSMSAeroConfig(t *testing.T) {
	t.Parallel()
	valid := `{"email":"test@test.com","apiKey":"api-key-5ecret-Value","senderName":"sender-name","templates":[
		{"usageType":"SignIn","content":"sign-in {{code}}"},{"usageType":"Register","content":"register {{code}}"},
		{"usageType":"ForgotPassword","content":"forgot {{code}}"},
		{"usageType":"Generic","content":"This is for testing purposes only. Your verification code is {{code}}."}]}`
	replace := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("%q not in the valid config", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	tests := []struct {
		name   string
		json   string
		fields []string // fields of the expected ConfigErrors; nil = valid
	}{
		{"valid", valid, nil},
		{"unknown keys ignored", replace(`{"email"`, `{"extra":{"x":[1]},"Email":"ignored","email"`), nil},
		{"unknown template keys ignored", replace(`{"usageType":"SignIn"`, `{"id":3,"usageType":"SignIn"`), nil},
		{"surrounding whitespace", "\n " + valid + "\n", nil},
		{"missing email", replace(`"email":"test@test.com",`, ``), []string{"email"}},
		{"wrong-case key is not the key", replace(`"email"`, `"EMAIL"`), []string{"email"}},
		{"null email", replace(`"test@test.com"`, `null`), []string{"email"}},
		{"numeric apiKey", replace(`"api-key-5ecret-Value"`, `12345`), []string{"apiKey"}},
		{"empty senderName", replace(`"sender-name"`, `""`), []string{"senderName"}},
		{"templates not an array", replace(`"templates":[`, `"templates":{"a":[`) + "}", []string{"templates"}},
		{"templates null", `{"email":"a@b.c","apiKey":"k","senderName":"s","templates":null}`, []string{"templates"}},
		{"template not an object", replace(`{"usageType":"SignIn","content":"sign-in {{code}}"}`, `"SignIn"`), []string{"templates[0]"}},
		{"template missing content", replace(`,"content":"sign-in {{code}}"`, ``), []string{"templates[0].content"}},
		{"template null usageType", replace(`"usageType":"Register"`, `"usageType":null`), []string{"templates[1].usageType"}},
		{"missing templates named in order", `{"email":"a@b.c","apiKey":"k","senderName":"s","templates":[]}`, []string{"templates"}},
		{"several problems", `{"email":1,"apiKey":[],"senderName":"s","templates":[]}`, []string{"email", "apiKey"}},
		{"not JSON", `email=a@b.c`, []string{"config"}},
		{"truncated", valid[:40], []string{"config"}},
		{"trailing data", valid + `{}`, []string{"config"}},
		{"array", `[]`, []string{"config"}},
		{"null", `null`, []string{"config"}},
		{"empty", ``, []string{"config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := sms.ParseSMSAeroConfig([]byte(tt.json))
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if cfg.Email != testEmail || cfg.APIKey != testAPIKey || cfg.SenderName != testSender || len(cfg.Templates) != 4 {
					t.Errorf("got %#v", cfg)
				}
				return
			}
			if !errors.Is(err, sms.ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
			var got []string
			for _, ce := range configErrors(err) {
				got = append(got, ce.Field)
			}
			if !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("fields: got %q, want %q (%v)", got, tt.fields, err)
			}
			if !reflect.DeepEqual(cfg, sms.SMSAeroConfig{}) {
				t.Errorf("config not zero on error: %v", cfg)
			}
			if strings.Contains(err.Error(), testAPIKey) {
				t.Errorf("error contains the API key: %v", err)
			}
		})
	}
}

func TestParseSMSAeroConfigMissingTemplatesMessage(t *testing.T) {
	t.Parallel()
	_, err := sms.ParseSMSAeroConfig([]byte(`{"email":"a@b.c","apiKey":"k","senderName":"s",
		"templates":[{"usageType":"SignIn","content":"{{code}}"},{"usageType":"Generic","content":"{{code}}"}]}`))
	want := "sms: invalid config: templates: template with usage type (Register, ForgotPassword) should be provided"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := mockConfig()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"apiKey":"`+testAPIKey+`"`)) {
		t.Errorf("MarshalJSON must keep the real key: %s", data)
	}
	got, err := sms.ParseSMSAeroConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("got %#v, want %#v", got, cfg)
	}
}

func TestConfigRedaction(t *testing.T) {
	t.Parallel()
	cfg := mockConfig()
	a := newAero(t, cfg)
	var logBuf bytes.Buffer
	text := slog.New(slog.NewTextHandler(&logBuf, nil))
	text.Info("cfg", "config", cfg, "ptr", &cfg, "connector", a)
	jsonLog := slog.New(slog.NewJSONHandler(&logBuf, nil))
	jsonLog.Info("cfg", "config", cfg, "connector", a)

	outputs := map[string]string{
		"%v cfg":  fmt.Sprintf("%v", cfg),
		"%+v cfg": fmt.Sprintf("%+v", cfg),
		//lint:ignore S1025 the %s verb itself is under test
		"%s cfg":    fmt.Sprintf("%s", cfg),
		"%#v cfg":   fmt.Sprintf("%#v", cfg),
		"%v &cfg":   fmt.Sprintf("%v", &cfg),
		"%+v a":     fmt.Sprintf("%+v", a),
		"%#v a":     fmt.Sprintf("%#v", a),
		"%v in []":  fmt.Sprint([]sms.SMSAeroConfig{cfg}),
		"slog":      logBuf.String(),
		"Println a": fmt.Sprintln(a),
	}
	for name, out := range outputs {
		if strings.Contains(out, testAPIKey) {
			t.Errorf("%s leaks the API key: %s", name, out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s has no [REDACTED] marker: %s", name, out)
		}
		if !strings.Contains(out, testEmail) {
			t.Errorf("%s lost the e-mail: %s", name, out)
		}
	}
	if got, want := cfg.String(), "{Email:test@test.com APIKey:[REDACTED] SenderName:sender-name Templates:[SignIn Register ForgotPassword Generic]}"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
	if !strings.Contains(logBuf.String(), `config.apiKey=[REDACTED]`) {
		t.Errorf("slog text output: %s", logBuf.String())
	}
}
