package wechat

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrSignature means a callback is not provably from WeChat: its signature
// is missing or wrong, its timestamp is outside the replay window, or a
// decrypted message names another app. The HTTP layer should answer it
// without detail.
var ErrSignature = errors.New("wechat: bad signature")

// DefaultMaxSkew is the replay window used when Verifier.MaxSkew is zero.
const DefaultMaxSkew = 5 * time.Minute

// Signature returns WeChat's signature of a callback:
// hex(sha1(sorted(token, timestamp, nonce) joined)).
func Signature(token, timestamp, nonce string) string {
	return sortedSHA1(token, timestamp, nonce)
}

// MsgSignature returns the safe-mode signature, which also covers the
// ciphertext: hex(sha1(sorted(token, timestamp, nonce, encrypted) joined)).
func MsgSignature(token, timestamp, nonce, encrypted string) string {
	return sortedSHA1(token, timestamp, nonce, encrypted)
}

func sortedSHA1(parts ...string) string {
	slices.Sort(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// Verifier checks that callback requests come from WeChat and are fresh.
// The zero MaxSkew and nil Now give a 5-minute window around time.Now.
type Verifier struct {
	Token string
	// MaxSkew bounds how far a request's timestamp may be from Now, in
	// either direction; it limits how long a captured request can be
	// replayed. Zero or negative means DefaultMaxSkew.
	MaxSkew time.Duration
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Check verifies the signature query parameter of a plain-mode callback and
// the freshness of its timestamp. Errors wrap ErrSignature with the reason.
func (v Verifier) Check(signature, timestamp, nonce string) error {
	if signature == "" {
		return fmt.Errorf("%w: signature is missing", ErrSignature)
	}
	if err := v.checkArgs(timestamp, nonce); err != nil {
		return err
	}
	if !equal(signature, Signature(v.Token, timestamp, nonce)) {
		return fmt.Errorf("%w: signature does not match", ErrSignature)
	}
	return v.checkTime(timestamp)
}

// CheckMsg verifies the msg_signature of a safe-mode callback, which covers
// the Encrypt text, and the freshness of its timestamp. Errors wrap
// ErrSignature with the reason.
func (v Verifier) CheckMsg(msgSignature, timestamp, nonce, encrypted string) error {
	if msgSignature == "" {
		return fmt.Errorf("%w: msg_signature is missing", ErrSignature)
	}
	if encrypted == "" {
		return fmt.Errorf("%w: encrypted message is missing", ErrSignature)
	}
	if err := v.checkArgs(timestamp, nonce); err != nil {
		return err
	}
	if !equal(msgSignature, MsgSignature(v.Token, timestamp, nonce, encrypted)) {
		return fmt.Errorf("%w: msg_signature does not match", ErrSignature)
	}
	return v.checkTime(timestamp)
}

func (v Verifier) checkArgs(timestamp, nonce string) error {
	switch {
	case v.Token == "":
		// With no token anyone could compute the signature; refuse rather
		// than accept everything when configuration is missing.
		return fmt.Errorf("%w: verifier has no token configured", ErrSignature)
	case timestamp == "":
		return fmt.Errorf("%w: timestamp is missing", ErrSignature)
	case nonce == "":
		return fmt.Errorf("%w: nonce is missing", ErrSignature)
	}
	return nil
}

// checkTime runs only after the signature matched, so its reason, which
// names the server clock, goes only to callers that hold the token.
func (v Verifier) checkTime(timestamp string) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a number of seconds", ErrSignature, timestamp)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	maxSkew := v.MaxSkew
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	// Timestamps have whole seconds, so compare in seconds; subtracting
	// the clock (not the untrusted value) keeps huge inputs from overflowing.
	nowSec := now().Unix()
	window := int64(maxSkew / time.Second)
	if sec < nowSec-window || sec > nowSec+window {
		return fmt.Errorf("%w: timestamp %s is outside the %v replay window around %d",
			ErrSignature, timestamp, maxSkew, nowSec)
	}
	return nil
}

// equal compares in constant time so response timing does not reveal how
// much of a guessed signature is right.
func equal(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
