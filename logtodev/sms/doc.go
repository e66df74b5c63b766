// Package sms delivers verification codes by SMS for the Logto-like
// development provider, the way Logto's SMS connectors do.
//
// A [Connector] has one method, Send, taking a [Message]: the recipient as
// Logto passes it (international digits, no '+'), the [UsageType] (Logto's
// template type: SignIn, Register, ForgotPassword, Generic,
// OrganizationInvitation, UserPermissionValidation, BindNewIdentifier,
// MfaVerification, BindMfa) and the 6-digit code. Codes themselves (their
// expiry, tries and rate limits) are the provider's business, not this
// package's.
//
// # Connectors
//
// [Console] is the default. It prints one line per message,
//
//	SMS to 15551234567: Your Logto sign-in verification code is 123456. The code will remain active for 10 minutes.
//
// using Logto's default templates (Generic for an unknown type), keeps the
// last message per number for [Console.LastCode], and can also write
// connector-mock-sms's record file ([WithRecordFile]), the JSON line
// {"phone":...,"code":...,"type":...,"payload":{"code":...}} that Logto's
// integration tests read.
//
// [SMSAero] mirrors @logto/connector-smsaero 1.5.4 and really sends SMS
// through https://smsaero.ru.
//
// [LoadConnector] picks one from a spec string such as the value of a
// LOGTO_DEV_SMS variable: "" or "console", "console:<record-file>",
// "smsaero:<config.json>" or any path ending in .json.
//
// # SMS Aero configuration
//
// The config file is the connector's JSON config ([SMSAeroConfig]):
//
//	{
//	  "email": "you@example.com",
//	  "apiKey": "<key from https://smsaero.ru/cabinet/settings/apikey/>",
//	  "senderName": "SMSAero",
//	  "templates": [
//	    {"usageType": "SignIn", "content": "Your Logto sign-in verification code is {{code}}. The code will remain active for 10 minutes."},
//	    {"usageType": "Register", "content": "..."},
//	    {"usageType": "ForgotPassword", "content": "..."},
//	    {"usageType": "Generic", "content": "..."}
//	  ]
//	}
//
// Every field is required, email must be one bare e-mail address, and
// templates must cover Register, SignIn, ForgotPassword and Generic. Those
// four are all the connector demands, but there is no fallback to Generic:
// a message whose type has no template fails with [ErrTemplateNotFound], so
// MFA by SMS needs MfaVerification and BindMfa templates too.
// [DefaultTemplates] returns all nine of Logto's defaults.
//
// Templates use connector-kit's placeholder rule: {{ key }} or {{key.path}},
// matched by /{{\s*([\w.]+)\s*}}/. The payload is {"code": <code>}, so
// {{code}} and {{ code }} become the code, {{code.x}} becomes "" (the root
// key exists, the path does not), and {{anything_else}} stays as written.
//
// # The SMS Aero request
//
// [SMSAero.Send] makes exactly one request, without retries:
//
//	POST https://gate.smsaero.ru/v2/sms/send
//	Authorization: Basic base64(<email>:<apiKey>)
//	Content-Type: application/json
//
//	{"number":"79991234567","sign":"<senderName>","text":"<rendered template>"}
//
// The number is sent unchanged and there is no query string. Any 2xx answer
// is success, without reading the body; anything else is an [*HTTPError]
// holding the status and up to 4 KiB of the body. Unlike the connector, the
// default HTTP client times out after 10 seconds and does not follow
// redirects; [WithHTTPClient] replaces it and [WithEndpoint] points at a
// local fake in tests.
//
// # Secrets
//
// The API key never appears in an error message, in fmt output of an
// [SMSAeroConfig] or [SMSAero] (%v, %+v, %s, %#v) or in their log/slog
// values; gateway answers that echo it are redacted. encoding/json still
// marshals the real key, so a config round-trips.
//
// README: https://github.com/logto-go/logto#the-dev-provider-and-sms
package sms
