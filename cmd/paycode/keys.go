package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/paycode/paycode/engine/sign"
)

const keysUsage = `usage: paycode keys [flags]

Generates an RSA key pair in the forms the official Antom SDKs read, or
prints the public key of an existing private key (-pub).

  <out>.key        PKCS#8, base64 (no PEM armour): paycode's keys.privateKeyFile,
                   or a lane's merchantPrivateKey for the Go and Java SDKs
  <out>.pkcs1.pem  PKCS#1 PEM: the private key form the Python SDK loads
  <out>.pub        X.509 SubjectPublicKeyInfo, base64: give it to the other
                   side (a merchant gets paycode's; paycode gets the merchant's)

Without -out everything is printed to stdout.

`

func runKeys(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file name prefix to write <out>.key, <out>.pkcs1.pem and <out>.pub (0600 for private keys)")
	bits := fs.Int("bits", sign.DefaultKeyBits, "RSA modulus size (at least 2048)")
	pub := fs.String("pub", "", "print the public key (SPKI base64) of this private key file instead of generating")
	fs.Usage = func() {
		fmt.Fprint(stderr, keysUsage)
		fs.PrintDefaults()
	}
	if rc, ok := parseFlags(fs, args); !ok {
		return rc
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "paycode keys: unexpected argument %q (see 'paycode keys -h')\n", fs.Arg(0))
		return 2
	}
	if *pub != "" {
		k, err := sign.LoadPrivateKey(*pub)
		if err != nil {
			fmt.Fprintln(stderr, "paycode keys:", err)
			return 1
		}
		f, err := sign.Formats(k)
		if err != nil {
			fmt.Fprintln(stderr, "paycode keys:", err)
			return 1
		}
		fmt.Fprintln(stdout, f.PublicSPKIBase64)
		return 0
	}
	k, err := sign.GenerateKey(*bits)
	if err != nil {
		fmt.Fprintln(stderr, "paycode keys:", err)
		return 1
	}
	f, err := sign.Formats(k)
	if err != nil {
		fmt.Fprintln(stderr, "paycode keys:", err)
		return 1
	}
	if *out == "" {
		fmt.Fprintf(stdout, "# private key, PKCS#8 base64 (paycode keys.privateKey; Go/Java SDK merchantPrivateKey)\n%s\n\n", f.PrivatePKCS8Base64)
		fmt.Fprintf(stdout, "# private key, PKCS#1 PEM (Python SDK)\n%s\n", f.PrivatePKCS1PEM)
		fmt.Fprintf(stdout, "# public key, SPKI base64 (give it to the other side)\n%s\n", f.PublicSPKIBase64)
		return 0
	}
	files := []struct {
		name, text string
		mode       os.FileMode
	}{
		{*out + ".key", f.PrivatePKCS8Base64 + "\n", 0o600},
		{*out + ".pkcs1.pem", f.PrivatePKCS1PEM, 0o600},
		{*out + ".pub", f.PublicSPKIBase64 + "\n", 0o644},
	}
	for _, fl := range files {
		// O_EXCL: never overwrite a key in use.
		fh, err := os.OpenFile(fl.name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fl.mode)
		if err != nil {
			fmt.Fprintln(stderr, "paycode keys:", err)
			return 1
		}
		_, err = fh.WriteString(fl.text)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintln(stderr, "paycode keys:", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "wrote %s.key, %s.pkcs1.pem (private, keep them) and %s.pub\n\npublic key (SPKI base64), for the other side:\n%s\n", *out, *out, *out, f.PublicSPKIBase64)
	return 0
}
