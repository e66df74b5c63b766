package sms_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtodev/sms"
)

func FuzzParseSMSAeroConfig(f *testing.F) {
	valid, _ := json.Marshal(mockConfig())
	all := mockConfig()
	all.Templates = sms.DefaultTemplates()
	allJSON, _ := json.Marshal(all)
	for _, seed := range []string{
		string(valid),
		string(allJSON),
		`{"email":"a@b.c","apiKey":"k","senderName":"s","templates":[]}`,
		`{"email":"Name <a@b.c>","apiKey":"k","senderName":"s","templates":null}`,
		`{"email":"a@b.c","apiKey":"k","senderName":"s","templates":[{"usageType":"Register","content":""},{"usageType":"SignIn","content":""},{"usageType":"ForgotPassword","content":""},{"usageType":"Generic","content":""}]}`,
		`{"templates":[null,1,"x",{"usageType":1}]}`,
		`{"email":"\u0061@b.c","apiKey":"\ud800","senderName":"\u0000"}`,
		`{"email":"a@b.c"}{}`,
		`[]`, `null`, ``, `{`, `"x"`, `{"email":{"a":[]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := sms.ParseSMSAeroConfig(data)
		if err != nil {
			if !errors.Is(err, sms.ErrInvalidConfig) {
				t.Fatalf("error does not wrap ErrInvalidConfig: %v", err)
			}
			if !reflect.DeepEqual(cfg, sms.SMSAeroConfig{}) {
				t.Fatalf("non-zero config with error %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config fails Validate: %v", err)
		}
		if _, err := sms.NewSMSAero(cfg); err != nil {
			t.Fatalf("parsed config fails NewSMSAero: %v", err)
		}
		// Round trip through encoding/json.
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg2, err := sms.ParseSMSAeroConfig(again)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(cfg, cfg2) {
			t.Fatalf("round trip: got %#v, want %#v", cfg2, cfg)
		}
		// Redaction holds for any key that cannot be confused with other text.
		other := cfg.Email + "\x00" + cfg.SenderName
		for _, tpl := range cfg.Templates {
			other += "\x00" + string(tpl.UsageType) + "\x00" + tpl.Content
		}
		if len(cfg.APIKey) >= 8 && !strings.Contains(other, cfg.APIKey) {
			for _, out := range []string{cfg.String(), cfg.GoString()} {
				if strings.Contains(out, cfg.APIKey) {
					t.Fatalf("API key leaks: %s", out)
				}
			}
		}
	})
}
