package sms

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// UsageType is Logto's template type (TemplateType in @logto/connector-kit):
// the reason a verification code is sent. It selects the message template.
type UsageType string

// The template types Logto core can ask a connector for.
const (
	SignIn                   UsageType = "SignIn"
	Register                 UsageType = "Register"
	ForgotPassword           UsageType = "ForgotPassword"
	Generic                  UsageType = "Generic"
	OrganizationInvitation   UsageType = "OrganizationInvitation"
	UserPermissionValidation UsageType = "UserPermissionValidation"
	BindNewIdentifier        UsageType = "BindNewIdentifier"
	MfaVerification          UsageType = "MfaVerification"
	BindMfa                  UsageType = "BindMfa"
)

// Message is one verification code to deliver.
type Message struct {
	// To is the recipient's phone number as Logto passes it: international
	// digits only, without a leading '+' (for example "79991234567").
	// Connectors send it unchanged.
	To string
	// Type selects the template.
	Type UsageType
	// Code is the verification code, 6 digits in Logto.
	Code string
}

// Connector delivers verification codes. Implementations are safe for
// concurrent use.
type Connector interface {
	// Send delivers m or returns why it could not.
	Send(ctx context.Context, m Message) error
}

// Compile-time interface checks.
var (
	_ Connector = (*Console)(nil)
	_ Connector = (*SMSAero)(nil)
)

// defaultTemplates are the default template contents of Logto's SMS
// connectors (the Console form's defaultValue in connector-smsaero's
// src/constant.ts).
var defaultTemplates = map[UsageType]string{
	SignIn:                   "Your Logto sign-in verification code is {{code}}. The code will remain active for 10 minutes.",
	Register:                 "Your Logto sign-up verification code is {{code}}. The code will remain active for 10 minutes.",
	ForgotPassword:           "Your Logto password change verification code is {{code}}. The code will remain active for 10 minutes.",
	OrganizationInvitation:   "Your Logto organization invitation code is {{code}}. The code will remain active for 10 minutes.",
	Generic:                  "Your Logto verification code is {{code}}. The code will remain active for 10 minutes.",
	UserPermissionValidation: "Your Logto permission validation code is {{code}}. The code will remain active for 10 minutes.",
	BindNewIdentifier:        "Your Logto bind new identifier code is {{code}}. The code will remain active for 10 minutes.",
	MfaVerification:          "Your Logto MFA verification code is {{code}}. The code will remain active for 10 minutes.",
	BindMfa:                  "Your Logto add 2-step verification code is {{code}}. The code will remain active for 10 minutes.",
}

// DefaultTemplates returns Logto's 9 default SMS templates, in the order of
// the connector's default config. A copy: callers may modify it, for example
// as the Templates of an [SMSAeroConfig].
func DefaultTemplates() []Template {
	order := []UsageType{SignIn, Register, ForgotPassword, OrganizationInvitation, Generic,
		UserPermissionValidation, BindNewIdentifier, MfaVerification, BindMfa}
	out := make([]Template, len(order))
	for i, t := range order {
		out[i] = Template{UsageType: t, Content: defaultTemplates[t]}
	}
	return out
}

// handlebars is connector-kit's /{{\s*([\w.]+)\s*}}/g. JavaScript's \s is
// wider than RE2's, so it is spelled out; \w is ASCII in both.
var handlebars = regexp.MustCompile(`\{\{[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]*([\w.]+)[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]*\}\}`)

// render is connector-kit's replaceSendMessageHandlebars: a placeholder whose
// root key is absent from payload is left unchanged; one whose root key is
// present becomes the value at its dotted path, or "" when the path does not
// resolve. Only payload's own keys count (JavaScript's `in` would also see
// Object.prototype members such as "constructor").
func render(template string, payload map[string]any) string {
	matches := handlebars.FindAllStringSubmatchIndex(template, -1)
	if matches == nil {
		return template
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(template[last:m[0]])
		last = m[1]
		key := template[m[2]:m[3]]
		root, _, _ := strings.Cut(key, ".")
		if _, ok := payload[root]; !ok || root == "" {
			b.WriteString(template[m[0]:m[1]])
			continue
		}
		b.WriteString(lookup(payload, key))
	}
	b.WriteString(template[last:])
	return b.String()
}

// lookup is connector-kit's getValue followed by String(value ?? "").
func lookup(payload map[string]any, path string) string {
	var cur any = payload
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = obj[part]
	}
	switch v := cur.(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]any:
		return "[object Object]"
	default:
		return fmt.Sprint(v)
	}
}

// payloadOf is the payload Logto core builds for an SMS: {code}.
func payloadOf(m Message) map[string]any {
	return map[string]any{"code": m.Code}
}
