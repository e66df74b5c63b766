package sms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
)

// redacted replaces secrets in String, GoString, LogValue and error bodies.
const redacted = "[REDACTED]"

// SMSAeroConfig is the config of Logto's @logto/connector-smsaero, in the
// same JSON shape. All fields are required.
//
// APIKey is a secret: String, GoString (fmt's %v, %+v, %s, %#v) and LogValue
// (log/slog) print "[REDACTED]" instead. MarshalJSON is not overridden, so
// encoding/json still writes the real key and a config round-trips; treat
// marshalled configs as secrets.
type SMSAeroConfig struct {
	// Email is the SMS Aero account e-mail, the Basic auth user name. It must
	// be a single bare address ("user@example.com", no display name).
	Email string `json:"email"`
	// APIKey is the key from https://smsaero.ru/cabinet/settings/apikey/,
	// the Basic auth password.
	APIKey string `json:"apiKey"`
	// SenderName is sent as "sign". "SMSAero" uses the provider's default
	// sender.
	SenderName string `json:"senderName"`
	// Templates must include Register, SignIn, ForgotPassword and Generic;
	// the first template whose UsageType equals the message's type is used.
	Templates []Template `json:"templates"`
}

// Template is one message template. Content should hold a {{code}}
// placeholder.
type Template struct {
	// UsageType is a free string in the connector's schema; only templates
	// whose type equals one of the [UsageType] constants are ever used.
	UsageType UsageType `json:"usageType"`
	Content   string    `json:"content"`
}

// requiredUsageTypes are the templates connector-smsaero insists on, in the
// order its validation message lists them.
var requiredUsageTypes = []UsageType{Register, SignIn, ForgotPassword, Generic}

// ParseSMSAeroConfig decodes a connector-smsaero config from JSON and
// validates it with [SMSAeroConfig.Validate]. Keys match exactly (case
// sensitive, like zod); unknown keys are ignored; every known key must hold
// a value of the right JSON type (null is not a string). Errors wrap
// [ErrInvalidConfig], carry [*ConfigError] values (several are joined with
// [errors.Join]) and never echo the input.
func ParseSMSAeroConfig(data []byte) (SMSAeroConfig, error) {
	var cfg SMSAeroConfig
	obj, err := decodeObject(data)
	if err != nil {
		return SMSAeroConfig{}, &ConfigError{Field: "config", Reason: err.Error()}
	}
	var errs []error
	str := func(obj map[string]json.RawMessage, key, field string, dst *string) {
		raw, ok := obj[key]
		if !ok {
			return // reported by Validate as "required" where it matters
		}
		if err := decodeString(raw, dst); err != nil {
			errs = append(errs, &ConfigError{Field: field, Reason: err.Error()})
		}
	}
	str(obj, "email", "email", &cfg.Email)
	str(obj, "apiKey", "apiKey", &cfg.APIKey)
	str(obj, "senderName", "senderName", &cfg.SenderName)
	if raw, ok := obj["templates"]; ok {
		var items []json.RawMessage
		if firstByte(raw) != '[' || json.Unmarshal(raw, &items) != nil {
			errs = append(errs, &ConfigError{Field: "templates", Reason: "expected an array"})
		}
		cfg.Templates = make([]Template, 0, len(items))
		for i, item := range items {
			field := fmt.Sprintf("templates[%d]", i)
			t, err := decodeObject(item)
			if err != nil {
				errs = append(errs, &ConfigError{Field: field, Reason: err.Error()})
				continue
			}
			var tpl Template
			var usage string
			for _, k := range []string{"usageType", "content"} {
				if _, ok := t[k]; !ok {
					errs = append(errs, &ConfigError{Field: field + "." + k, Reason: "required"})
				}
			}
			str(t, "usageType", field+".usageType", &usage)
			str(t, "content", field+".content", &tpl.Content)
			tpl.UsageType = UsageType(usage)
			cfg.Templates = append(cfg.Templates, tpl)
		}
	}
	if len(errs) == 0 {
		if err := cfg.Validate(); err != nil {
			return SMSAeroConfig{}, err
		}
		return cfg, nil
	}
	if len(errs) == 1 {
		return SMSAeroConfig{}, errs[0]
	}
	return SMSAeroConfig{}, errors.Join(errs...)
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// decodeObject decodes one JSON object (and nothing after it) into its raw
// members. Its errors never quote the input.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	if firstByte(data) != '{' {
		if !json.Valid(data) {
			return nil, errors.New("malformed JSON")
		}
		return nil, errors.New("expected a JSON object")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("malformed JSON at byte %d", se.Offset)
		}
		return nil, errors.New("malformed JSON")
	}
	return obj, nil
}

