package wechat

import (
	"bytes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/huiyin/huiyin"
)

// The EncodingAESKey and appID of WeChat's own SDK samples.
const (
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	testAppID  = "wxb11529c136998cb6"
)

// kat* is a known-answer vector made with openssl, independent of this
// package: prefix "0123456789abcdef", length 250, katMessage, testAppID,
// 32 bytes of 0x20 padding, then
//
//	openssl enc -aes-256-cbc -nopad \
//	  -K 69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051 \
//	  -iv 69b71d79f8218a39259a7a29aabb2dba | base64 -w0
const (
	katMessage   = `<xml><ToUserName><![CDATA[gh_huiyin]]></ToUserName><FromUserName><![CDATA[oOwner1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[电梯坏了]]></Content><MsgId>24000000000000001</MsgId></xml>`
	katEncrypted = "Q3stYC6hdFzMh9T8HCvyDIGLsyHCgVx+pkCc9alTDKgwu4Tf941CloQ3+SfioHlCeZ7lC1x6bPdKVwVeKpLf74BU6pCngeDc263xou9WnaL0+Cm5vqtT7HLubHpskb4INCb9qKf+ikg2/jR/vnH0t9QHI3vm2owx+JYZXVIXjfGEEX21V2PXPCC1vp4mC8eGRsPQxEZJTvDiO3QGUsKWpY+MYrRPh5umgoy02IiWS15iq2fA+ns9cDsSYPBnlTfqgPfrNdqY1wehFfpJ6yEJd+rYHS5STEDtxAIm0j9EDHczMHzMwDbraGLwJVrr46joEy1TDjGJEXglbkyuG8x7Dwzxy0cpRMasKzgfwSWYnVfbFmzWRFf61v2Fu8ssXQMdXL8Akud4nvM0lGI5noGDz/pbZ19g5of5c/42laQ5mCA="
)

