package sms

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultSMSAeroEndpoint is connector-smsaero's endpoint constant.
const DefaultSMSAeroEndpoint = "https://gate.smsaero.ru/v2/sms/send"

// DefaultTimeout bounds one SMS Aero request made with the default HTTP
// client. The Logto connector sets none.
const DefaultTimeout = 10 * time.Second

// Option configures [NewSMSAero].
type Option func(*smsAeroOptions)

type smsAeroOptions struct {
	endpoint string
	client   *http.Client
}

// WithEndpoint replaces [DefaultSMSAeroEndpoint], for example with the URL of
// a local fake in tests. It must be an absolute https URL without user info,
// query or fragment; plain http is accepted only for loopback hosts
// (localhost, 127.0.0.0/8, ::1), so the API key never crosses a network in
// clear text.
func WithEndpoint(endpoint string) Option {
	return func(o *smsAeroOptions) { o.endpoint = endpoint }
}

// WithHTTPClient sets the client used for requests. nil means the default: a
// client with a [DefaultTimeout] timeout that does not follow redirects (a
// 3xx answer is an [*HTTPError]).
func WithHTTPClient(c *http.Client) Option {
	return func(o *smsAeroOptions) { o.client = c }
}

// SMSAero sends verification codes through the SMS Aero v2 API the way
// Logto's @logto/connector-smsaero does. It is immutable and safe for
// concurrent use. Its String, GoString and LogValue redact the API key.
type SMSAero struct {
	cfg      SMSAeroConfig
	endpoint string
	client   *http.Client
}

// NewSMSAero validates cfg (see [SMSAeroConfig.Validate]) and the options,
// and returns a connector. cfg is copied.
func NewSMSAero(cfg SMSAeroConfig, opts ...Option) (*SMSAero, error) {
	o := smsAeroOptions{endpoint: DefaultSMSAeroEndpoint}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkEndpoint(o.endpoint); err != nil {
		return nil, err
	}
	if o.client == nil {
		o.client = &http.Client{
			Timeout: DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	cfg.Templates = append([]Template(nil), cfg.Templates...)
	return &SMSAero{cfg: cfg, endpoint: o.endpoint, client: o.client}, nil
}

func checkEndpoint(endpoint string) error {
	bad := func(reason string) error { return &ConfigError{Field: "endpoint", Reason: reason} }
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return bad("not a URL")
	case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return bad("must be an absolute http(s) URL")
	case u.User != nil:
		return bad("must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return bad("must not contain a query or fragment")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return bad("plain http is only allowed for loopback hosts")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// smsAeroRequest is the JSON body, in connector-smsaero's key order.
type smsAeroRequest struct {
	Number string `json:"number"`
	Sign   string `json:"sign"`
	Text   string `json:"text"`
}

// Send renders the template for m.Type and POSTs it to SMS Aero:
//
//	POST <endpoint>
//	Authorization: Basic base64(<email>:<apiKey>)
//	Content-Type: application/json
//
//	{"number":"<m.To>","sign":"<senderName>","text":"<rendered>"}
//
// The template is the first whose UsageType equals m.Type, with no Generic
// fallback: a missing one is [ErrTemplateNotFound]. Any 2xx answer is
// success and its body is ignored (SMS Aero's own success flag is not
// checked, as in the connector). A non-2xx answer is an [*HTTPError]; a
// transport failure wraps [ErrDelivery] and its cause (such as
// context.Canceled). There are no retries.
func (s *SMSAero) Send(ctx context.Context, m Message) error {
	content, ok := s.template(m.Type)
	if !ok {
		return fmt.Errorf("%w for type: %s", ErrTemplateNotFound, m.Type)
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // like JSON.stringify
	if err := enc.Encode(smsAeroRequest{Number: m.To, Sign: s.cfg.SenderName, Text: render(content, payloadOf(m))}); err != nil {
		return fmt.Errorf("sms: smsaero: encode request: %w", err)
	}
	body.Truncate(body.Len() - 1) // Encode's trailing newline

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, &body)
	if err != nil {
		return s.transportError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(s.cfg.Email, s.cfg.APIKey)

	resp, err := s.client.Do(req)
	if err != nil {
		return s.transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Drain a little so the connection can be reused; the body is not used.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	// Read past the cap by the longest secret, so a secret straddling the
	// cut is still found and redacted.
	extra := int64(len(s.cfg.APIKey) + len(s.basicCredentials()))
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+extra))
	text := s.redact(string(raw))
	if len(text) > maxErrorBody {
		cut := maxErrorBody
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut-- // do not split a UTF-8 sequence
		}
		text = text[:cut]
	}
	return &HTTPError{StatusCode: resp.StatusCode, Body: text}
}

func (s *SMSAero) template(t UsageType) (string, bool) {
	for _, tpl := range s.cfg.Templates {
		if tpl.UsageType == t {
			return tpl.Content, true
		}
	}
	return "", false
}

func (s *SMSAero) basicCredentials() string {
	return base64.StdEncoding.EncodeToString([]byte(s.cfg.Email + ":" + s.cfg.APIKey))
}

// redact removes the API key and the Basic credentials from text.
func (s *SMSAero) redact(text string) string {
	text = strings.ReplaceAll(text, s.basicCredentials(), redacted)
	return strings.ReplaceAll(text, s.cfg.APIKey, redacted)
}

func (s *SMSAero) transportError(err error) error {
	return &deliveryError{msg: "sms: smsaero: send: " + s.redact(err.Error()), err: err}
}

// String describes s with the API key redacted.
func (s *SMSAero) String() string {
	return fmt.Sprintf("SMSAero{Endpoint:%s Config:%s}", s.endpoint, s.cfg)
}

// GoString describes s with the API key redacted.
func (s *SMSAero) GoString() string {
	return fmt.Sprintf("&sms.SMSAero{Endpoint:%q, Config:%#v}", s.endpoint, s.cfg)
}

// LogValue implements [slog.LogValuer] with the API key redacted.
func (s *SMSAero) LogValue() slog.Value {
	return slog.GroupValue(slog.String("endpoint", s.endpoint), slog.Any("config", s.cfg))
}
