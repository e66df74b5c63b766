// Package seal encrypts and authenticates small values for cookies with
// gorilla/securecookie (AES-256-CTR + HMAC-SHA256, encrypt-then-MAC, cookie name
// and timestamp under the MAC), using keys derived from a secret with HKDF.
package seal

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// ErrInvalid means a value could not be opened: tampered, truncated, expired,
// sealed with an unknown key, for another name or purpose, or not JSON.
var ErrInvalid = errors.New("seal: invalid value")

// maxSealedLength caps what a Codec accepts before decoding anything.
const maxSealedLength = 64 << 10

// Codec seals and opens JSON values bound to a cookie name.
type Codec struct {
	codecs []securecookie.Codec
}

// New returns a Codec whose keys are derived from each secret (the first seals,
// all open) and bound to purpose, e.g. "session|<appID>". Different purposes
// never open each other's values. maxAge is the real-time age limit enforced by
// securecookie's signed timestamp (0 disables it).
func New(secrets []string, purpose string, maxAge time.Duration) (*Codec, error) {
	c := &Codec{}
	for _, s := range secrets {
		hashKey, err := hkdf.Key(sha256.New, []byte(s), nil, "logto-go|hmac|"+purpose, 32)
		if err != nil {
			return nil, err
		}
		blockKey, err := hkdf.Key(sha256.New, []byte(s), nil, "logto-go|aes|"+purpose, 32)
		if err != nil {
			return nil, err
		}
		sc := securecookie.New(hashKey, blockKey)
		sc.SetSerializer(securecookie.JSONEncoder{})
		sc.MaxAge(int(maxAge / time.Second))
		sc.MaxLength(maxSealedLength)
		c.codecs = append(c.codecs, sc)
	}
	if len(c.codecs) == 0 {
		return nil, errors.New("seal: no secret")
	}
	return c, nil
}

// NewBinary is New for []byte values, sealed as they are (no JSON).
func NewBinary(secrets []string, purpose string, maxAge time.Duration) (*Codec, error) {
	c, err := New(secrets, purpose, maxAge)
	if err != nil {
		return nil, err
	}
	for _, sc := range c.codecs {
		sc.(*securecookie.SecureCookie).SetSerializer(securecookie.NopEncoder{})
	}
	return c, nil
}

// Seal encrypts and authenticates v for the cookie called name. A result
// longer than 64 KB fails with ErrTooLarge.
func (c *Codec) Seal(name string, v any) (string, error) {
	out, err := c.codecs[0].Encode(name, v)
	if err != nil && strings.Contains(err.Error(), "too long") {
		return "", ErrTooLarge
	}
	return out, err
}

// Open authenticates and decrypts value (sealed for name) into v.
func (c *Codec) Open(name, value string, v any) error {
	_, err := c.OpenIndex(name, value, v)
	return err
}

// OpenIndex is Open that also says which secret opened the value: 0 for the
// current one, more for older ones (the value should be sealed again).
func (c *Codec) OpenIndex(name, value string, v any) (int, error) {
	if value == "" || len(value) > maxSealedLength {
		return 0, ErrInvalid
	}
	for i, sc := range c.codecs {
		if err := sc.Decode(name, value, v); err == nil {
			return i, nil
		}
	}
	return 0, ErrInvalid
}
