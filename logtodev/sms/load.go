package sms

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxConfigFile caps the size of an SMS Aero config file.
const maxConfigFile = 1 << 20

// LoadConnector builds a [Connector] from a one-string spec, as a flag or an
// environment variable (LOGTO_DEV_SMS) gives it:
//
//	""  or "console"          a [Console] printing to stdout
//	"console:<record-file>"   a Console that also writes [WithRecordFile]
//	"smsaero:<config.json>"   an [SMSAero] configured from that file
//	"<anything>.json"         the same as "smsaero:<anything>.json"
//
// The config file holds connector-smsaero's JSON config (see
// [ParseSMSAeroConfig]). Any other spec is [ErrInvalidConfig].
func LoadConnector(spec string, stdout io.Writer) (Connector, error) {
	switch {
	case spec == "" || spec == "console":
		return NewConsole(stdout), nil
	case strings.HasPrefix(spec, "console:"):
		return NewConsole(stdout, WithRecordFile(strings.TrimPrefix(spec, "console:"))), nil
	case strings.HasPrefix(spec, "smsaero:"):
		return loadSMSAero(strings.TrimPrefix(spec, "smsaero:"))
	case strings.HasSuffix(strings.ToLower(spec), ".json"):
		return loadSMSAero(spec)
	}
	return nil, &ConfigError{Field: "connector", Reason: fmt.Sprintf(
		`unknown SMS connector %q: want "console", "console:<record-file>", "smsaero:<config.json>" or a path ending in .json`, spec)}
}

func loadSMSAero(path string) (*SMSAero, error) {
	if path == "" {
		return nil, &ConfigError{Field: "connector", Reason: `"smsaero:" needs a config file path`}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sms: smsaero config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("sms: smsaero config: %w", err)
	}
	if len(data) > maxConfigFile {
		return nil, fmt.Errorf("sms: smsaero config %s: %w", path, &ConfigError{Field: "config", Reason: "file larger than 1 MiB"})
	}
	cfg, err := ParseSMSAeroConfig(data)
	if err != nil {
		return nil, fmt.Errorf("sms: smsaero config %s: %w", path, err)
	}
	return NewSMSAero(cfg)
}