func newTestCrypter(t testing.TB, appID string) *Crypter {
	t.Helper()
	c, err := NewCrypter(testAESKey, appID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawEncrypt encrypts plain, already a multiple of 16 bytes, with no
// framing or padding, to build malformed ciphertexts.
func rawEncrypt(c *Crypter, plain []byte) string {
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

func TestNewCrypter(t *testing.T) {
	testCases := []struct {
		name, key, appID string
		ok               bool
	}{
		{"sample key", testAESKey, testAppID, true},
		{"nonzero unused bits", strings.Repeat("A", 42) + "B", testAppID, true},
		{"too short", testAESKey[:42], testAppID, false},
		{"too long", testAESKey + "H", testAppID, false},
		{"not base64", strings.Repeat("!", 43), testAppID, false},
		{"empty appID", testAESKey, "", false},
	}
	for _, tc := range testCases {
		_, err := NewCrypter(tc.key, tc.appID)
		if tc.ok && err != nil {
			t.Errorf("%s: NewCrypter: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, huiyin.ErrInvalid) {
			t.Errorf("%s: NewCrypter = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestDecryptKnownAnswer(t *testing.T) {
	got, err := newTestCrypter(t, testAppID).Decrypt(katEncrypted)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if string(got) != katMessage {
		t.Fatalf("Decrypt = %q, want %q", got, katMessage)
	}
	m, err := Parse(got)
	if err != nil || m.Content != "电梯坏了" {
		t.Fatalf("Parse(decrypted) = %+v, %v", m, err)
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	c := newTestCrypter(t, testAppID)
	// Lengths around the 32-byte padding boundary, given the 38 bytes of
	// prefix, length and appID.
	for _, n := range []int{0, 1, 25, 26, 27, 58, 1000, MaxBody} {
		plain := bytes.Repeat([]byte("x"), n)
		enc, err := c.Encrypt(plain)
		if err != nil {
			t.Fatalf("Encrypt(%d bytes): %v", n, err)
		}
		raw, _ := base64.StdEncoding.DecodeString(enc)
		if len(raw)%32 != 0 {
			t.Errorf("ciphertext of %d bytes is %d bytes, not padded to 32", n, len(raw))
		}
		got, err := c.Decrypt(enc)
		if err != nil {
			t.Fatalf("Decrypt(Encrypt(%d bytes)): %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("round trip of %d bytes changed the message", n)
		}
	}
	a, _ := c.Encrypt([]byte(katMessage))
	b, _ := c.Encrypt([]byte(katMessage))
	if a == b {
		t.Error("two encryptions are equal; the random prefix is not random")
	}
}

func TestDecryptErrors(t *testing.T) {
	c := newTestCrypter(t, testAppID)
	good, err := c.Encrypt([]byte(katMessage))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(good)
	tampered := bytes.Clone(raw)
	tampered[len(tampered)-1] ^= 0x01 // garbles the padding block
	tamperedFirst := bytes.Clone(raw)
	tamperedFirst[20] ^= 0xff // garbles the length field via CBC

	block := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	testCases := []struct {
		name string
		c    *Crypter
		enc  string
		err  error
	}{
		{"wrong appID", newTestCrypter(t, "wx0000000000000000"), good, ErrSignature},
		{"appID prefix", newTestCrypter(t, testAppID[:10]), good, ErrSignature},
		{"tampered padding", c, base64.StdEncoding.EncodeToString(tampered), nil},
		{"tampered length", c, base64.StdEncoding.EncodeToString(tamperedFirst), nil},
		{"not base64", c, "!!!", huiyin.ErrInvalid},
		{"empty", c, "", huiyin.ErrInvalid},
		{"not a block multiple", c, base64.StdEncoding.EncodeToString(block('a', 17)), huiyin.ErrInvalid},
		{"pad byte zero", c, rawEncrypt(c, block(0, 32)), huiyin.ErrInvalid},
		{"pad byte too large", c, rawEncrypt(c, block(33, 64)), huiyin.ErrInvalid},
		{"pad bytes differ", c, rawEncrypt(c, append(block(7, 30), 1, 2)), huiyin.ErrInvalid},
		{"too short after padding", c, rawEncrypt(c, append(block('a', 16), block(16, 16)...)), huiyin.ErrInvalid},
		{"length beyond data", c, rawEncrypt(c, append(append(block('r', 16), 0xff, 0xff, 0xff, 0xff), block(12, 12)...)), huiyin.ErrInvalid},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Decrypt(tc.enc)
			if err == nil {
				t.Fatalf("Decrypt = %q, want an error", got)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Decrypt = %v, want %v", err, tc.err)
			}
			// Whatever the damage, it is one of the two documented kinds.
			if !errors.Is(err, huiyin.ErrInvalid) && !errors.Is(err, ErrSignature) {
				t.Fatalf("Decrypt = %v, want ErrInvalid or ErrSignature", err)
			}
		})
	}
}

func TestEncryptedEnvelope(t *testing.T) {
	testCases := []struct {
		name string
		body []byte
		want string
		err  error
	}{
		{"sample", readTestdata(t, "encrypted.xml"), katEncrypted, nil},
		{"no Encrypt", []byte(`<xml><ToUserName>gh</ToUserName></xml>`), "", huiyin.ErrInvalid},
		{"wrong root", []byte(`<envelope><Encrypt>abc</Encrypt></envelope>`), "", huiyin.ErrInvalid},
		{"not xml", []byte(`Encrypt=abc`), "", huiyin.ErrInvalid},
		{"huge", append([]byte("<xml><Encrypt>"), bytes.Repeat([]byte("A"), MaxBody)...), "", huiyin.ErrInvalid},
	}
	for _, tc := range testCases {
		got, err := EncryptedEnvelope(tc.body)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: EncryptedEnvelope = %q, %v; want %v", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: EncryptedEnvelope = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestSafeModeExchange runs one encrypted request and reply the way the
// HTTP handler will: check, unwrap, decrypt, parse, reply, encrypt, sign.
func TestSafeModeExchange(t *testing.T) {
	const token, ts, nonce = "pamtest", "1700000000", "xxxxxx"
	v := Verifier{Token: token, Now: func() time.Time { return time.Unix(1700000010, 0) }}
	c := newTestCrypter(t, testAppID)

	body := readTestdata(t, "encrypted.xml")
	enc, err := EncryptedEnvelope(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.CheckMsg(MsgSignature(token, ts, nonce, enc), ts, nonce, enc); err != nil {
		t.Fatalf("CheckMsg: %v", err)
	}
	plain, err := c.Decrypt(enc)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(plain)
	if err != nil {
		t.Fatal(err)
	}

	replyEnc, err := c.Encrypt(TextReply(m, "已收到]]>", time.Unix(1700000011, 0)))
	if err != nil {
		t.Fatal(err)
	}
	out := EncryptedReply(token, ts, nonce, replyEnc)
	var r struct {
		XMLName      xml.Name `xml:"xml"`
		Encrypt      string
		MsgSignature string
		TimeStamp    string
		Nonce        string
	}
	if err := xml.Unmarshal(out, &r); err != nil {
		t.Fatalf("reply envelope is not XML: %v\n%s", err, out)
	}
	if r.Encrypt != replyEnc || r.TimeStamp != ts || r.Nonce != nonce {
		t.Fatalf("reply envelope = %+v", r)
	}
	// WeChat checks the reply the same way we check requests.
	if err := v.CheckMsg(r.MsgSignature, r.TimeStamp, r.Nonce, r.Encrypt); err != nil {
		t.Fatalf("reply signature: %v", err)
	}
	replyPlain, err := c.Decrypt(r.Encrypt)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := Parse(replyPlain)
	if err != nil {
		t.Fatal(err)
	}
	if reply.FromUserName != "gh_huiyin" || reply.ToUserName != "oOwner1" || reply.Content != "已收到]]>" {
		t.Fatalf("decrypted reply = %+v", reply)
	}
}

func FuzzDecrypt(f *testing.F) {
	c := newTestCrypter(f, testAppID)
	good, err := c.Encrypt([]byte(katMessage))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{katEncrypted, good, "", "!!!", "AAAA", base64.StdEncoding.EncodeToString(make([]byte, 32))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		plain, err := c.Decrypt(enc)
		if err != nil {
			if !errors.Is(err, huiyin.ErrInvalid) && !errors.Is(err, ErrSignature) {
				t.Fatalf("Decrypt error %v wraps neither ErrInvalid nor ErrSignature", err)
			}
			return
		}
		// Anything that decrypts must survive our own round trip.
		again, err := c.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := c.Decrypt(again); err != nil || !bytes.Equal(back, plain) {
			t.Fatalf("re-encrypted message did not round-trip: %v", err)
		}
	})
}
