package sms_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logto-go/logto/logtodev/sms"
)

func TestLoadConnector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "smsaero.json")
	data, _ := json.Marshal(mockConfig())
	if err := os.WriteFile(good, data, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"email":"x","apiKey":"`+testAPIKey+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	noExt := filepath.Join(dir, "config")
	if err := os.WriteFile(noExt, data, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec    string
		console bool
		aero    bool
		wantErr error
	}{
		{"", true, false, nil},
		{"console", true, false, nil},
		{"console:" + filepath.Join(dir, "rec.txt"), true, false, nil},
		{"smsaero:" + good, false, true, nil},
		{good, false, true, nil},
		{"smsaero:" + noExt, false, true, nil},
		{"smsaero:" + bad, false, false, sms.ErrInvalidConfig},
		{bad, false, false, sms.ErrInvalidConfig},
		{"smsaero:" + filepath.Join(dir, "missing.json"), false, false, fs.ErrNotExist},
		{"smsaero:", false, false, sms.ErrInvalidConfig},
		{"twilio", false, false, sms.ErrInvalidConfig},
		{noExt, false, false, sms.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			c, err := sms.LoadConnector(tt.spec, &out)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testAPIKey) {
					t.Errorf("error leaks the API key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := c.(*sms.Console); ok != tt.console {
				t.Errorf("got %T, want a Console: %v", c, tt.console)
			}
			if _, ok := c.(*sms.SMSAero); ok != tt.aero {
				t.Errorf("got %T, want an SMSAero: %v", c, tt.aero)
			}
			if tt.console {
				if err := c.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "123456"}); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(out.String(), "SMS to 1: ") {
					t.Errorf("stdout: %q", out.String())
				}
			}
		})
	}
	// The parallel subtests run after this function returns; check then.
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(dir, "rec.txt")); err != nil {
			t.Errorf("record file not written: %v", err)
		}
	})
}
