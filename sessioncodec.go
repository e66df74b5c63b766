package logto

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
)

// The session's sealed plaintext is a compact binary record rather than
// JSON, built for the two things that matter on every request: size (a
// cookie is at most 4096 bytes, and every byte of it travels with every
// request) and the cost of answering "who is this?".
//
//	version byte (2)
//	uvarint created at (unix ms) | uvarint expires at (unix s) | uvarint seen at (unix s)
//	byte    0 | 1, bytes ID token payload (raw JSON read on every request;
//	        DEFLATE-compressed only when larger than 1536 bytes)
//	string  scope of the default access token (Context.Scopes)
//	byte    0 | 1 (rest is raw | DEFLATE)
//	bytes   rest: the ID token's header and signature, the refresh token
//	        and the access-token map, read only when a token is needed
//
// JWTs are stored as their decoded segments (the JSON and the raw
// signature), 25% smaller than base64, and the rest is compressed: the
// claims of several tokens from one issuer for one user repeat each other.
// A token whose base64 is not canonical is kept verbatim, so every token is
// reproduced byte for byte.

const sessionFormat = 2

var errSessionFormat = errors.New("logto: malformed session record")

// encodeSession serializes sess; a decoded, unchanged rest is reused as is.
func encodeSession(sess *session) ([]byte, error) {
	var payload, rest []byte
	if sess.rest != nil && !sess.expanded {
		payload, rest = sess.idPayload, sess.rest // untouched since it was read
	} else {
		kind, header, p, sig := splitJWT(sess.IDToken)
		payload = p
		if kind != tokenJWT {
			payload = lenientPayload(sess.IDToken)
		}
		var err error
		if rest, err = sess.restBytes(kind, header, sig); err != nil {
			return nil, err
		}
	}
	scope := sess.scopeOfDefaultToken()
	b := make([]byte, 0, 32+len(payload)+len(scope)+len(rest))
	b = append(b, sessionFormat)
	b = binary.AppendUvarint(b, uint64(sess.CreatedAt))
	b = binary.AppendUvarint(b, uint64(sess.ExpiresAt))
	b = binary.AppendUvarint(b, uint64(sess.SeenAt))
	if len(payload) > compressPayloadOver {
		// Large identities (hundreds of organizations or roles): compressing
		// the claims too keeps the cookies small, at some cost per request
		// that only such sessions pay.
		if comp, err := deflate(payload); err == nil && len(comp)+4 < len(payload) {
			b = append(b, restDeflate)
			b = appendBytes(b, comp)
			payload = nil
		}
	}
	if payload != nil {
		b = append(b, restRaw)
		b = appendBytes(b, payload)
	}
	b = appendBytes(b, []byte(scope))
	b = append(b, rest...)
	return b, nil
}

// lenientPayload decodes the claims of a JWT whose base64 is not canonical.
func lenientPayload(tok string) []byte {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	p, _ := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	return p
}

// restBytes builds the rest section (with its flag byte), compressed when
// that is smaller.
func (sess *session) restBytes(idKind byte, idHeader, idSig []byte) ([]byte, error) {
	raw := make([]byte, 0, 512)
	raw = append(raw, idKind)
	if idKind == tokenJWT {
		raw = appendBytes(raw, idHeader)
		raw = appendBytes(raw, idSig)
	} else {
		raw = appendBytes(raw, []byte(sess.IDToken))
	}
	raw = appendBytes(raw, []byte(sess.RefreshToken))
	raw = binary.AppendUvarint(raw, uint64(len(sess.AccessTokens)))
	for key, e := range sess.AccessTokens {
		raw = appendBytes(raw, []byte(key))
		raw = appendToken(raw, e.Token)
		raw = appendBytes(raw, []byte(e.Scope))
		raw = binary.AppendVarint(raw, e.ExpiresAt)
	}
	comp, err := deflate(raw)
	if err != nil {
		return nil, err
	}
	if len(comp) >= len(raw) { // incompressible: keep it raw
		return append([]byte{restRaw}, raw...), nil
	}
	return appendBytes([]byte{restDeflate}, comp), nil
}

