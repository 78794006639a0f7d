package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/paycode/paycode/codec"
	"github.com/paycode/paycode/decode"
)

// Images on the lane listener: the decode endpoint and pay by image.
//
// # POST /v1/decode
//
// The body is the image: PNG, JPEG or GIF bytes (recognised by their
// magic bytes, whatever the Content-Type), or a raw 8-bit grayscale frame
// (row-major, one byte per pixel, no padding) sent with
//
//	Content-Type: application/octet-stream; width=640; height=480
//
// The client-id header is required, as on the Antom paths. The answer is,
// like every answer on this listener, HTTP 200 with an Antom result:
//
//	{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},
//	 "code":"281001**************0012","symbology":"QR_CODE","stage":"fast",
//	 "wallet":"mpp-281001","decodeMs":1.234}
//
// code is always masked. A code that decodes but is not routable carries
// the engine's answer for it in result (INVALID_PAYMENT_CODE,
// NO_PAY_OPTIONS, UNKNOWN_EXCEPTION) and no wallet. Failures are a result
// only: no code in the image INVALID_PAYMENT_CODE (F); an image too large
// or unreadable PARAM_ILLEGAL (F); two different payment codes in the
// image PARAM_ILLEGAL (F) "more than one payment code in the image"; the
// decoder busy REQUEST_TRAFFIC_EXCEED_LIMIT (U, retry shortly).
//
// # Pay by image
//
// A pay request (the Antom pay paths) with Content-Type
// multipart/form-data and two parts:
//
//   - "request": the Antom pay JSON, in which paymentMethod.paymentMethodId
//     is absent or empty (codec.ParsePayWithoutCode);
//   - "image": the image, as for /v1/decode; a raw frame gives its size in
//     the part's Content-Type (application/octet-stream; width=W; height=H).
//
// The decoded code fills the request's code and the engine's Pay runs as
// for a JSON pay: idempotency on client-id + paymentRequestId (the code is
// a key field, so a replay must show the same code), single use, follow-up.
// No code in the image is INVALID_PAYMENT_CODE (F) "no payment code was
// found in the image" and nothing is recorded, so the lane may retry the
// same paymentRequestId with a better picture. An image holding two
// different payment codes is refused the same way with PARAM_ILLEGAL (F)
// "more than one payment code in the image": paying whichever was read
// first could charge the wrong customer.

// DecodePath is the decode endpoint on the lane listener.
const DecodePath = "/v1/decode"

// Limits of a pay-by-image body. The image part may be as large as the
// decoder's MaxBytes; the request part has the JSON endpoints' limit.
const (
	// MaxRequestPartSize bounds the "request" part, like a JSON pay body.
	MaxRequestPartSize = DefaultMaxBodySize
	// multipartSlack is room for boundaries and part headers.
	multipartSlack = 16 << 10
	// maxRawSide bounds each side of a raw frame; the decoder's MaxPixels
	// bounds their product.
	maxRawSide = 1 << 16
	// maxPooledImage is the largest image buffer kept for reuse: typical
	// lane frames are well below it, and an outsized one must not stay
	// pinned in the pool.
	maxPooledImage = 1 << 20
)

// Form part names of a pay-by-image request.
const (
	partRequest = "request"
	partImage   = "image"
)

// imageAPI is the Server's image state; the zero value has no decoder, so
// both image routes answer that they are not enabled.
type imageAPI struct {
	dec      *decode.Decoder
	maxBytes int       // the decoder's MaxBytes
	forms    sync.Pool // *imageForm
}

// SetDecoder enables POST /v1/decode and pay by image on s, decoding with
// d. Call it before NewFastHTTPServer (which sizes the body limit from d's
// MaxBytes) and before serving; it is not safe to call while requests run.
// s does not close d.
func (s *Server) SetDecoder(d *decode.Decoder) {
	s.img.dec = d
	s.img.maxBytes = 0
	if d != nil {
		s.img.maxBytes = d.Config().MaxBytes
	}
}

// maxBodySize is the lane listener's body limit: the JSON limit, or with a
// decoder an image of MaxBytes plus a JSON part and the multipart framing.
// JSON routes still enforce DefaultMaxBodySize themselves.
func (s *Server) maxBodySize() int {
	if s.img.dec == nil {
		return DefaultMaxBodySize
	}
	return max(DefaultMaxBodySize, s.img.maxBytes+MaxRequestPartSize+multipartSlack)
}

