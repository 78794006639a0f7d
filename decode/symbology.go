package decode

import (
	"fmt"

	"github.com/makiuchi-d/gozxing"
)

// Symbology names a barcode type. The zero value is SymbologyUnknown, never
// returned in a successful Result.
type Symbology uint8

// Symbologies this package can read. QR and Code 128 carry payment codes;
// the other 1D symbologies are off unless Config.Symbologies lists them.
const (
	SymbologyUnknown Symbology = iota
	QRCode
	Code128
	Code39
	Code93
	Codabar
	EAN8
	EAN13
	UPCA
	UPCE
	ITF
	RSS14
	symbologyEnd // one past the last valid value
)

// symbologyNames are ZXing's format names, so logs and metrics line up with
// other ZXing-based tools.
var symbologyNames = [symbologyEnd]string{
	SymbologyUnknown: "UNKNOWN",
	QRCode:           "QR_CODE",
	Code128:          "CODE_128",
	Code39:           "CODE_39",
	Code93:           "CODE_93",
	Codabar:          "CODABAR",
	EAN8:             "EAN_8",
	EAN13:            "EAN_13",
	UPCA:             "UPC_A",
	UPCE:             "UPC_E",
	ITF:              "ITF",
	RSS14:            "RSS_14",
}

// String returns the ZXing name, e.g. "QR_CODE", "CODE_128".
func (s Symbology) String() string {
	if s < symbologyEnd {
		return symbologyNames[s]
	}
	return fmt.Sprintf("Symbology(%d)", uint8(s))
}

// MarshalText encodes the ZXing name, so Config can be read from files.
func (s Symbology) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("%w: unknown symbology %d", ErrConfig, uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts what MarshalText produces.
func (s *Symbology) UnmarshalText(b []byte) error {
	v, err := ParseSymbology(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSymbology maps a ZXing name ("QR_CODE", "CODE_128", ...) to its
// Symbology. It is for configuration and flags; matching is exact.
func ParseSymbology(name string) (Symbology, error) {
	for s := QRCode; s < symbologyEnd; s++ {
		if symbologyNames[s] == name {
			return s, nil
		}
	}
	return SymbologyUnknown, fmt.Errorf("%w: unknown symbology %q", ErrConfig, name)
}

// DefaultSymbologies returns the payment-code carriers, QR and Code 128, as a
// fresh slice the caller may modify.
func DefaultSymbologies() []Symbology {
	return []Symbology{QRCode, Code128}
}

// All1D returns every supported one-dimensional symbology, Code 128 first.
func All1D() []Symbology {
	return []Symbology{Code128, Code39, Code93, Codabar, EAN8, EAN13, UPCA, UPCE, ITF, RSS14}
}

func (s Symbology) valid() bool { return s > SymbologyUnknown && s < symbologyEnd }

// symbolSet is a bit set of Symbology values, built once per Decoder.
type symbolSet uint16

func setOf(list []Symbology) symbolSet {
	var set symbolSet
	for _, s := range list {
		set |= 1 << s
	}
	return set
}

func (set symbolSet) has(s Symbology) bool { return set&(1<<s) != 0 }

func (set symbolSet) has1D() bool { return set&^(1<<QRCode) != 0 }

// fromFormat maps gozxing's format to ours; formats we never enable map to
// SymbologyUnknown.
func fromFormat(f gozxing.BarcodeFormat) Symbology {
	switch f {
	case gozxing.BarcodeFormat_QR_CODE:
		return QRCode
	case gozxing.BarcodeFormat_CODE_128:
		return Code128
	case gozxing.BarcodeFormat_CODE_39:
		return Code39
	case gozxing.BarcodeFormat_CODE_93:
		return Code93
	case gozxing.BarcodeFormat_CODABAR:
		return Codabar
	case gozxing.BarcodeFormat_EAN_8:
		return EAN8
	case gozxing.BarcodeFormat_EAN_13:
		return EAN13
	case gozxing.BarcodeFormat_UPC_A:
		return UPCA
	case gozxing.BarcodeFormat_UPC_E:
		return UPCE
	case gozxing.BarcodeFormat_ITF:
		return ITF
	case gozxing.BarcodeFormat_RSS_14:
		return RSS14
	}
	return SymbologyUnknown
}
