// Package claimsparse reads the claims of a Logto ID token on the SDK's
// per-request path without encoding/json's cost: the flat shapes Logto
// emits (strings, numbers, booleans, null, arrays of strings), every string
// field a substring of the one string it is given. Anything it is unsure
// about (escapes in strings, nested values in typed fields, unusual numbers)
// it declines, and the caller uses encoding/json, which stays the reference:
// it never accepts what encoding/json rejects (a differential fuzz test in
// the SDK keeps the two in agreement).
package claimsparse

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Claims are the typed claims of a Logto ID token.
type Claims struct {
	Iss, Sub            string
	Aud                 []string
	Exp, Iat            int64
	Nonce               string
	AuthTime            int64
	AtHash, Sid, Azp    string
	Name, Username      string
	PreferredUsername   string
	Picture             string
	CreatedAt           int64
	UpdatedAt           int64
	Email               string
	EmailVerified       bool
	PhoneNumber         string
	PhoneNumberVerified bool
	Roles               []string
	Organizations       []string
	OrganizationRoles   []string
}

// Parse reads s, a JWT payload. ok is false when s is not a claim set it
// reads: the caller then decodes it with encoding/json.
func Parse(s string) (c Claims, ok bool) {
	if !utf8.ValidString(s) {
		return Claims{}, false
	}
	sc := claimScanner{s: s}
	if err := sc.object(&c); err != nil {
		return Claims{}, false
	}
	sc.space()
	if sc.pos != len(sc.s) {
		return Claims{}, false
	}
	return c, true
}

// errSlowPath declines: the caller falls back to encoding/json.
var errSlowPath = errors.New("slow path")

type claimScanner struct {
	s   string // the payload: every string field is a substring of it
	pos int
}

func (sc *claimScanner) space() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

func (sc *claimScanner) expect(b byte) error {
	sc.space()
	if sc.pos >= len(sc.s) || sc.s[sc.pos] != b {
		return errSlowPath
	}
	sc.pos++
	return nil
}

// str reads a string without escapes (an escape means the slow path).
func (sc *claimScanner) str() (string, error) {
	if err := sc.expect('"'); err != nil {
		return "", err
	}
	start := sc.pos
	for sc.pos < len(sc.s) {
		switch ch := sc.s[sc.pos]; {
		case ch == '"':
			v := sc.s[start:sc.pos]
			sc.pos++
			return v, nil
		case ch == '\\' || ch < 0x20:
			return "", errSlowPath
		}
		sc.pos++
	}
	return "", errSlowPath
}

// literal reports which of true, false, null or a number comes next and
// returns its text.
func (sc *claimScanner) literal() (string, error) {
	sc.space()
	start := sc.pos
	for sc.pos < len(sc.s) {
		ch := sc.s[sc.pos]
		if ch == ',' || ch == '}' || ch == ']' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' {
			break
		}
		sc.pos++
	}
	if sc.pos == start {
		return "", errSlowPath
	}
	return sc.s[start:sc.pos], nil
}

func (sc *claimScanner) peek() byte {
	sc.space()
	if sc.pos >= len(sc.s) {
		return 0
	}
	return sc.s[sc.pos]
}

// skip passes over any JSON value, validating its structure; strings may
// hold escapes here.
func (sc *claimScanner) skip(depth int) error {
	if depth > 32 {
		return errSlowPath
	}
	switch sc.peek() {
	case '"':
		sc.pos++
		for sc.pos < len(sc.s) {
			ch := sc.s[sc.pos]
			switch {
			case ch == '\\':
				if !sc.validEscape() {
					return errSlowPath
				}
				continue
			case ch == '"':
				sc.pos++
				return nil
			case ch < 0x20:
				return errSlowPath
			}
			sc.pos++
		}
		return errSlowPath
	case '{', '[':
		open := sc.s[sc.pos]
		closer := byte('}')
		if open == '[' {
			closer = ']'
		}
		sc.pos++
		if sc.peek() == closer {
			sc.pos++
			return nil
		}
		for {
			if open == '{' {
				if sc.peek() != '"' { // an object key is a string, nothing else
					return errSlowPath
				}
				if err := sc.skip(depth + 1); err != nil { // key
					return err
				}
				if err := sc.expect(':'); err != nil {
					return err
				}
			}
			if err := sc.skip(depth + 1); err != nil {
				return err
			}
			switch sc.peek() {
			case ',':
				sc.pos++
			case closer:
				sc.pos++
				return nil
			default:
				return errSlowPath
			}
		}
	default:
		lit, err := sc.literal()
		if err != nil {
			return err
		}
		if lit != "true" && lit != "false" && lit != "null" && !validNumber(lit) {
			return errSlowPath
		}
		return nil
	}
}