// jsonBodyTooLarge reports whether body exceeds the JSON routes' limit;
// a pay-by-image body has its own limits (parseForm).
func jsonBodyTooLarge(ctx *fasthttp.RequestCtx, op operation, body []byte) bool {
	return len(body) > DefaultMaxBodySize && !(op == opPay && isMultipartForm(ctx))
}

var bodyTooLargeMsg = "the request body exceeds " + strconv.Itoa(DefaultMaxBodySize) + " bytes"

// isMultipartForm reports whether the request is multipart/form-data.
func isMultipartForm(ctx *fasthttp.RequestCtx) bool {
	return hasPrefixFold(ctx.Request.Header.ContentType(), mediaMultipart)
}

var (
	mediaMultipart = []byte("multipart/form-data")
	mediaRaw       = []byte("application/octet-stream")
)

// hasPrefixFold is a case-insensitive bytes.HasPrefix, without allocating.
func hasPrefixFold(b, prefix []byte) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], prefix)
}

// servePayImage runs a pay-by-image request (see the comment above).
func (s *Server) servePayImage(c context.Context, ctx *fasthttp.RequestCtx, st *reqState, clientID, dst []byte) ([]byte, codec.ResultCode) {
	if s.img.dec == nil {
		return answer(dst, codec.ParamIllegal,
			"pay by image is not enabled on this server: give the code in paymentMethod.paymentMethodId")
	}
	boundary := ctx.Request.Header.MultipartFormBoundary()
	if len(boundary) == 0 {
		return answer(dst, codec.ParamIllegal, "multipart/form-data needs a boundary parameter")
	}
	f := s.img.acquireForm()
	defer s.img.releaseForm(f)
	if err := f.parse(ctx.PostBody(), boundary, s.img.maxBytes); err != nil {
		return answer(dst, codec.ParamIllegal, err.Error())
	}
	// The JSON first: a bad request costs no decoding.
	if err := codec.ParsePayWithoutCode(f.request, &st.pay); err != nil {
		return answer(dst, codec.ParamIllegal, err.Error())
	}
	if rc, msg := s.checkPay(clientID, &st.pay); rc != codec.ResultNone {
		return answer(dst, rc, msg)
	}
	res, err := s.img.decode(c, f.image, f.width, f.height)
	if err != nil {
		rc, msg := decodeFailure(err)
		return answer(dst, rc, msg)
	}
	code, err := codec.ParseCode([]byte(res.Text))
	if err != nil {
		return answer(dst, codec.InvalidPaymentCode, notPaymentCodeMsg(res.Symbology))
	}
	st.pay.Code = code
	if s.log.Enabled(c, slog.LevelDebug) { // the arguments would allocate
		s.log.Debug("pay by image: code decoded", "code", code, "symbology", res.Symbology.String(),
			"stage", res.Stage.String(), "decode_us", res.Elapsed.Microseconds())
	}
	st.walletWait = s.eng.Pay(c, clientID, &st.pay, &st.view)
	return codec.AppendPayResponse(dst, &st.view), written(st.view.ResultCode)
}

// serveDecode runs POST /v1/decode (see the comment above).
func (s *Server) serveDecode(ctx *fasthttp.RequestCtx, dst []byte) ([]byte, codec.ResultCode) {
	if !ctx.IsPost() {
		return answer(dst, codec.InvalidAPI, "the API accepts POST only")
	}
	if s.img.dec == nil {
		return answer(dst, codec.InvalidAPI, "image decoding is not enabled on this server")
	}
	if err := codec.CheckClientID(ctx.Request.Header.Peek(HeaderClientID)); err != nil {
		return answer(dst, codec.ParamIllegal, err.Error())
	}
	img := ctx.PostBody()
	w, h, err := rawFrameSize(ctx.Request.Header.ContentType(), len(img))
	if err != nil {
		return answer(dst, codec.ParamIllegal, err.Error())
	}
	c := context.Background()
	res, err := s.img.decode(c, img, w, h)
	if err != nil {
		rc, msg := decodeFailure(err)
		return answer(dst, rc, msg)
	}
	code, err := codec.ParseCode([]byte(res.Text))
	var wallet string
	rc, msg := codec.Success, ""
	if err != nil {
		rc, msg = codec.InvalidPaymentCode, notPaymentCodeMsg(res.Symbology)
	} else {
		wallet, rc, msg = s.eng.Identify(c, &code)
		if s.log.Enabled(c, slog.LevelDebug) {
			s.log.Debug("decode: code decoded", "code", code, "symbology", res.Symbology.String(),
				"stage", res.Stage.String(), "decode_us", res.Elapsed.Microseconds(), "wallet", wallet)
		}
	}
	dst = append(dst, `{"result":`...)
	dst = codec.AppendResult(dst, rc, msg)
	if err == nil {
		dst = codec.AppendKey(dst, "code")
		dst = append(dst, '"')
		dst = code.AppendMasked(dst)
		dst = append(dst, '"')
	}
	dst = codec.AppendStringField(dst, "symbology", res.Symbology.String())
	dst = codec.AppendStringField(dst, "stage", res.Stage.String())
	if wallet != "" {
		dst = codec.AppendStringField(dst, "wallet", wallet)
	}
	dst = codec.AppendKey(dst, "decodeMs")
	dst = strconv.AppendFloat(dst, float64(res.Elapsed.Microseconds())/1000, 'f', 3, 64)
	return append(dst, '}'), written(rc)
}

