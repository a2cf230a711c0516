package wechat

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// The expected values were computed outside Go, e.g.
//
//	printf '%s\n' huiyin 1700000000 abc | LC_ALL=C sort | tr -d '\n' | sha1sum
func TestSignatureVectors(t *testing.T) {
	testCases := []struct {
		name string
		got  string
		want string
	}{
		{"Signature", Signature("huiyin", "1700000000", "abc"), "103bf82a25e3add4569136bd1b21de2274566e1b"},
		{"MsgSignature", MsgSignature("huiyin", "1700000000", "abc", "U2FsdGVkX1"), "c69184d8b15bed252cf0d064c080faeb412cd732"},
		// Order of arguments must not matter: the parts are sorted.
		{"Signature permuted", Signature("abc", "huiyin", "1700000000"), "103bf82a25e3add4569136bd1b21de2274566e1b"},
	}
	for _, tc := range testCases {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestVerifierCheck(t *testing.T) {
	now := time.Unix(1700000000, 0)
	v := Verifier{Token: "huiyin", Now: func() time.Time { return now }}
	sign := func(ts, nonce string) string { return Signature("huiyin", ts, nonce) }

	testCases := []struct {
		name           string
		v              Verifier
		sig, ts, nonce string
		ok             bool
	}{
		{"good", v, sign("1700000000", "abc"), "1700000000", "abc", true},
		{"good at edge of window", v, sign("1699999700", "abc"), "1699999700", "abc", true},
		{"good in the future within window", v, sign("1700000299", "abc"), "1700000299", "abc", true},
		{"wrong signature", v, "103bf82a25e3add4569136bd1b21de2274566e1c", "1700000000", "abc", false},
		{"signature for other nonce", v, sign("1700000000", "abd"), "1700000000", "abc", false},
		{"uppercase hex is not what WeChat sends", v, "103BF82A25E3ADD4569136BD1B21DE2274566E1B", "1700000000", "abc", false},
		{"missing signature", v, "", "1700000000", "abc", false},
		{"missing timestamp", v, sign("", "abc"), "", "abc", false},
		{"missing nonce", v, sign("1700000000", ""), "1700000000", "", false},
		{"stale timestamp", v, sign("1699999699", "abc"), "1699999699", "abc", false},
		{"future timestamp beyond skew", v, sign("1700000301", "abc"), "1700000301", "abc", false},
		{"non-numeric timestamp", v, sign("17e8", "abc"), "17e8", "abc", false},
		{"huge timestamp", v, sign("9223372036854775807", "abc"), "9223372036854775807", "abc", false},
		{"negative timestamp", v, sign("-9223372036854775808", "abc"), "-9223372036854775808", "abc", false},
		{"no token configured", Verifier{Now: v.Now}, Signature("", "1700000000", "abc"), "1700000000", "abc", false},
		{"custom skew", Verifier{Token: "huiyin", MaxSkew: time.Minute, Now: v.Now}, sign("1699999900", "abc"), "1699999900", "abc", false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.v.Check(tc.sig, tc.ts, tc.nonce)
			if tc.ok {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("Check = %v, want ErrSignature", err)
			}
		})
	}
}

func TestVerifierDefaultClock(t *testing.T) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	v := Verifier{Token: "huiyin"}
	if err := v.Check(Signature("huiyin", ts, "n"), ts, "n"); err != nil {
		t.Fatalf("Check with time.Now: %v", err)
	}
}

func TestVerifierCheckMsg(t *testing.T) {
	now := time.Unix(1700000000, 0)
	v := Verifier{Token: "huiyin", Now: func() time.Time { return now }}
	const enc = "U2FsdGVkX1"
	good := "c69184d8b15bed252cf0d064c080faeb412cd732"

	testCases := []struct {
		name                string
		sig, ts, nonce, enc string
		ok                  bool
	}{
		{"good", good, "1700000000", "abc", enc, true},
		{"other ciphertext", good, "1700000000", "abc", enc + "A", false},
		{"plain signature is not msg_signature", Signature("huiyin", "1700000000", "abc"), "1700000000", "abc", enc, false},
		{"missing msg_signature", "", "1700000000", "abc", enc, false},
		{"missing ciphertext", MsgSignature("huiyin", "1700000000", "abc", ""), "1700000000", "abc", "", false},
		{"stale", MsgSignature("huiyin", "1690000000", "abc", enc), "1690000000", "abc", enc, false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			err := v.CheckMsg(tc.sig, tc.ts, tc.nonce, tc.enc)
			if tc.ok {
				if err != nil {
					t.Fatalf("CheckMsg: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("CheckMsg = %v, want ErrSignature", err)
			}
		})
	}
}