// compressPayloadOver: ID token claims larger than this are compressed.
const compressPayloadOver = 1536

// deflate returns uvarint(len(raw)) followed by raw compressed.
func deflate(raw []byte) ([]byte, error) {
	var comp bytes.Buffer
	comp.Write(binary.AppendUvarint(nil, uint64(len(raw))))
	w := flateWriters.Get().(*flate.Writer)
	w.Reset(&comp)
	_, _ = w.Write(raw)
	err := w.Close()
	flateWriters.Put(w)
	return comp.Bytes(), err
}

const (
	restRaw     byte = 0
	restDeflate byte = 1

	tokenOpaque byte = 0
	tokenJWT    byte = 1
)

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.BestCompression)
	return w
}}

var flateReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// decodeSession reads the per-request part of a record; the rest stays
// sealed-in-memory until expand is called.
func decodeSession(b []byte) (*session, error) {
	if len(b) == 0 || b[0] != sessionFormat {
		return nil, errSessionFormat
	}
	r := b[1:]
	created, n := binary.Uvarint(r)
	if n <= 0 {
		return nil, errSessionFormat
	}
	r = r[n:]
	expires, n := binary.Uvarint(r)
	if n <= 0 {
		return nil, errSessionFormat
	}
	r = r[n:]
	seen, n := binary.Uvarint(r)
	if n <= 0 {
		return nil, errSessionFormat
	}
	r = r[n:]
	if len(r) == 0 {
		return nil, errSessionFormat
	}
	payloadKind := r[0]
	payload, r, ok := readBytes(r[1:])
	if !ok {
		return nil, errSessionFormat
	}
	switch payloadKind {
	case restRaw:
	case restDeflate:
		var err error
		if payload, err = inflateRest(append([]byte{restDeflate}, appendBytes(nil, payload)...)); err != nil {
			return nil, errSessionFormat
		}
	default:
		return nil, errSessionFormat
	}
	scope, r, ok := readBytes(r)
	if !ok || len(r) == 0 {
		return nil, errSessionFormat
	}
	sess := &session{
		CreatedAt: int64(created),
		ExpiresAt: int64(expires),
		SeenAt:    int64(seen),
		idPayload: payload,
		rest:      r,
	}
	// One string holds the claims and the scope: every string field of the
	// Context is a substring of it (this runs on every request).
	var sb strings.Builder
	sb.Grow(len(payload) + len(scope))
	sb.Write(payload)
	sb.Write(scope)
	all := sb.String()
	sess.defaultScope = all[len(payload):]
	if sess.defaultScope != "" {
		sess.scopeList = strings.Fields(sess.defaultScope)
	}
	if c, ok := parseClaims(all[:len(payload)], payload); ok {
		sess.claims = c
	} else {
		claims, err := parseIDTokenClaims(payload)
		if err != nil {
			return nil, errSessionFormat
		}
		sess.claims = claims
	}
	if sess.claims.Sub == "" {
		return nil, errSessionFormat
	}
	return sess, nil
}