// decode runs the decoder on an encoded image, or on a raw gray frame when
// w and h are set.
func (a *imageAPI) decode(c context.Context, img []byte, w, h int) (decode.Result, error) {
	if w > 0 {
		return a.dec.DecodeGray(c, img, w, h)
	}
	return a.dec.Decode(c, img)
}

func notPaymentCodeMsg(s decode.Symbology) string {
	return "the " + s.String() + " symbol in the image is not a payment code"
}

// Answers to decoder errors, shared by both image routes.
const (
	msgNoCode     = "no payment code was found in the image"
	msgNoCodeTime = "no payment code was found in the image within the decode time budget"
	msgDecodeFail = "no payment code could be read from the image (decoder failure)"
	msgBusy       = "the image decoder is busy, retry the same request shortly"
	msgTwoCodes   = "more than one payment code in the image"
	msgDecodeDown = "the image could not be decoded now, retry the same request"
)

// decodeFailure maps a decode error to the lane's answer. Decoder error
// texts never hold decoded text, so the details of a rejected image (its
// size, its format) can be quoted.
func decodeFailure(err error) (codec.ResultCode, string) {
	switch {
	case errors.Is(err, decode.ErrNotFound):
		return codec.InvalidPaymentCode, msgNoCode
	case errors.Is(err, decode.ErrBudget):
		return codec.InvalidPaymentCode, msgNoCodeTime
	case errors.Is(err, decode.ErrInternal):
		return codec.InvalidPaymentCode, msgDecodeFail
	case errors.Is(err, decode.ErrAmbiguous):
		return codec.ParamIllegal, msgTwoCodes
	case errors.Is(err, decode.ErrTooLarge):
		return codec.ParamIllegal, "the image is too large: " + errDetail(err, decode.ErrTooLarge)
	case errors.Is(err, decode.ErrFormat):
		return codec.ParamIllegal, "the image cannot be read: " + errDetail(err, decode.ErrFormat)
	case errors.Is(err, decode.ErrBusy):
		return codec.RequestTrafficExceedLimit, msgBusy
	}
	// ErrClosed, a context error: nothing happened, the lane may retry.
	return codec.UnknownException, msgDecodeDown
}

// errDetail is err's text after its sentinel's, e.g. "not PNG, JPEG or GIF".
func errDetail(err, sentinel error) string {
	s := err.Error()
	if d, ok := strings.CutPrefix(s, sentinel.Error()+": "); ok {
		return d
	}
	return strings.TrimPrefix(s, "decode: ")
}

// Form errors, answered PARAM_ILLEGAL with their text. They name parts
// and limits, never content.
var (
	errFormMalformed  = errors.New("multipart: the body is not a well-formed multipart/form-data body")
	errFormPart       = errors.New(`multipart: only the parts "request" (the pay JSON) and "image" are accepted`)
	errFormDuplicate  = errors.New("multipart: a part is given twice")
	errFormNoRequest  = errors.New(`multipart: the "request" part (the pay JSON) is missing`)
	errFormNoImage    = errors.New(`multipart: the "image" part is missing or empty`)
	errFormRequestBig = errors.New(`multipart: the "request" part exceeds ` + strconv.Itoa(MaxRequestPartSize) + " bytes")
	errRawSize        = errors.New("a raw frame needs both width and height (1 to " + strconv.Itoa(maxRawSide) + ") in its Content-Type, e.g. application/octet-stream; width=640; height=480")
	errRawLength      = errors.New("a raw frame must be exactly width*height bytes")
)

