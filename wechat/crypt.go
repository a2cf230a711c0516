package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"math"
	"strings"

	"github.com/huiyin/huiyin"
)

// blockPad is the PKCS#7 block size WeChat pads to: 32 bytes, the key size,
// not AES's 16-byte block. Any multiple of 32 is also a multiple of 16.
const blockPad = 32

// Crypter encrypts and decrypts safe-mode (安全模式) messages:
// AES-256-CBC with key = base64(EncodingAESKey+"="), IV = key[:16], and
// plaintext = 16 random bytes + big-endian uint32 length + message + appID,
// PKCS#7-padded to 32 bytes. It is safe for concurrent use.
type Crypter struct {
	block cipher.Block
	iv    []byte
	appID string
}

// NewCrypter returns a Crypter for the account's EncodingAESKey (43
// characters, from the WeChat console) and appID. Errors wrap
// huiyin.ErrInvalid.
func NewCrypter(encodingAESKey, appID string) (*Crypter, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("%w: wechat EncodingAESKey has %d characters, want 43", huiyin.ErrInvalid, len(encodingAESKey))
	}
	if appID == "" {
		return nil, fmt.Errorf("%w: wechat appID is empty", huiyin.ErrInvalid)
	}
	// The lenient (non-Strict) decoder ignores the unused low bits of the
	// 43rd character, as WeChat's reference SDKs do.
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: wechat EncodingAESKey is not base64 of a 32-byte key", huiyin.ErrInvalid)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: wechat EncodingAESKey: %v", huiyin.ErrInvalid, err)
	}
	return &Crypter{block: block, iv: key[:aes.BlockSize], appID: appID}, nil
}

// Decrypt turns the Encrypt text of a safe-mode message into the plaintext
// message XML. Malformed input wraps huiyin.ErrInvalid; a message for
// another appID wraps ErrSignature. Call it only after Verifier.CheckMsg:
// the signature is what authenticates the ciphertext.
func (c *Crypter) Decrypt(encrypted string) ([]byte, error) {
	data, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, fmt.Errorf("%w: wechat ciphertext is not base64: %v", huiyin.ErrInvalid, err)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: wechat ciphertext is %d bytes, not a positive multiple of %d", huiyin.ErrInvalid, len(data), aes.BlockSize)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(c.block, c.iv).CryptBlocks(plain, data)

	n := int(plain[len(plain)-1])
	if n < 1 || n > blockPad || n > len(plain) ||
		!bytes.Equal(plain[len(plain)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, fmt.Errorf("%w: wechat ciphertext has bad padding", huiyin.ErrInvalid)
	}
	plain = plain[:len(plain)-n]

	const header = 16 + 4 // random prefix, message length
	if len(plain) < header {
		return nil, fmt.Errorf("%w: wechat plaintext is %d bytes, too short", huiyin.ErrInvalid, len(plain))
	}
	rest := plain[header:]
	msgLen := binary.BigEndian.Uint32(plain[16:header])
	if uint64(msgLen) > uint64(len(rest)) {
		return nil, fmt.Errorf("%w: wechat plaintext claims a %d-byte message in %d bytes", huiyin.ErrInvalid, msgLen, len(rest))
	}
	msg, appID := rest[:msgLen], rest[msgLen:]
	if subtle.ConstantTimeCompare(appID, []byte(c.appID)) != 1 {
		return nil, fmt.Errorf("%w: message is for another appID", ErrSignature)
	}
	return bytes.Clone(msg), nil
}

// Encrypt returns the base64 Encrypt text for plain, with a fresh random
// prefix from crypto/rand so equal replies encrypt differently.
func (c *Crypter) Encrypt(plain []byte) (string, error) {
	if uint64(len(plain)) > math.MaxUint32 {
		return "", fmt.Errorf("%w: wechat message is %d bytes, too long to encrypt", huiyin.ErrInvalid, len(plain))
	}
	size := 16 + 4 + len(plain) + len(c.appID)
	pad := blockPad - size%blockPad
	buf := make([]byte, size+pad)
	if _, err := rand.Read(buf[:16]); err != nil {
		return "", fmt.Errorf("wechat: random prefix: %w", err)
	}
	binary.BigEndian.PutUint32(buf[16:20], uint32(len(plain)))
	copy(buf[20:], plain)
	copy(buf[20+len(plain):], c.appID)
	for i := size; i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// EncryptedEnvelope returns the Encrypt text of a safe-mode POST body
// (<xml><ToUserName/><Encrypt/></xml>). It applies Parse's limits; errors
// wrap huiyin.ErrInvalid.
func EncryptedEnvelope(body []byte) (string, error) {
	var env struct {
		XMLName    xml.Name `xml:"xml"`
		ToUserName string   `xml:"ToUserName"`
		Encrypt    string   `xml:"Encrypt"`
	}
	if err := decodeRoot(body, &env); err != nil {
		return "", err
	}
	enc := strings.TrimSpace(env.Encrypt)
	if enc == "" {
		return "", fmt.Errorf("%w: wechat envelope has no Encrypt", huiyin.ErrInvalid)
	}
	return enc, nil
}

// EncryptedReply renders the safe-mode reply envelope for encrypted (the
// output of Encrypt), signed with token, timestamp and nonce.
func EncryptedReply(token, timestamp, nonce, encrypted string) []byte {
	var b bytes.Buffer
	b.WriteString("<xml><Encrypt>")
	writeCDATA(&b, encrypted)
	b.WriteString("</Encrypt><MsgSignature>")
	writeCDATA(&b, MsgSignature(token, timestamp, nonce, encrypted))
	b.WriteString("</MsgSignature><TimeStamp>")
	_ = xml.EscapeText(&b, []byte(timestamp)) // bytes.Buffer never fails
	b.WriteString("</TimeStamp><Nonce>")
	writeCDATA(&b, nonce)
	b.WriteString("</Nonce></xml>")
	return b.Bytes()
}
