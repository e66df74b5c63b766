package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
)

// ConsoleOption configures [NewConsole].
type ConsoleOption func(*Console)

// WithRecordFile makes the [Console] also write every message to path, as
// Logto's mock SMS connector writes /tmp/logto/mock_sms_record.txt: the file
// is replaced (atomically, mode 0600, parent directories created) with one
// JSON line
//
//	{"phone":"<to>","code":"<code>","type":"<type>","payload":{"code":"<code>"}}
//
// so tools written for Logto's integration tests can read codes from it.
// An empty path disables the record file.
func WithRecordFile(path string) ConsoleOption {
	return func(c *Console) { c.recordFile = path }
}

// Console is the default [Connector] for development: it "sends" a message by
// printing one line
//
//	SMS to <number>: <text>
//
// to its writer, with the text rendered from Logto's default templates
// (the Generic one for an unknown type). It also remembers the last message
// per number, for [Console.LastCode]. It is safe for concurrent use; lines
// never interleave.
type Console struct {
	mu         sync.Mutex
	w          io.Writer
	recordFile string
	last       map[string]Message
}

// NewConsole returns a Console printing to w (nil means discard).
func NewConsole(w io.Writer, opts ...ConsoleOption) *Console {
	if w == nil {
		w = io.Discard
	}
	c := &Console{w: w, last: make(map[string]Message)}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	return c
}

// Text returns the message text the Console prints for m: Logto's default
// template for m.Type (Generic for an unknown type) with {{code}} replaced.
func (c *Console) Text(m Message) string {
	tpl, ok := defaultTemplates[m.Type]
	if !ok {
		tpl = defaultTemplates[Generic]
	}
	return render(tpl, payloadOf(m))
}

// Send records m as the last message for m.To, prints its line, and rewrites
// the record file if one is configured. It fails only when ctx is already
// done (nothing is recorded) or when writing fails (the message is still
// remembered for [Console.LastCode]).
func (c *Console) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	line := fmt.Sprintf("SMS to %s: %s\n", oneLine(m.To), oneLine(c.Text(m)))

	c.mu.Lock()
	defer c.mu.Unlock()
	c.last[m.To] = m
	var errs []error
	if _, err := io.WriteString(c.w, line); err != nil {
		errs = append(errs, fmt.Errorf("sms: console: %w", err))
	}
	if c.recordFile != "" {
		if err := writeRecord(c.recordFile, m); err != nil {
			errs = append(errs, fmt.Errorf("sms: console: record file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// LastCode returns the code of the last message sent to number, and whether
// there was one. A leading '+' on number is ignored, since Logto's numbers
// have none.
func (c *Console) LastCode(number string) (string, bool) {
	m, ok := c.LastMessage(number)
	return m.Code, ok
}

// LastMessage returns the last message sent to number, and whether there was
// one. A leading '+' on number is ignored.
func (c *Console) LastMessage(number string) (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.last[number]
	if !ok {
		m, ok = c.last[strings.TrimPrefix(number, "+")]
	}
	return m, ok
}

// oneLine keeps a printed field on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// mockRecord is connector-mock-sms's record, in its key order.
type mockRecord struct {
	Phone   string            `json:"phone"`
	Code    string            `json:"code"`
	Type    UsageType         `json:"type"`
	Payload map[string]string `json:"payload"`
}

func writeRecord(path string, m Message) error {
	var b strings.Builder
	enc := json.NewEncoder(&b) // one line, newline-terminated
	enc.SetEscapeHTML(false)
	if err := enc.Encode(mockRecord{Phone: m.To, Code: m.Code, Type: m.Type, Payload: map[string]string{"code": m.Code}}); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.WriteString(b.String())
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
	}
	return werr
}
