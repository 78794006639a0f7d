package httpapi

import "github.com/paycode/paycode/codec"

// ParsePayForm exposes the pay-by-image body parser to the fuzz target.
func ParsePayForm(body, boundary []byte, maxImage int) (request, image []byte, width, height int, err error) {
	var f imageForm
	if err = f.parse(body, boundary, maxImage); err != nil {
		return nil, nil, 0, 0, err
	}
	return f.request, f.image, f.width, f.height, nil
}

// DecodeFailure exposes the decoder-error table.
func DecodeFailure(err error) (codec.ResultCode, string) { return decodeFailure(err) }

// MinPayLimit is the floor of the adaptive pay limit.
const MinPayLimit = minPayLimit
