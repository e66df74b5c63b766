package sms

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors. Every error this package returns matches at most one of
// them with [errors.Is]; the typed errors carry the details. No error message
// contains the SMS Aero API key or the Authorization header.
var (
	// ErrInvalidConfig: an SMS Aero config or a connector spec was rejected.
	// See [ConfigError]. Logto answers 400 connector.invalid_config.
	ErrInvalidConfig = errors.New("sms: invalid config")
	// ErrTemplateNotFound: the config has no template for the message's
	// usage type (there is no Generic fallback). The full message reads
	// "sms: cannot find template for type: <type>". Logto answers 400
	// connector.template_not_found.
	ErrTemplateNotFound = errors.New("sms: cannot find template")
	// ErrDelivery: the SMS gateway could not be reached, or answered with a
	// non-2xx status (then the error is also an [*HTTPError]). Context
	// cancellation and timeouts stay visible to errors.Is through it.
	ErrDelivery = errors.New("sms: delivery failed")
)

// ConfigError names the config field that was rejected. It never holds the
// field's value.
type ConfigError struct {
	Field  string // JSON name, e.g. "email" or "templates[2].content"
	Reason string
}

// Error names the field and the reason, never a credential.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("sms: invalid config: %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// maxErrorBody caps how much of a non-2xx response body is kept.
const maxErrorBody = 4 << 10

// HTTPError is a non-2xx answer from the SMS gateway (connector-smsaero's
// ConnectorError(General, rawBody)). It matches [ErrDelivery].
type HTTPError struct {
	StatusCode int
	// Body is the response body, at most 4 KiB, with any occurrence of the
	// API key (or of the Basic credentials) replaced by "[REDACTED]".
	Body string
}

// Error names the status (and SMS Aero's message), never a credential.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("sms: smsaero: HTTP %d", e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		msg += " " + t
	}
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrDelivery) true.
func (e *HTTPError) Unwrap() error { return ErrDelivery }

// deliveryError is a transport failure: its message has secrets scrubbed,
// and it unwraps to both ErrDelivery and the cause (for context.Canceled,
// context.DeadlineExceeded, net.Error).
type deliveryError struct {
	msg string
	err error
}

func (e *deliveryError) Error() string   { return e.msg }
func (e *deliveryError) Unwrap() []error { return []error{ErrDelivery, e.err} }
