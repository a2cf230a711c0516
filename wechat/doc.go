// Package wechat speaks the WeChat Official Account (微信公众号) server
// protocol: it verifies callback signatures, parses the XML messages and
// events that WeChat pushes, renders passive text replies, and implements
// the AES "safe mode" (安全模式) envelope.
//
// A callback URL sees three kinds of request:
//
//   - GET with signature, timestamp, nonce and echostr: WeChat checks the URL.
//     Answer echostr verbatim after [Verifier.Check] succeeds.
//   - POST in plain mode: Check the query signature, then [Parse] the body.
//   - POST in safe mode: [Verifier.CheckMsg] the msg_signature over the
//     [EncryptedEnvelope] text, then [Crypter.Decrypt] and [Parse]. Always
//     check the signature first: CBC without a MAC is malleable, and the
//     signature (which needs the token) is what keeps forged ciphertexts,
//     and any padding oracle, away from Decrypt.
//
// Signatures alone do not stop replays: a captured request stays valid
// forever. The Verifier therefore also rejects timestamps outside a window
// (5 minutes by default) around its clock.
//
// WeChat waits 5 seconds for a reply and then retries the same message up to
// three times, so handlers should answer quickly (an empty body or "success"
// means no reply) and drop repeats by [Message.DedupKey].
package wechat
