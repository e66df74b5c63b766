package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/logto-go/logto/logtotest"
)

// maxConfigFile caps the size of a -config file.
const maxConfigFile = 1 << 20

// fileConfig is the -config file: logtotest.Options in JSON (camelCase keys,
// matched exactly), plus the listen address, the SMS connector and
// registration. Every key is optional; an unknown key is an error.
type fileConfig struct {
	Addr                string               `json:"addr"`
	URL                 string               `json:"url"`
	SMS                 string               `json:"sms"`
	DisableRegistration bool                 `json:"disableRegistration"`
	Apps                []configApp          `json:"apps"`
	Users               []configUser         `json:"users"`
	Resources           []configResource     `json:"resources"`
	Roles               []configRole         `json:"roles"`
	Organizations       []configOrganization `json:"organizations"`

	// set records the keys present at the top level, so that an empty
	// "users": [] (no users) differs from no "users" key (the default user).
	set map[string]bool
}

// configApp is a [logtotest.App].
type configApp struct {
	ID                     string   `json:"id"`
	Secret                 string   `json:"secret"`
	Name                   string   `json:"name"`
	RedirectURIs           []string `json:"redirectUris"`
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris"`
	Public                 bool     `json:"public"`
}

// configUser is a [logtotest.User].
type configUser struct {
	ID                string         `json:"id"`
	Username          string         `json:"username"`
	Name              string         `json:"name"`
	Email             string         `json:"email"`
	Phone             string         `json:"phone"`
	Picture           string         `json:"picture"`
	Password          string         `json:"password"`
	Roles             []string       `json:"roles"`
	Organizations     []string       `json:"organizations"`
	OrganizationRoles []string       `json:"organizationRoles"`
	CustomData        map[string]any `json:"customData"`
}

// configResource is a [logtotest.Resource].
type configResource struct {
	Indicator string   `json:"indicator"`
	Scopes    []string `json:"scopes"`
}

// configRole is a [logtotest.Role].
type configRole struct {
	Name   string              `json:"name"`
	Scopes map[string][]string `json:"scopes"`
}

// configOrganization is a [logtotest.Organization].
type configOrganization struct {
	ID          string                   `json:"id"`
	Name        string                   `json:"name"`
	Description string                   `json:"description"`
	Roles       []configOrganizationRole `json:"roles"`
}

// configOrganizationRole is a [logtotest.OrganizationRole].
type configOrganizationRole struct {
	Name           string              `json:"name"`
	Scopes         []string            `json:"scopes"`
	ResourceScopes map[string][]string `json:"resourceScopes"`
}