// imageForm is a parsed pay-by-image body. request and image are copies
// in the form's own buffers (mime/multipart copies); they are valid until
// the form is released.
type imageForm struct {
	request       []byte
	image         []byte
	width, height int // a raw frame's size; 0 for an encoded image

	reqBuf, imgBuf []byte
	rd             bytes.Reader
}

func (a *imageAPI) acquireForm() *imageForm {
	if f, ok := a.forms.Get().(*imageForm); ok {
		return f
	}
	return new(imageForm)
}

func (a *imageAPI) releaseForm(f *imageForm) {
	if cap(f.imgBuf) > maxPooledImage {
		return
	}
	f.reset()
	a.forms.Put(f)
}

func (f *imageForm) reset() {
	*f = imageForm{reqBuf: f.reqBuf[:0], imgBuf: f.imgBuf[:0]}
}

// parse reads a multipart/form-data body with the given boundary: exactly
// one "request" part of at most MaxRequestPartSize bytes and one non-empty
// "image" part of at most maxImage bytes, nothing else. A part over its
// limit is rejected as soon as the limit is passed. The image part's
// Content-Type says whether it is a raw frame (see rawFrameSize).
func (f *imageForm) parse(body, boundary []byte, maxImage int) error {
	f.reset()
	f.rd.Reset(body)
	mr := multipart.NewReader(&f.rd, string(boundary))
	var haveReq, haveImg bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errFormMalformed
		}
		switch p.FormName() {
		case partRequest:
			if haveReq {
				return errFormDuplicate
			}
			haveReq = true
			if f.reqBuf, err = readPart(f.reqBuf, p, MaxRequestPartSize, len(body)); err != nil {
				if err == errPartTooLarge {
					return errFormRequestBig
				}
				return errFormMalformed
			}
			f.request = f.reqBuf
		case partImage:
			if haveImg {
				return errFormDuplicate
			}
			haveImg = true
			if f.imgBuf, err = readPart(f.imgBuf, p, maxImage, len(body)); err != nil {
				if err == errPartTooLarge {
					return errors.New(`multipart: the "image" part exceeds ` + strconv.Itoa(maxImage) + " bytes")
				}
				return errFormMalformed
			}
			f.image = f.imgBuf
			if f.width, f.height, err = rawFrameSize([]byte(p.Header.Get("Content-Type")), len(f.image)); err != nil {
				return err
			}
		default:
			return errFormPart
		}
	}
	switch {
	case !haveReq:
		return errFormNoRequest
	case len(f.image) == 0:
		return errFormNoImage
	}
	return nil
}

var errPartTooLarge = errors.New("part too large")

// readPart reads p into dst[:0], failing with errPartTooLarge past limit
// bytes. A part is never longer than the body it comes from, which sizes
// the buffer in one step.
func readPart(dst []byte, p *multipart.Part, limit, bodyLen int) ([]byte, error) {
	dst = dst[:0]
	if want := min(limit, bodyLen) + 1; cap(dst) < want {
		dst = make([]byte, 0, want)
	}
	for {
		n, err := p.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return dst[:0], errPartTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:0], err
		}
		if len(dst) == cap(dst) {
			// Only after a quoted-printable part decoded longer than
			// expected; grow like append.
			dst = append(dst, 0)[:len(dst)]
		}
	}
}

// rawFrameSize reads a raw frame's size from a Content-Type of the form
// "application/octet-stream; width=W; height=H". Any other Content-Type
// (or none) is an encoded image: 0, 0, nil. n is the frame's length,
// which must be exactly W*H.
func rawFrameSize(contentType []byte, n int) (w, h int, err error) {
	if !hasPrefixFold(contentType, mediaRaw) {
		return 0, 0, nil
	}
	mt, params, perr := mime.ParseMediaType(string(contentType))
	if perr != nil || mt != string(mediaRaw) {
		return 0, 0, nil
	}
	ws, wok := params["width"]
	hs, hok := params["height"]
	if !wok && !hok {
		return 0, 0, nil // a file part curl could not type: sniffed
	}
	w, werr := strconv.Atoi(ws)
	h, herr := strconv.Atoi(hs)
	if werr != nil || herr != nil || w < 1 || h < 1 || w > maxRawSide || h > maxRawSide {
		return 0, 0, errRawSize
	}
	if w*h != n {
		return 0, 0, errRawLength
	}
	return w, h, nil
}