// validEscape checks the escape at pos (a backslash) and moves past it.
func (sc *claimScanner) validEscape() bool {
	if sc.pos+1 >= len(sc.s) {
		return false
	}
	switch sc.s[sc.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		sc.pos += 2
		return true
	case 'u':
		if sc.pos+6 > len(sc.s) {
			return false
		}
		for _, h := range sc.s[sc.pos+2 : sc.pos+6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return false
			}
		}
		sc.pos += 6
		return true
	}
	return false
}

// isNull consumes a null if one comes next.
func (sc *claimScanner) isNull() bool {
	sc.space()
	if len(sc.s)-sc.pos >= 4 && sc.s[sc.pos:sc.pos+4] == "null" {
		end := sc.pos + 4
		if end == len(sc.s) || sc.s[end] == ',' || sc.s[end] == '}' || sc.s[end] == ' ' || sc.s[end] == '\n' || sc.s[end] == '\t' || sc.s[end] == '\r' {
			sc.pos = end
			return true
		}
	}
	return false
}

func (sc *claimScanner) strField(dst *string) error {
	if sc.isNull() {
		*dst = ""
		return nil
	}
	v, err := sc.str()
	*dst = v
	return err
}

func (sc *claimScanner) intField(dst *int64) error {
	if sc.isNull() {
		return nil
	}
	lit, err := sc.literal()
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || !validNumber(lit) {
		return errSlowPath // floats, exponents: let encoding/json decide
	}
	*dst = n
	return nil
}

func (sc *claimScanner) boolField(dst *bool) error {
	if sc.isNull() {
		return nil
	}
	lit, err := sc.literal()
	switch {
	case err != nil:
		return err
	case lit == "true":
		*dst = true
	case lit == "false":
		*dst = false
	default:
		return errSlowPath
	}
	return nil
}

func (sc *claimScanner) strList(dst *[]string) error {
	if sc.isNull() {
		*dst = nil
		return nil
	}
	if err := sc.expect('['); err != nil {
		return err
	}
	list := []string{}
	if sc.peek() == ']' {
		sc.pos++
		*dst = list
		return nil
	}
	for {
		v, err := sc.str()
		if err != nil {
			return err
		}
		list = append(list, v)
		switch sc.peek() {
		case ',':
			sc.pos++
		case ']':
			sc.pos++
			*dst = list
			return nil
		default:
			return errSlowPath
		}
	}
}

func (sc *claimScanner) audience(c *Claims) error {
	if sc.isNull() {
		c.Aud = nil
		return nil
	}
	if sc.peek() == '"' {
		v, err := sc.str()
		c.Aud = []string{v}
		return err
	}
	var list []string
	if err := sc.strList(&list); err != nil {
		return err
	}
	c.Aud = list
	return nil
}

func (sc *claimScanner) object(c *Claims) error {
	if err := sc.expect('{'); err != nil {
		return err
	}
	if sc.peek() == '}' {
		sc.pos++
		return nil
	}
	for {
		key, err := sc.str()
		if err != nil {
			return err
		}
		if err := sc.expect(':'); err != nil {
			return err
		}
		switch key {
		case "iss":
			err = sc.strField(&c.Iss)
		case "sub":
			err = sc.strField(&c.Sub)
		case "aud":
			err = sc.audience(c)
		case "exp":
			err = sc.intField(&c.Exp)
		case "iat":
			err = sc.intField(&c.Iat)
		case "nonce":
			err = sc.strField(&c.Nonce)
		case "auth_time":
			err = sc.intField(&c.AuthTime)
		case "at_hash":
			err = sc.strField(&c.AtHash)
		case "sid":
			err = sc.strField(&c.Sid)
		case "azp":
			err = sc.strField(&c.Azp)
		case "name":
			err = sc.strField(&c.Name)
		case "username":
			err = sc.strField(&c.Username)
		case "preferred_username":
			err = sc.strField(&c.PreferredUsername)
		case "picture":
			err = sc.strField(&c.Picture)
		case "created_at":
			err = sc.intField(&c.CreatedAt)
		case "updated_at":
			err = sc.intField(&c.UpdatedAt)
		case "email":
			err = sc.strField(&c.Email)
		case "email_verified":
			err = sc.boolField(&c.EmailVerified)
		case "phone_number":
			err = sc.strField(&c.PhoneNumber)
		case "phone_number_verified":
			err = sc.boolField(&c.PhoneNumberVerified)
		case "roles":
			err = sc.strList(&c.Roles)
		case "organizations":
			err = sc.strList(&c.Organizations)
		case "organization_roles":
			err = sc.strList(&c.OrganizationRoles)
		default:
			err = sc.skip(0)
		}
		if err != nil {
			return err
		}
		switch sc.peek() {
		case ',':
			sc.pos++
		case '}':
			sc.pos++
			return nil
		default:
			return errSlowPath
		}
	}
}

// validNumber is JSON's number grammar.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}
