package sign

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// MinKeyBits is the smallest RSA modulus accepted. 2048 is what the Antom
// dashboard issues; smaller keys are refused so a typo in a config cannot
// weaken a lane.
const MinKeyBits = 2048

// DefaultKeyBits is the size GenerateKey uses.
const DefaultKeyBits = 2048

// Errors of key loading.
var (
	ErrKeyFormat = errors.New("sign: key is neither PEM nor base64 DER")
	ErrKeyType   = errors.New("sign: key is not an RSA key")
	ErrKeySize   = errors.New("sign: RSA key is smaller than 2048 bits")
)

// der returns the DER bytes of s: the first PEM block's, or s base64-decoded
// (whitespace ignored, as keys are pasted across lines).
func der(s []byte) (blockType string, d []byte, err error) {
	s = bytes.TrimSpace(s)
	if bytes.HasPrefix(s, []byte("-----BEGIN ")) {
		b, _ := pem.Decode(s)
		if b == nil {
			return "", nil, ErrKeyFormat
		}
		return b.Type, b.Bytes, nil
	}
	clean := make([]byte, 0, len(s))
	for _, c := range s {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			clean = append(clean, c)
		}
	}
	d = make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(d, clean)
	if err != nil || n == 0 {
		return "", nil, ErrKeyFormat
	}
	return "", d[:n], nil
}

// ParsePrivateKey reads an RSA private key: PKCS#8 (what the Go and Java
// SDKs take) or PKCS#1 (what the Python SDK's PEM label implies), PEM or
// bare base64. Keys under MinKeyBits are refused.
func ParsePrivateKey(s []byte) (*rsa.PrivateKey, error) {
	_, d, err := der(s)
	if err != nil {
		return nil, err
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(d); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, ErrKeyType
		}
		key = rk
	} else if k, err1 := x509.ParsePKCS1PrivateKey(d); err1 == nil {
		key = k
	} else {
		return nil, fmt.Errorf("sign: private key: %w", err)
	}
	if key.N.BitLen() < MinKeyBits {
		return nil, ErrKeySize
	}
	key.Precompute()
	return key, nil
}

// ParsePublicKey reads an RSA public key: X.509 SubjectPublicKeyInfo (what
// every SDK and the Antom dashboard use) or PKCS#1, PEM or bare base64.
func ParsePublicKey(s []byte) (*rsa.PublicKey, error) {
	_, d, err := der(s)
	if err != nil {
		return nil, err
	}
	var key *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(d); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, ErrKeyType
		}
		key = rk
	} else if k, err1 := x509.ParsePKCS1PublicKey(d); err1 == nil {
		key = k
	} else {
		return nil, fmt.Errorf("sign: public key: %w", err)
	}
	if key.N.BitLen() < MinKeyBits {
		return nil, ErrKeySize
	}
	return key, nil
}

// LoadPrivateKey reads ParsePrivateKey's input from a file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads ParsePublicKey's input from a file.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// GenerateKey makes a new RSA key of bits (DefaultKeyBits when 0).
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits == 0 {
		bits = DefaultKeyBits
	}
	if bits < MinKeyBits {
		return nil, ErrKeySize
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// KeyFormats are one key pair in every form the official SDKs read.
type KeyFormats struct {
	PrivatePKCS8Base64 string // Go and Java SDK merchantPrivateKey / paycode config
	PrivatePKCS8PEM    string // "BEGIN PRIVATE KEY"
	PrivatePKCS1PEM    string // "BEGIN RSA PRIVATE KEY": the Python SDK's label
	PrivatePKCS1Base64 string // the Python SDK's private key string
	PublicSPKIBase64   string // every SDK's alipayPublicKey; the Antom dashboard's form
	PublicSPKIPEM      string // "BEGIN PUBLIC KEY"
}

// Formats encodes k in every form of KeyFormats.
func Formats(k *rsa.PrivateKey) (KeyFormats, error) {
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return KeyFormats{}, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return KeyFormats{}, err
	}
	p1 := x509.MarshalPKCS1PrivateKey(k)
	b64 := base64.StdEncoding.EncodeToString
	return KeyFormats{
		PrivatePKCS8Base64: b64(p8),
		PrivatePKCS8PEM:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		PrivatePKCS1PEM:    string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: p1})),
		PrivatePKCS1Base64: b64(p1),
		PublicSPKIBase64:   b64(spki),
		PublicSPKIPEM:      string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})),
	}, nil
}
