// Package codec owns paycode's wire vocabulary: payment codes (parsing,
// classification, masking), money (ISO 4217 currencies and integer minor
// units), the Antom result codes, and the JSON messages of the lane API
// (Antom in-store payment-code API) and of the wallet (MPP) API.
//
// codec knows nothing of I/O. Parsers read caller-owned byte slices with
// pooled fastjson parsers and fill caller-owned, reusable values; writers
// append JSON to caller-owned buffers (AppendX(dst []byte, ...) []byte). The
// lane hot path — parse a pay request, write its response — allocates
// nothing; allocation tests guard that.
//
// A payment code is a bearer token. The Code type prints, formats and logs
// its masked form (first 6 and last 4 digits); only Code.AppendDigits and
// Code.Reveal give the digits, and errors never carry them.
//
// It imports nothing of paycode: every other package speaks its
// vocabulary, so it sits at the bottom.
package codec