func decodeString(raw json.RawMessage, dst *string) error {
	if firstByte(raw) != '"' || json.Unmarshal(raw, dst) != nil {
		return errors.New("expected a string")
	}
	return nil
}

// Validate reports every problem with c as [*ConfigError] values wrapping
// [ErrInvalidConfig] (joined with [errors.Join] when there are several):
// an empty field is "required", Email must be one bare e-mail address, and
// the templates for Register, SignIn, ForgotPassword and Generic must exist,
// the missing ones being named in that order, comma-joined, as the
// connector does: "template with usage type (SignIn, Generic) should be
// provided".
func (c SMSAeroConfig) Validate() error {
	var errs []error
	if c.Email == "" {
		errs = append(errs, &ConfigError{Field: "email", Reason: "required"})
	} else if reason := checkEmail(c.Email); reason != "" {
		errs = append(errs, &ConfigError{Field: "email", Reason: reason})
	}
	if c.APIKey == "" {
		errs = append(errs, &ConfigError{Field: "apiKey", Reason: "required"})
	}
	if c.SenderName == "" {
		errs = append(errs, &ConfigError{Field: "senderName", Reason: "required"})
	}
	var missing []string
	for _, want := range requiredUsageTypes {
		if !slices.ContainsFunc(c.Templates, func(t Template) bool { return t.UsageType == want }) {
			missing = append(missing, string(want))
		}
	}
	if len(missing) > 0 {
		errs = append(errs, &ConfigError{
			Field:  "templates",
			Reason: "template with usage type (" + strings.Join(missing, ", ") + ") should be provided",
		})
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// checkEmail returns why s is not one bare e-mail address, or "".
func checkEmail(s string) string {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "must be a single e-mail address without display name"
	}
	if strings.ContainsRune(s, ':') {
		// The Basic auth user name ends at the first colon (RFC 7617).
		return "must not contain ':'"
	}
	return ""
}

// String prints c with the API key redacted.
func (c SMSAeroConfig) String() string {
	types := make([]string, len(c.Templates))
	for i, t := range c.Templates {
		types[i] = string(t.UsageType)
	}
	return fmt.Sprintf("{Email:%s APIKey:%s SenderName:%s Templates:[%s]}",
		c.Email, redactIfSet(c.APIKey), c.SenderName, strings.Join(types, " "))
}

// GoString prints c as Go syntax with the API key redacted.
func (c SMSAeroConfig) GoString() string {
	return fmt.Sprintf("sms.SMSAeroConfig{Email:%q, APIKey:%q, SenderName:%q, Templates:%#v}",
		c.Email, redactIfSet(c.APIKey), c.SenderName, c.Templates)
}

// LogValue implements [slog.LogValuer] with the API key redacted.
func (c SMSAeroConfig) LogValue() slog.Value {
	types := make([]string, len(c.Templates))
	for i, t := range c.Templates {
		types[i] = string(t.UsageType)
	}
	return slog.GroupValue(
		slog.String("email", c.Email),
		slog.String("apiKey", redactIfSet(c.APIKey)),
		slog.String("senderName", c.SenderName),
		slog.Any("templates", types),
	)
}

func redactIfSet(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}
