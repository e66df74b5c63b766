package sms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/logto-go/logto/logtodev/sms"
)

func TestConsoleLine(t *testing.T) {
	t.Parallel()
	const tail = " The code will remain active for 10 minutes.\n"
	tests := []struct {
		typ  sms.UsageType
		want string
	}{
		{sms.SignIn, "SMS to 15551234567: Your Logto sign-in verification code is 123456." + tail},
		{sms.Register, "SMS to 15551234567: Your Logto sign-up verification code is 123456." + tail},
		{sms.ForgotPassword, "SMS to 15551234567: Your Logto password change verification code is 123456." + tail},
		{sms.Generic, "SMS to 15551234567: Your Logto verification code is 123456." + tail},
		{sms.OrganizationInvitation, "SMS to 15551234567: Your Logto organization invitation code is 123456." + tail},
		{sms.UserPermissionValidation, "SMS to 15551234567: Your Logto permission validation code is 123456." + tail},
		{sms.BindNewIdentifier, "SMS to 15551234567: Your Logto bind new identifier code is 123456." + tail},
		{sms.MfaVerification, "SMS to 15551234567: Your Logto MFA verification code is 123456." + tail},
		{sms.BindMfa, "SMS to 15551234567: Your Logto add 2-step verification code is 123456." + tail},
		{"Test", "SMS to 15551234567: Your Logto verification code is 123456." + tail},
		{"", "SMS to 15551234567: Your Logto verification code is 123456." + tail},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			c := sms.NewConsole(&buf)
			if err := c.Send(t.Context(), sms.Message{To: "15551234567", Type: tt.typ, Code: "123456"}); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConsoleOneLineOnly(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := sms.NewConsole(&buf)
	if err := c.Send(t.Context(), sms.Message{To: "1\n2", Type: sms.SignIn, Code: "12\r\n34\u2028"}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 || strings.ContainsAny(buf.String(), "\r\u2028") {
		t.Errorf("got %q, want one line", buf.String())
	}
	if code, _ := c.LastCode("1\n2"); code != "12\r\n34\u2028" {
		t.Errorf("LastCode altered the code: %q", code)
	}
}

func TestConsoleLastCode(t *testing.T) {
	t.Parallel()
	c := sms.NewConsole(nil)
	send := func(to, code string, typ sms.UsageType) {
		if err := c.Send(t.Context(), sms.Message{To: to, Type: typ, Code: code}); err != nil {
			t.Fatal(err)
		}
	}
	send("15550000001", "111111", sms.SignIn)
	send("15550000002", "222222", sms.Register)
	send("15550000001", "333333", sms.MfaVerification)

	tests := []struct {
		number string
		code   string
		ok     bool
	}{
		{"15550000001", "333333", true},
		{"+15550000001", "333333", true},
		{"15550000002", "222222", true},
		{"15550000003", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		code, ok := c.LastCode(tt.number)
		if code != tt.code || ok != tt.ok {
			t.Errorf("LastCode(%q) = %q, %v; want %q, %v", tt.number, code, ok, tt.code, tt.ok)
		}
	}
	m, ok := c.LastMessage("15550000001")
	if want := (sms.Message{To: "15550000001", Type: sms.MfaVerification, Code: "333333"}); !ok || m != want {
		t.Errorf("LastMessage = %+v, %v; want %+v", m, ok, want)
	}
}

func TestConsoleCanceledContext(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := sms.NewConsole(&buf)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Send(ctx, sms.Message{To: "1", Type: sms.SignIn, Code: "123456"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, ok := c.LastCode("1"); ok || buf.Len() != 0 {
		t.Error("a canceled send was recorded")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestConsoleWriteErrorStillRemembers(t *testing.T) {
	t.Parallel()
	c := sms.NewConsole(failingWriter{})
	err := c.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "123456"})
	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("got %v, want the write error", err)
	}
	if code, ok := c.LastCode("1"); !ok || code != "123456" {
		t.Errorf("LastCode = %q, %v", code, ok)
	}
}

func TestConsoleConcurrent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer // not safe by itself: the Console must serialize writes
	c := sms.NewConsole(&buf, sms.WithRecordFile(filepath.Join(t.TempDir(), "rec.txt")))
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			to := fmt.Sprintf("1555%07d", i)
			code := fmt.Sprintf("%06d", i)
			if err := c.Send(t.Context(), sms.Message{To: to, Type: sms.SignIn, Code: code}); err != nil {
				t.Error(err)
			}
			if got, ok := c.LastCode(to); !ok || got != code {
				t.Errorf("LastCode(%s) = %q, %v", to, got, ok)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("got %d lines, want %d", len(lines), n)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "SMS to 1555") || !strings.HasSuffix(l, "The code will remain active for 10 minutes.") {
			t.Errorf("malformed line %q", l)
		}
	}
}

func TestConsoleRecordFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "logto", "mock_sms_record.txt") // parent created
	c := sms.NewConsole(nil, sms.WithRecordFile(path))
	for _, m := range []sms.Message{
		{To: "15551230000", Type: sms.Register, Code: "000000"},
		{To: "15551234567", Type: sms.SignIn, Code: "123456"},
	} {
		if err := c.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"phone":"15551234567","code":"123456","type":"SignIn","payload":{"code":"123456"}}` + "\n"
	if string(data) != want {
		t.Errorf("got %q, want %q (overwritten, one line)", data, want)
	}

	// Key order as in Logto's mock SMS connector (and the captured record).
	dec := json.NewDecoder(bytes.NewReader(data))
	var keys []string
	_, _ = dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		_ = dec.Decode(&skip)
	}
	if got, want := fmt.Sprint(keys), "[phone code type payload]"; got != want {
		t.Errorf("keys: got %v, want %v", got, want)
	}

	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode: got %o, want 600", perm)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestConsoleRecordFileError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c := sms.NewConsole(&buf, sms.WithRecordFile(filepath.Join(blocker, "rec.txt")))
	if err := c.Send(t.Context(), sms.Message{To: "1", Type: sms.SignIn, Code: "123456"}); err == nil {
		t.Fatal("got nil, want the record file error")
	}
	if buf.Len() == 0 {
		t.Error("the console line was not printed")
	}
	if _, ok := c.LastCode("1"); !ok {
		t.Error("the code was not remembered")
	}
}

func TestConsoleText(t *testing.T) {
	t.Parallel()
	c := sms.NewConsole(nil)
	got := c.Text(sms.Message{Type: sms.BindMfa, Code: "42"})
	if want := "Your Logto add 2-step verification code is 42. The code will remain active for 10 minutes."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDefaultTemplates(t *testing.T) {
	t.Parallel()
	got := sms.DefaultTemplates()
	want := []sms.UsageType{sms.SignIn, sms.Register, sms.ForgotPassword, sms.OrganizationInvitation, sms.Generic,
		sms.UserPermissionValidation, sms.BindNewIdentifier, sms.MfaVerification, sms.BindMfa}
	if len(got) != len(want) {
		t.Fatalf("got %d templates, want %d", len(got), len(want))
	}
	for i, tpl := range got {
		if tpl.UsageType != want[i] || !strings.Contains(tpl.Content, "{{code}}") {
			t.Errorf("template %d: %+v", i, tpl)
		}
	}
	got[0].Content = "mutated"
	if sms.DefaultTemplates()[0].Content == "mutated" {
		t.Error("DefaultTemplates returns shared state")
	}
}