// loadConfig reads, decodes and validates the config file at path. Errors
// name the file and the key or entry at fault, and never quote a secret.
func loadConfig(path string) (*fileConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > maxConfigFile {
		return nil, fmt.Errorf("config %s: file larger than 1 MiB", path)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if cfg.SMS, err = resolveSMSPath(cfg.SMS, filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig decodes data strictly (see [decodeObject]) and validates it.
func parseConfig(data []byte) (*fileConfig, error) {
	var probe json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset-1) // Offset is just past the bad byte
			return nil, fmt.Errorf("line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
		}
		return nil, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	cfg := &fileConfig{}
	set, err := decodeObject(data, reflect.ValueOf(cfg).Elem(), "")
	if err != nil {
		return nil, err
	}
	cfg.set = set
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// decodeObject decodes the JSON object data into the struct v by its json
// tags: keys match exactly (case-sensitive), an unknown key is an error, and
// null is never a value. Errors carry the path of the value at fault, like
// apps[0].redirectUris. It returns the keys present.
func decodeObject(data []byte, v reflect.Value, path string) (map[string]bool, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return nil, pathErr(path, "want an object")
	}
	fields := map[string]int{}
	for i := range v.NumField() {
		if tag := v.Type().Field(i).Tag.Get("json"); tag != "" {
			fields[tag] = i
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	set := map[string]bool{}
	for _, k := range keys {
		i, ok := fields[k]
		if !ok {
			return nil, pathErr(path, fmt.Sprintf("unknown field %q", k))
		}
		if err := decodeValue(obj[k], v.Field(i), join(path, k)); err != nil {
			return nil, err
		}
		set[k] = true
	}
	return set, nil
}

// decodeValue decodes data into v: structs and slices of structs through
// decodeObject, anything else with encoding/json.
func decodeValue(data []byte, v reflect.Value, path string) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return pathErr(path, "want "+describe(v.Type())+", got null")
	}
	switch {
	case v.Kind() == reflect.Struct:
		_, err := decodeObject(data, v, path)
		return err
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return pathErr(path, "want "+describe(v.Type()))
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeValue(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if err := json.Unmarshal(data, v.Addr().Interface()); err != nil {
		return pathErr(path, "want "+describe(v.Type()))
	}
	return nil
}

// describe names the JSON a Go type of the config takes.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "an array of objects"
		}
		return "an array of strings"
	case reflect.Map:
		if t.Elem().Kind() == reflect.Slice {
			return "an object of arrays of strings"
		}
		return "an object"
	}
	return "an object"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathErr(path, msg string) error {
	if path == "" {
		return errors.New(msg)
	}
	return errors.New(path + ": " + msg)
}

// resolveSMSPath makes the file of a "console:<file>", "smsaero:<file>" or
// "<file>.json" SMS spec relative to dir (the config file's directory).
func resolveSMSPath(spec, dir string) (string, error) {
	if spec == "" || spec == "console" {
		return spec, nil
	}
	prefix, file := "", spec
	if kind, rest, ok := strings.Cut(spec, ":"); ok && (kind == "console" || kind == "smsaero") {
		prefix, file = kind+":", rest
	} else if !strings.HasSuffix(strings.ToLower(spec), ".json") {
		return "", fmt.Errorf(`sms: want "console", "console:<record-file>", "smsaero:<config.json>" or a path ending in .json, got %q`, spec)
	}
	if file == "" || filepath.IsAbs(file) {
		return spec, nil
	}
	return prefix + filepath.Join(dir, file), nil
}

// validate checks what logtotest.New does not: required and unique IDs,
// URIs, phone numbers, and that every role, organization, resource and
// scope an entry names is declared. Errors name the entry, e.g.
// users[0] "alice"; several are listed one a line.
func (c *fileConfig) validate() error {
	var errs []error
	fail := func(entry, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", entry, fmt.Sprintf(format, args...)))
	}
	// declare checks that an entry's key field is set and not declared
	// before, and records it in seen.
	declare := func(seen map[string]bool, entry, field, v string) {
		switch {
		case v == "":
			fail(entry, "%s is required", field)
		case seen[v]:
			fail(entry, "%s declared twice", field)
		}
		seen[v] = true
	}

	resources := map[string][]string{}
	for i, r := range c.Resources {
		e := label("resources", i, r.Indicator)
		switch u, err := url.Parse(r.Indicator); {
		case r.Indicator == "":
			fail(e, "indicator is required")
		case err != nil || u.Scheme == "" || u.Fragment != "":
			fail(e, "indicator must be an absolute URI without a fragment")
		case resources[r.Indicator] != nil:
			fail(e, "indicator declared twice")
		}
		checkNames(e+": scopes", r.Scopes, fail)
		resources[r.Indicator] = append([]string{}, r.Scopes...)
	}
	checkScopes := func(entry string, m map[string][]string) {
		for _, ind := range sortedKeys(m) {
			declared, ok := resources[ind]
			if !ok {
				fail(entry, "resource %q is not declared in resources", ind)
				continue
			}
			for _, s := range m[ind] {
				if !slices.Contains(declared, s) {
					fail(entry, "scope %q is not a scope of resource %q", s, ind)
				}
			}
		}
	}

	roles := map[string]bool{}
	for i, r := range c.Roles {
		e := label("roles", i, r.Name)
		declare(roles, e, "name", r.Name)
		checkScopes(e+": scopes", r.Scopes)
	}

	orgRoles := map[string]map[string]bool{} // organization ID -> role names
	orgs := map[string]bool{}
	for i, o := range c.Organizations {
		e := label("organizations", i, o.ID)
		declare(orgs, e, "id", o.ID)
		names := map[string]bool{}
		for j, r := range o.Roles {
			re := e + ": " + label("roles", j, r.Name)
			declare(names, re, "name", r.Name)
			checkNames(re+": scopes", r.Scopes, fail)
			checkScopes(re+": resourceScopes", r.ResourceScopes)
		}
		orgRoles[o.ID] = names
	}

	apps := map[string]bool{}
	for i, a := range c.Apps {
		e := label("apps", i, a.ID)
		declare(apps, e, "id", a.ID)
		if a.Secret == "" && !a.Public {
			fail(e, `secret is required (or "public": true)`)
		}
		if len(a.RedirectURIs) == 0 {
			fail(e, "redirectUris is required")
		}
		checkURIs(e+": redirectUris", a.RedirectURIs, fail)
		checkURIs(e+": postLogoutRedirectUris", a.PostLogoutRedirectURIs, fail)
	}

	ids, phones, usernames, emails := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, u := range c.Users {
		e := label("users", i, u.ID)
		declare(ids, e, "id", u.ID)
		if u.Phone != "" && !validPhone(u.Phone) {
			fail(e, "phone must be 6 to 15 digits with the country code, without '+' or spaces (as Logto stores it)")
		}
		for _, f := range []struct {
			name, value string
			seen        map[string]bool
		}{{"phone", u.Phone, phones}, {"username", u.Username, usernames}, {"email", strings.ToLower(u.Email), emails}} {
			if f.value != "" && f.seen[f.value] {
				fail(e, "another user has the same %s", f.name)
			}
			f.seen[f.value] = true
		}
		for _, r := range u.Roles {
			if !roles[r] {
				fail(e, "role %q is not declared in roles", r)
			}
		}
		for _, o := range u.Organizations {
			if orgRoles[o] == nil {
				fail(e, "organization %q is not declared in organizations", o)
			}
		}
		for _, or := range u.OrganizationRoles {
			org, role, ok := strings.Cut(or, ":")
			switch {
			case !ok:
				fail(e, "organizationRoles entry %q must be \"<organization id>:<role name>\"", or)
			case !slices.Contains(u.Organizations, org):
				fail(e, "organizationRoles entry %q: the user is not a member of %q (add it to organizations)", or, org)
			case orgRoles[org] != nil && !orgRoles[org][role]:
				fail(e, "organizationRoles entry %q: organization %q has no role %q", or, org, role)
			}
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return fmt.Errorf("%d problems:\n\t%s", len(errs), strings.Join(msgs, "\n\t"))
}

// label names the i-th entry of a list, with its ID when it has one.
func label(list string, i int, id string) string {
	if id == "" {
		return fmt.Sprintf("%s[%d]", list, i)
	}
	return fmt.Sprintf("%s[%d] %q", list, i, id)
}

// checkNames checks scope names: non-empty, no whitespace, no duplicates.
func checkNames(entry string, names []string, fail func(string, string, ...any)) {
	for i, n := range names {
		switch {
		case n == "" || strings.ContainsAny(n, " \t\r\n"):
			fail(entry, "%q is not a scope name (non-empty, no spaces)", n)
		case slices.Contains(names[:i], n):
			fail(entry, "%q listed twice", n)
		}
	}
}

// checkURIs checks redirect URIs: absolute, without a fragment.
func checkURIs(entry string, uris []string, fail func(string, string, ...any)) {
	for _, s := range uris {
		if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Fragment != "" || s != strings.TrimSpace(s) {
			fail(entry, "%q is not an absolute URI without a fragment", s)
		}
	}
}

// validPhone reports whether s is 6 to 15 digits, as Logto stores numbers.
func validPhone(s string) bool {
	if len(s) < 6 || len(s) > 15 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// options maps the config onto logtotest.Options for url. Without "users"
// the provider has [logtotest.DefaultUser]; "users": [] means none.
func (c *fileConfig) options(url string) logtotest.Options {
	o := logtotest.Options{URL: url}
	for _, a := range c.Apps {
		o.Apps = append(o.Apps, logtotest.App{
			ID: a.ID, Secret: a.Secret, Name: a.Name, Public: a.Public,
			RedirectURIs: a.RedirectURIs, PostLogoutRedirectURIs: a.PostLogoutRedirectURIs,
		})
	}
	if c.set["users"] {
		o.Users = []logtotest.User{}
	}
	for _, u := range c.Users {
		o.Users = append(o.Users, logtotest.User{
			ID: u.ID, Username: u.Username, Name: u.Name, Email: u.Email, Phone: u.Phone,
			Picture: u.Picture, Password: u.Password, Roles: u.Roles, Organizations: u.Organizations,
			OrganizationRoles: u.OrganizationRoles, CustomData: u.CustomData,
		})
	}
	for _, r := range c.Resources {
		o.Resources = append(o.Resources, logtotest.Resource{Indicator: r.Indicator, Scopes: r.Scopes})
	}
	for _, r := range c.Roles {
		o.Roles = append(o.Roles, logtotest.Role{Name: r.Name, Scopes: r.Scopes})
	}
	for _, org := range c.Organizations {
		lo := logtotest.Organization{ID: org.ID, Name: org.Name, Description: org.Description}
		for _, r := range org.Roles {
			lo.Roles = append(lo.Roles, logtotest.OrganizationRole{Name: r.Name, Scopes: r.Scopes, ResourceScopes: r.ResourceScopes})
		}
		o.Organizations = append(o.Organizations, lo)
	}
	return o
}
