package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"hash"
	"math/big"
	"strings"
)

// Fuzz targets run in several processes (the coordinator and its workers):
// keys that sign their seeds must be the same in all of them, so these are
// fixed. They are test keys, never used for anything else.

// FuzzKeyP384 returns a fixed P-384 key (ES384, Logto's default).
func FuzzKeyP384() *ecdsa.PrivateKey {
	d := sha512.Sum384([]byte("logto-go fuzz key, test only"))
	d[0] &= 0x7f // below the group order
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), d[:])
	if err != nil {
		panic(err)
	}
	return k
}

//go:embed testdata/rsa-fuzz-key.pem
var rsaFuzzKeyPEM []byte

// FuzzKeyRSA returns a fixed 2048-bit RSA key (RS256 signatures are
// deterministic, so a token signed with it is the same in every process).
func FuzzKeyRSA() *rsa.PrivateKey {
	block, _ := pem.Decode(rsaFuzzKeyPEM)
	if block == nil {
		panic("testkit: no PEM block in rsa-fuzz-key.pem")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return k.(*rsa.PrivateKey)
}

// SignedBy is a fuzz oracle independent of the SDK's verifier: it reports
// whether token is a canonical compact JWS (three unpadded base64url
// segments with zero trailing bits) whose signature over its first two
// segments verifies, with the standard library alone, under pub with the
// ES256/ES384/ES512 or RS256/RS384/RS512 algorithm its header names. With
// keys only the test holds, true means the test signed the token.
func SignedBy(token string, pub crypto.PublicKey) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	strict := base64.RawURLEncoding.Strict()
	var raw [3][]byte
	for i, p := range parts {
		b, err := strict.DecodeString(p)
		if err != nil || strict.EncodeToString(b) != p {
			return false
		}
		raw[i] = b
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw[0], &hdr) != nil {
		return false
	}
	var h hash.Hash
	var ch crypto.Hash
	switch hdr.Alg[min(2, len(hdr.Alg)):] {
	case "256":
		h, ch = sha256.New(), crypto.SHA256
	case "384":
		h, ch = sha512.New384(), crypto.SHA384
	case "512":
		h, ch = sha512.New(), crypto.SHA512
	default:
		return false
	}
	h.Write([]byte(parts[0] + "." + parts[1]))
	digest := h.Sum(nil)
	sig := raw[2]
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if !strings.HasPrefix(hdr.Alg, "ES") || len(sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, digest, r, s)
	case *rsa.PublicKey:
		return strings.HasPrefix(hdr.Alg, "RS") && rsa.VerifyPKCS1v15(k, ch, digest, sig) == nil
	}
	return false
}