// expand decodes the rest section: tokens become available.
func (sess *session) expand() error {
	if sess.expanded || sess.rest == nil {
		return nil
	}
	raw, err := inflateRest(sess.rest)
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return errSessionFormat
	}
	kind := raw[0]
	raw = raw[1:]
	switch kind {
	case tokenJWT:
		header, r, ok := readBytes(raw)
		if !ok {
			return errSessionFormat
		}
		sig, r, ok := readBytes(r)
		if !ok {
			return errSessionFormat
		}
		sess.IDToken = joinJWT(header, sess.idPayload, sig)
		raw = r
	case tokenOpaque:
		tok, r, ok := readBytes(raw)
		if !ok {
			return errSessionFormat
		}
		sess.IDToken = string(tok)
		raw = r
	default:
		return errSessionFormat
	}
	rt, raw, ok := readBytes(raw)
	if !ok {
		return errSessionFormat
	}
	sess.RefreshToken = string(rt)
	count, n := binary.Uvarint(raw)
	if n <= 0 || count > 1024 {
		return errSessionFormat
	}
	raw = raw[n:]
	sess.AccessTokens = make(map[string]accessTokenEntry, count)
	for i := uint64(0); i < count; i++ {
		key, r, ok := readBytes(raw)
		if !ok {
			return errSessionFormat
		}
		tok, r, ok := readToken(r)
		if !ok {
			return errSessionFormat
		}
		scope, r, ok := readBytes(r)
		if !ok {
			return errSessionFormat
		}
		exp, n := binary.Varint(r)
		if n <= 0 {
			return errSessionFormat
		}
		raw = r[n:]
		sess.AccessTokens[string(key)] = accessTokenEntry{Token: tok, Scope: string(scope), ExpiresAt: exp}
	}
	sess.expanded = true
	return nil
}

// maxRestSize bounds decompression (a session record is at most ~64 KB
// sealed; its content cannot legitimately inflate beyond this).
const maxRestSize = 1 << 20

func inflateRest(rest []byte) ([]byte, error) {
	if len(rest) == 0 {
		return nil, errSessionFormat
	}
	switch rest[0] {
	case restRaw:
		return rest[1:], nil
	case restDeflate:
		body, _, ok := readBytes(rest[1:])
		if !ok {
			return nil, errSessionFormat
		}
		size, n := binary.Uvarint(body)
		if n <= 0 || size > maxRestSize {
			return nil, errSessionFormat
		}
		out := make([]byte, size)
		fr := flateReaders.Get().(io.ReadCloser)
		defer flateReaders.Put(fr)
		if err := fr.(flate.Resetter).Reset(bytes.NewReader(body[n:]), nil); err != nil {
			return nil, errSessionFormat
		}
		if _, err := io.ReadFull(fr, out); err != nil {
			return nil, errSessionFormat
		}
		return out, nil
	}
	return nil, errSessionFormat
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func readBytes(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// appendToken stores a JWT as its decoded segments when that reproduces it
// exactly, else verbatim.
func appendToken(b []byte, tok string) []byte {
	kind, header, payload, sig := splitJWT(tok)
	if kind != tokenJWT {
		b = append(b, tokenOpaque)
		return appendBytes(b, []byte(tok))
	}
	b = append(b, tokenJWT)
	b = appendBytes(b, header)
	b = appendBytes(b, payload)
	return appendBytes(b, sig)
}

func readToken(b []byte) (string, []byte, bool) {
	if len(b) == 0 {
		return "", nil, false
	}
	switch b[0] {
	case tokenOpaque:
		v, rest, ok := readBytes(b[1:])
		return string(v), rest, ok
	case tokenJWT:
		h, r, ok := readBytes(b[1:])
		if !ok {
			return "", nil, false
		}
		p, r, ok := readBytes(r)
		if !ok {
			return "", nil, false
		}
		s, r, ok := readBytes(r)
		if !ok {
			return "", nil, false
		}
		return joinJWT(h, p, s), r, true
	}
	return "", nil, false
}

// splitJWT decodes a compact JWS whose segments are canonical base64url.
func splitJWT(tok string) (kind byte, header, payload, sig []byte) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return tokenOpaque, nil, nil, nil
	}
	var segs [3][]byte
	for i, p := range parts {
		d, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil || base64.RawURLEncoding.EncodeToString(d) != p {
			return tokenOpaque, nil, nil, nil
		}
		segs[i] = d
	}
	return tokenJWT, segs[0], segs[1], segs[2]
}

func joinJWT(header, payload, sig []byte) string {
	enc := base64.RawURLEncoding
	var b strings.Builder
	b.Grow(enc.EncodedLen(len(header)) + enc.EncodedLen(len(payload)) + enc.EncodedLen(len(sig)) + 2)
	b.WriteString(enc.EncodeToString(header))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(payload))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(sig))
	return b.String()
}
