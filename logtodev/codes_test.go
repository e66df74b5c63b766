package logtodev_test

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/logto-go/logto/logtodev"
	"github.com/logto-go/logto/logtodev/sms"
)

// codeStep is one action on a Codes: advance the clock, then create or
// verify ("" code = the last code created).
type codeStep struct {
	advance time.Duration
	create  bool
	uid     string // default "i1"
	phone   string // default "15550000001"
	code    string // verify only; "" = the last created, "bad" = a wrong one
	wantErr error
	left    int // TriesLeft wanted on code_mismatch
}

type codesTest struct {
	name  string
	steps []codeStep
}

func (tc codesTest) run(t *testing.T) {
	t.Parallel()
	c := newClock()
	codes := logtodev.NewCodes(c.Now)
	last := map[string]string{}
	for i, s := range tc.steps {
		c.Advance(s.advance)
		uid, phone := s.uid, s.phone
		if uid == "" {
			uid = "i1"
		}
		if phone == "" {
			phone = "15550000001"
		}
		if s.create {
			code, err := codes.Create(uid, phone, sms.SignIn)
			if !errors.Is(err, s.wantErr) || (err == nil) != (s.wantErr == nil) {
				t.Fatalf("step %d: Create error %v, want %v", i, err, s.wantErr)
			}
			if err == nil {
				if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) {
					t.Fatalf("step %d: code %q, want 6 digits", i, code)
				}
				last[uid] = code
			}
			continue
		}
		code := s.code
		switch code {
		case "":
			code = last[uid]
		case "bad":
			code = fmt.Sprintf("%06d", (atoi(last[uid])+1)%1000000)
		}
		typ, err := codes.Verify(uid, phone, code)
		if s.wantErr == nil {
			if err != nil || typ != sms.SignIn {
				t.Fatalf("step %d: Verify = %q, %v; want SignIn, nil", i, typ, err)
			}
			continue
		}
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("step %d: Verify error %v, want %v", i, err, s.wantErr)
		}
		var ce *logtodev.CodeError
		if errors.Is(err, logtodev.ErrCodeMismatch) && (!errors.As(err, &ce) || ce.TriesLeft != s.left) {
			t.Fatalf("step %d: %v, want %d tries left", i, err, s.left)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func repeat(n int, s codeStep) []codeStep {
	out := make([]codeStep, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func wrongTries(from, to int) []codeStep {
	var out []codeStep
	for left := from; left >= to; left-- {
		out = append(out, codeStep{code: "bad", wantErr: logtodev.ErrCodeMismatch, left: left})
	}
	return out
}

// TestCodes checks Logto's passcode rules with an injected clock.
func TestCodes(t *testing.T) {
	t.Parallel()
	create := codeStep{create: true}
	for _, tc := range []codesTest{
		{"success consumes the code", []codeStep{create, {}, {wantErr: logtodev.ErrCodeNotFound}}},
		{"not found", []codeStep{{code: "123456", wantErr: logtodev.ErrCodeNotFound}}},
		{"other interaction", []codeStep{create, {uid: "i2", code: "123456", wantErr: logtodev.ErrCodeNotFound}}},
		{"phone mismatch", []codeStep{create, {phone: "15550000002", wantErr: logtodev.ErrPhoneMismatch}, {}}},
		{"valid at 10 minutes", []codeStep{create, {advance: logtodev.CodeTTL}}},
		{"expired after 10 minutes", []codeStep{create, {advance: logtodev.CodeTTL + time.Second, wantErr: logtodev.ErrCodeExpired}}},
		{"phone mismatch before expired", []codeStep{create, {advance: time.Hour, phone: "15550000002", wantErr: logtodev.ErrPhoneMismatch}}},
		{"wrong code counts tries", append(append([]codeStep{create}, wrongTries(9, 5)...), codeStep{})},
		{"10 tries then exceed_max_try", append(append([]codeStep{create}, wrongTries(9, 0)...),
			codeStep{wantErr: logtodev.ErrCodeExceedMaxTry})},
		{"expired before exceed_max_try", append(append([]codeStep{create}, wrongTries(9, 0)...),
			codeStep{advance: logtodev.CodeTTL + time.Second, wantErr: logtodev.ErrCodeExpired})},
		{"11th send in 10 minutes is rate limited", append(repeat(10, create),
			codeStep{create: true, wantErr: logtodev.ErrRateLimited},
			codeStep{create: true, uid: "i2", wantErr: logtodev.ErrRateLimited},
			codeStep{create: true, phone: "15550000002"})},
		{"rate limit is a sliding window", append(append(repeat(5, create), codeStep{advance: 5 * time.Minute}), append(repeat(5, create),
			codeStep{create: true, wantErr: logtodev.ErrRateLimited},
			codeStep{advance: 5 * time.Minute, create: true},
			codeStep{})...)},
		{"rate limited send keeps the previous code", append(repeat(10, create),
			codeStep{create: true, wantErr: logtodev.ErrRateLimited}, codeStep{})},
		{"new code resets tries", append(append([]codeStep{create}, wrongTries(9, 0)...), create, codeStep{})},
	} {
		t.Run(tc.name, tc.run)
	}
}

// TestCodesReplace: a new send replaces the previous code of the
// interaction, whatever its number.
func TestCodesReplace(t *testing.T) {
	t.Parallel()
	codes := logtodev.NewCodes(nil)
	old, _ := codes.Create("i1", "15550000001", sms.SignIn)
	code, _ := codes.Create("i1", "15550000001", sms.Register)
	if old != code {
		if _, err := codes.Verify("i1", "15550000001", old); !errors.Is(err, logtodev.ErrCodeMismatch) {
			t.Errorf("old code: %v, want code_mismatch", err)
		}
	}
	if typ, err := codes.Verify("i1", "15550000001", code); err != nil || typ != sms.Register {
		t.Errorf("new code: %q, %v", typ, err)
	}
	codes.Create("i1", "15550000001", sms.SignIn)
	code, _ = codes.Create("i1", "15550000002", sms.SignIn)
	if _, err := codes.Verify("i1", "15550000001", code); !errors.Is(err, logtodev.ErrPhoneMismatch) {
		t.Errorf("first number after sending to another: %v, want phone_mismatch", err)
	}
}

func TestCodeErrorIs(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("wrapped: %w", &logtodev.CodeError{Code: "verification_code.code_mismatch", TriesLeft: 3})
	if !errors.Is(err, logtodev.ErrCodeMismatch) || errors.Is(err, logtodev.ErrCodeExpired) {
		t.Errorf("errors.Is mismatch for %v", err)
	}
	if logtodev.ErrRateLimited.Status != http.StatusTooManyRequests || logtodev.ErrCodeExpired.Status != http.StatusBadRequest {
		t.Error("wrong statuses")
	}
}

// TestCodeRulesOnPages checks the verification rules through the pages.
func TestCodeRulesOnPages(t *testing.T) {
	t.Parallel()
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		_, page := h.start(nil)
		r := h.sendCode(csrf(t, page), demoPhone, "sign-in")
		h.clock.Advance(logtodev.CodeTTL + time.Second)
		mustContain(t, h.verifyCode(csrf(t, r), demoPhone, h.lastCode(demoPhone)), http.StatusBadRequest,
			"The code has expired. Request a new one.", "Resend code")
		// Resend and sign in.
		r = h.sendCode(csrf(t, r), demoPhone, "sign-in")
		h.finish(h.verifyCode(csrf(t, r), demoPhone, h.lastCode(demoPhone)))
	})
	t.Run("10 tries", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		_, page := h.start(nil)
		token := csrf(t, page)
		h.sendCode(token, demoPhone, "sign-in")
		code := h.lastCode(demoPhone)
		bad := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
		for left := 9; left >= 0; left-- {
			want := fmt.Sprintf("The code is incorrect. You have %d tries left.", left)
			switch left {
			case 1:
				want = "The code is incorrect. You have 1 try left."
			case 0:
				want = "The code is incorrect. Request a new code."
			}
			mustContain(t, h.verifyCode(token, demoPhone, bad), http.StatusBadRequest, want)
		}
		mustContain(t, h.verifyCode(token, demoPhone, code), http.StatusBadRequest, "Too many incorrect attempts. Request a new code.")
	})
	t.Run("rate limit", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		_, page := h.start(nil)
		token := csrf(t, page)
		for range logtodev.MaxSends {
			mustContain(t, h.sendCode(token, demoPhone, "sign-in"), http.StatusOK, "Enter the 6-digit code")
		}
		mustContain(t, h.sendCode(token, demoPhone, "sign-in"), http.StatusTooManyRequests,
			"Too many codes sent to this number. Try again in a few minutes.")
		if n := h.smsCount(demoPhone); n != logtodev.MaxSends {
			t.Errorf("%d SMS sent, want %d", n, logtodev.MaxSends)
		}
		h.clock.Advance(logtodev.SendWindow)
		r := h.sendCode(token, demoPhone, "sign-in")
		h.finish(h.verifyCode(csrf(t, r), demoPhone, h.lastCode(demoPhone)))
	})
	t.Run("new send replaces old code", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		_, page := h.start(nil)
		token := csrf(t, page)
		h.sendCode(token, demoPhone, "sign-in")
		old := h.lastCode(demoPhone)
		h.sendCode(token, demoPhone, "sign-in")
		code := h.lastCode(demoPhone)
		if old != code {
			mustContain(t, h.verifyCode(token, demoPhone, old), http.StatusBadRequest, "The code is incorrect. You have 9 tries left.")
		}
		h.finish(h.verifyCode(token, demoPhone, code))
	})
	t.Run("phone mismatch", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		_, page := h.start(nil)
		token := csrf(t, page)
		h.sendCode(token, demoPhone, "sign-in")
		mustContain(t, h.verifyCode(token, "15550000002", h.lastCode(demoPhone)), http.StatusBadRequest,
			"The code was sent to a different number. Request a new code.")
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		_, page := h.start(nil)
		mustContain(t, h.verifyCode(csrf(t, page), demoPhone, "123456"), http.StatusBadRequest, "No code was sent to this number yet.")
	})
}
