package logtodev

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/logto-go/logto/logtodev/sms"
)

// Logto's verification code policy (logto-server.md section 7.6).
const (
	// CodeLength is the number of digits of a verification code.
	CodeLength = 6
	// CodeTTL is how long a code stays valid after it was created.
	CodeTTL = 10 * time.Minute
	// MaxCodeTries is how many wrong codes may be entered before the code
	// is dead ([ErrCodeExceedMaxTry]).
	MaxCodeTries = 10
	// MaxSends is how many codes one phone number may be sent within
	// SendWindow ([ErrRateLimited]).
	MaxSends = 10
	// SendWindow is the sliding window of the send rate limit.
	SendWindow = 10 * time.Minute
)

// CodeError is a verification code failure, named like Logto's error codes
// (verification_code.* and request.message_rate_limited). Compare with the
// sentinels using [errors.Is]: two CodeErrors match when their Code is the
// same.
type CodeError struct {
	// Code is Logto's error code, e.g. "verification_code.expired".
	Code string
	// Status is the HTTP status Logto answers with: 400, or 429 for
	// request.message_rate_limited.
	Status int
	// TriesLeft is, for verification_code.code_mismatch, how many more
	// attempts the code allows.
	TriesLeft int
}

// Error says why the verification code was refused.
func (e *CodeError) Error() string {
	if e.Code == ErrCodeMismatch.Code {
		return "logtodev: " + e.Code + " (" + strconv.Itoa(e.TriesLeft) + " tries left)"
	}
	return "logtodev: " + e.Code
}

// Is reports whether target is a *CodeError with the same Code.
func (e *CodeError) Is(target error) bool {
	t, ok := target.(*CodeError)
	return ok && t.Code == e.Code
}

// Sentinel verification code errors. [Codes.Verify] checks them in this
// order, like Logto.
var (
	ErrCodeNotFound     = &CodeError{Code: "verification_code.not_found", Status: http.StatusBadRequest}
	ErrPhoneMismatch    = &CodeError{Code: "verification_code.phone_mismatch", Status: http.StatusBadRequest}
	ErrCodeExpired      = &CodeError{Code: "verification_code.expired", Status: http.StatusBadRequest}
	ErrCodeExceedMaxTry = &CodeError{Code: "verification_code.exceed_max_try", Status: http.StatusBadRequest}
	ErrCodeMismatch     = &CodeError{Code: "verification_code.code_mismatch", Status: http.StatusBadRequest}
	// ErrRateLimited is returned by [Codes.Create] for the 11th code sent to
	// one number within SendWindow.
	ErrRateLimited = &CodeError{Code: "request.message_rate_limited", Status: http.StatusTooManyRequests}
)

// Codes issues and checks phone verification codes the way Logto's passcode
// library does: 6 random digits, valid for [CodeTTL], [MaxCodeTries] wrong
// attempts, at most [MaxSends] per number per [SendWindow]. There is at most
// one live code per interaction: a new one replaces the previous unconsumed
// code (whatever its number). A Codes is safe for concurrent use.
type Codes struct {
	now func() time.Time

	mu    sync.Mutex
	codes map[string]*code       // by interaction ID
	sends map[string][]time.Time // send times by phone number
}

type code struct {
	phone     string
	typ       sms.UsageType
	value     string
	expiresAt time.Time
	tries     int
}

// NewCodes returns an empty Codes using now as its clock (nil = time.Now).
func NewCodes(now func() time.Time) *Codes {
	if now == nil {
		now = time.Now
	}
	return &Codes{now: now, codes: make(map[string]*code), sends: make(map[string][]time.Time)}
}

// Create makes a new code of type typ for phone in the interaction
// interactionID, replacing that interaction's previous code, and returns it
// for delivery. It fails with [ErrRateLimited] when phone was already sent
// MaxSends codes within the last SendWindow; the previous code then stays.
func (c *Codes) Create(interactionID, phone string, typ sms.UsageType) (string, error) {
	value, err := randomDigits(CodeLength)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.sweepLocked(now)
	recent := c.sends[phone]
	if len(recent) >= MaxSends {
		return "", ErrRateLimited
	}
	c.sends[phone] = append(recent, now)
	c.codes[interactionID] = &code{phone: phone, typ: typ, value: value, expiresAt: now.Add(CodeTTL)}
	return value, nil
}

// Pending returns the phone number of the interaction's live code.
func (c *Codes) Pending(interactionID string) (phone string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cd := c.codes[interactionID]
	if cd == nil || c.now().After(cd.expiresAt) {
		return "", false
	}
	return cd.phone, true
}

// Verify checks value against the code of interactionID, in Logto's order:
// [ErrCodeNotFound], [ErrPhoneMismatch], [ErrCodeExpired],
// [ErrCodeExceedMaxTry], then a *CodeError matching [ErrCodeMismatch] (which
// counts a try and says how many are left). On success the code is consumed
// and its usage type returned.
func (c *Codes) Verify(interactionID, phone, value string) (sms.UsageType, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cd := c.codes[interactionID]
	switch {
	case cd == nil:
		return "", ErrCodeNotFound
	case cd.phone != phone:
		return "", ErrPhoneMismatch
	case c.now().After(cd.expiresAt):
		return "", ErrCodeExpired
	case cd.tries >= MaxCodeTries:
		return "", ErrCodeExceedMaxTry
	case subtle.ConstantTimeCompare([]byte(value), []byte(cd.value)) != 1:
		cd.tries++
		return "", &CodeError{Code: ErrCodeMismatch.Code, Status: ErrCodeMismatch.Status, TriesLeft: MaxCodeTries - cd.tries}
	}
	delete(c.codes, interactionID)
	return cd.typ, nil
}

// sweepLocked forgets send times outside the window and codes long expired
// (kept an hour, the interaction lifetime, so they still read as expired).
func (c *Codes) sweepLocked(now time.Time) {
	for phone, times := range c.sends {
		i := 0
		for i < len(times) && !times[i].After(now.Add(-SendWindow)) {
			i++
		}
		if i == len(times) {
			delete(c.sends, phone)
		} else if i > 0 {
			c.sends[phone] = append([]time.Time(nil), times[i:]...)
		}
	}
	for id, cd := range c.codes {
		if now.After(cd.expiresAt.Add(time.Hour)) {
			delete(c.codes, id)
		}
	}
}

// randomDigits returns n uniformly random decimal digits from crypto/rand.
func randomDigits(n int) (string, error) {
	return randomString(n, "0123456789")
}

// randomString returns n characters drawn uniformly from alphabet
// (at most 256 characters) with crypto/rand, by rejection sampling.
func randomString(n int, alphabet string) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
