package codec

// Class is the shape family of a payment code (spec §6). It says how a code
// is routed; which wallet owns it is the routing rules' business.
type Class uint8

const (
	// ClassUnknown is no known shape: rejected with INVALID_PAYMENT_CODE.
	ClassUnknown Class = iota
	// ClassAlipayPlus is the mainstream 24-digit Alipay+ code, prefix 25-30;
	// digits 1-6 (the code issuer identifier) route it. Digits 7-8 (the
	// business type) are not checked: real codes carry values other than 02.
	ClassAlipayPlus
	// ClassLegacy is a legacy Alipay+ shape: 17-19 digits starting 28
	// (including the "289…" 19-digit codes).
	ClassLegacy
	// ClassAlipayCN is the AlipayCN/AlipayHK bucket: 16-19 digits starting
	// 25-30 that are not legacy Alipay+ shapes.
	ClassAlipayCN
	// ClassWeChat is an 18-digit WeChat Pay code (prefix 10-15). paycode
	// recognises it only to reject it clearly.
	ClassWeChat
	classCount
)

var classNames = [classCount]string{"unknown", "alipayplus", "legacy", "alipaycn", "wechat"}

func (c Class) String() string {
	if c >= classCount {
		return "invalid"
	}
	return classNames[c]
}

// Class classifies the code, following spec §6.3. Lengths 20-23 and 25-32
// are reserved for future Alipay+ formats and classify as unknown.
func (c *Code) Class() Class {
	n := int(c.n)
	if n == 0 {
		return ClassUnknown
	}
	p2 := c.Digit(0)*10 + c.Digit(1)
	alipaySpace := p2 >= 25 && p2 <= 30
	switch {
	case n == 24 && alipaySpace:
		return ClassAlipayPlus
	case n >= 17 && n <= 19 && p2 == 28:
		return ClassLegacy
	case n >= 16 && n <= 19 && alipaySpace:
		return ClassAlipayCN
	case n == 18 && p2 >= 10 && p2 <= 15:
		return ClassWeChat
	}
	return ClassUnknown
}

// Routable reports whether codes of this class may be routed to a wallet.
func (c Class) Routable() bool {
	return c == ClassAlipayPlus || c == ClassLegacy || c == ClassAlipayCN
}
