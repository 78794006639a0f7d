package sign

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash"
	"sync"
)

// AppendContent appends the content to sign, byte-exact (spec §4.2):
// method, one space, path, one LF, client id, '.', time, '.', body, and
// nothing after. Signer and Verifier hash these parts in place without
// building it; it is here for tests and debugging.
func AppendContent(dst, method, path, clientID, t, body []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, path...)
	dst = append(dst, '\n')
	dst = append(dst, clientID...)
	dst = append(dst, '.')
	dst = append(dst, t...)
	dst = append(dst, '.')
	return append(dst, body...)
}

var hashers = sync.Pool{New: func() any { return sha256.New() }}

// digest is SHA-256 of the content AppendContent would build.
func digest(out *[sha256.Size]byte, method, path, clientID, t, body []byte) {
	h := hashers.Get().(hash.Hash)
	h.Reset()
	h.Write(method)
	h.Write(space)
	h.Write(path)
	h.Write(lf)
	h.Write(clientID)
	h.Write(dot)
	h.Write(t)
	h.Write(dot)
	h.Write(body)
	h.Sum(out[:0])
	hashers.Put(h)
}

var (
	space = []byte{' '}
	lf    = []byte{'\n'}
	dot   = []byte{'.'}
)

// Signer signs content with one private key. It is safe for concurrent
// use and takes no lock: every core can sign at once.
type Signer struct {
	key     *rsa.PrivateKey
	version string
}

// NewSigner returns a Signer for key, naming keyVersion in its headers
// (DefaultKeyVersion when empty).
func NewSigner(key *rsa.PrivateKey, keyVersion string) (*Signer, error) {
	if key == nil {
		return nil, errors.New("sign: nil private key")
	}
	if key.N.BitLen() < MinKeyBits {
		return nil, ErrKeySize
	}
	if keyVersion == "" {
		keyVersion = DefaultKeyVersion
	}
	return &Signer{key: key, version: keyVersion}, nil
}

// KeyVersion is the version the Signer names.
func (s *Signer) KeyVersion() string { return s.version }

// Public is the public half of the Signer's key.
func (s *Signer) Public() *rsa.PublicKey { return &s.key.PublicKey }

// Sign returns the raw signature of the content.
func (s *Signer) Sign(method, path, clientID, t, body []byte) ([]byte, error) {
	var d [sha256.Size]byte
	digest(&d, method, path, clientID, t, body)
	return rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, d[:])
}

// AppendHeader appends the signature header value for the content to dst.
// On error dst is returned unchanged.
func (s *Signer) AppendHeader(dst, method, path, clientID, t, body []byte) ([]byte, error) {
	sig, err := s.Sign(method, path, clientID, t, body)
	if err != nil {
		return dst, err
	}
	return AppendSignatureHeader(dst, s.version, sig), nil
}

// Verifier checks signatures against one party's public keys, by
// keyVersion. The algorithm is the key record's (RSA256): a header naming
// another is rejected before any key is used. It is immutable and safe
// for concurrent use.
type Verifier struct {
	keys map[string]*rsa.PublicKey
}

// NewVerifier returns a Verifier over keys (keyVersion → key). At least
// one key is required.
func NewVerifier(keys map[string]*rsa.PublicKey) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("sign: verifier needs at least one public key")
	}
	m := make(map[string]*rsa.PublicKey, len(keys))
	for v, k := range keys {
		if k == nil || k.N.BitLen() < MinKeyBits {
			return nil, ErrKeySize
		}
		if v == "" {
			v = DefaultKeyVersion
		}
		m[v] = k
	}
	return &Verifier{keys: m}, nil
}

// Verify checks a parsed header against the content. Errors: ErrAlgorithm,
// ErrKeyNotFound, ErrEncoding, ErrBadSignature. A header without an
// algorithm item is ErrAlgorithm: every SDK sends it.
func (v *Verifier) Verify(h *Header, method, path, clientID, t, body []byte) error {
	var buf [1024]byte
	sig, err := DecodeSignature(buf[:0], h.Signature)
	if err != nil {
		return err
	}
	return v.VerifySignature(h.Algorithm, h.KeyVersion, sig, method, path, clientID, t, body)
}

// VerifySignature is Verify over an already decoded signature (callers
// that key a replay cache on the raw bytes decode once).
func (v *Verifier) VerifySignature(alg, keyVersion, sig, method, path, clientID, t, body []byte) error {
	if subtle.ConstantTimeCompare(alg, []byte(AlgRSA256)) != 1 {
		return ErrAlgorithm
	}
	key := v.keys[string(keyVersion)]
	if key == nil {
		return ErrKeyNotFound
	}
	if len(sig) != key.Size() {
		return ErrBadSignature
	}
	var d [sha256.Size]byte
	digest(&d, method, path, clientID, t, body)
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, d[:], sig) != nil {
		return ErrBadSignature
	}
	return nil
}

// VerifyHeader parses the header value and verifies it (see Verify).
func (v *Verifier) VerifyHeader(header, method, path, clientID, t, body []byte) error {
	var h Header
	if err := ParseSignatureHeader(header, &h); err != nil {
		return err
	}
	return v.Verify(&h, method, path, clientID, t, body)
}

// SignPOST returns the signature header value of a POST paycode sends:
// a notifyPayment to a merchant (spec §4.5: path of the notify URL, the
// merchant's client id, the request-time sent), or any request signed
// like one. Its signature is notify.Signer's, so a Signer's method value
// plugs into notify.Config.Sign.
func (s *Signer) SignPOST(path, clientID, requestTime string, body []byte) (string, error) {
	h, err := s.AppendHeader(make([]byte, 0, 400), methodPOST, []byte(path), []byte(clientID), []byte(requestTime), body)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

var methodPOST = []byte("POST")
