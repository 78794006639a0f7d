// Package sign owns Antom/Alipay+ message signatures: RSASSA-PKCS1-v1_5
// over SHA-256 ("RSA256") of the content
//
//	<METHOD> <PATH>\n<client-id>.<time>.<body>
//
// carried in a `signature: algorithm=RSA256,keyVersion=1,signature=<url-encoded base64>`
// header (upm-api.md §4). It holds no HTTP types: callers pass the method,
// path, client id, time and body as byte slices, exactly as they were on
// the wire, and get the header value to write or an error to map.
//
// What it guarantees:
//   - The algorithm comes from the key record (Verifier), never from the
//     header: a header naming anything else is rejected.
//   - Verification hashes the received bytes; nothing is re-serialised.
//   - Signing and verification take no lock and may run on every core;
//     the content is hashed in place with pooled hashers, never copied.
//   - Time is injected (callers pass now); nothing here reads the clock.
//
// Keys are read the way the official SDKs write them: private keys as
// PKCS#8 (PKCS#1 accepted), public keys as X.509 SubjectPublicKeyInfo, each
// either PEM or bare base64 of the DER.
//
// It imports nothing of paycode: signatures are the same for the lane
// side (engine/httpapi) and the wallet side (engine/mpp).
package sign
