package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/paycode/paycode/decode/decodetest"
)

// writeQR writes a PNG of a QR code holding text and returns its path.
func writeQR(t *testing.T, text string) string {
	t.Helper()
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 200, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, m.GetWidth(), m.GetHeight()))
	for y := range m.GetHeight() {
		for x := range m.GetWidth() {
			if !m.Get(x, y) {
				img.Pix[y*img.Stride+x] = 0xff
			}
		}
	}
	path := filepath.Join(t.TempDir(), "code.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args ...string) (status int, stdout, stderr string) {
	var out, errb bytes.Buffer
	status = runDecode(args, &out, &errb)
	return status, out.String(), errb.String()
}

// TestDecodeCorpusImage decodes a photographed Code 128 whose content has a
// payment code's shape (22 digits): masked by default, whole with -reveal.
func TestDecodeCorpusImage(t *testing.T) {
	file := filepath.Join(decodetest.CorpusDir(t), "code128-1", "5.png")
	wantText, err := os.ReadFile(filepath.Join(decodetest.CorpusDir(t), "code128-1", "5.txt"))
	if err != nil {
		t.Fatal(err)
	}
	full := string(wantText)
	masked := full[:6] + strings.Repeat("*", len(full)-10) + full[len(full)-4:]

	status, out, errs := runCLI(file)
	if status != 0 {
		t.Fatalf("status %d, stderr %q", status, errs)
	}
	fields := strings.Split(strings.TrimSuffix(out, "\n"), "\t")
	if len(fields) != 4 {
		t.Fatalf("output %q: want 4 tab-separated fields", out)
	}
	if fields[0] != file || fields[1] != `"`+masked+`"` || fields[2] != "CODE_128" || !strings.HasSuffix(fields[3], "ms") {
		t.Errorf("output fields %q", fields)
	}
	if strings.Contains(out, full) {
		t.Errorf("masked output %q contains the whole code", out)
	}

	status, out, _ = runCLI("-reveal", file)
	if status != 0 || !strings.Contains(out, "\t\""+full+"\"\t") {
		t.Errorf("-reveal: status %d, output %q", status, out)
	}
}

// TestDecodeMixedFiles: a failing file is reported on stderr with the
// decoder's error, the others are still printed, and the status is 1.
func TestDecodeMixedFiles(t *testing.T) {
	const code = "281001020123456789012345"
	good := writeQR(t, code)
	garbage := filepath.Join(t.TempDir(), "garbage.png")
	if err := os.WriteFile(garbage, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.png")

	status, out, errs := runCLI("-budget", "1s", good, garbage, missing)
	if status != 1 {
		t.Errorf("status %d, want 1", status)
	}
	if !strings.Contains(out, good+"\t\"281001**************2345\"\tQR_CODE\t") {
		t.Errorf("stdout %q lacks the masked QR line", out)
	}
	if strings.Contains(out+errs, code) {
		t.Errorf("the whole code leaked: stdout %q stderr %q", out, errs)
	}
	if !strings.Contains(errs, garbage+": decode: unsupported or malformed image") {
		t.Errorf("stderr %q lacks the format error", errs)
	}
	if !strings.Contains(errs, missing+": ") {
		t.Errorf("stderr %q lacks the missing file", errs)
	}
}

func TestDecodeUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		status int
	}{
		{"no files", nil, 2},
		{"unknown flag", []string{"-nope", "x.png"}, 2},
		{"zero budget", []string{"-budget", "0s", "x.png"}, 2},
		{"bad budget", []string{"-budget", "soon", "x.png"}, 2},
		{"help", []string{"-h"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, errs := runCLI(tt.args...)
			if status != tt.status {
				t.Errorf("status %d, want %d (stderr %q)", status, tt.status, errs)
			}
			if out != "" {
				t.Errorf("usage error printed to stdout: %q", out)
			}
			if !strings.Contains(errs, "usage: paycode decode") && !strings.Contains(errs, "see 'paycode decode -h'") && tt.name != "zero budget" {
				t.Errorf("stderr %q lacks usage", errs)
			}
		})
	}
}
