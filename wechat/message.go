package wechat

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

// MaxBody is the largest callback body Parse and EncryptedEnvelope accept.
// WeChat's messages are a few KiB; the cap bounds the work a forged body
// can cause.
const MaxBody = 64 << 10

// Message is an incoming message or event pushed by WeChat (plain-mode XML,
// or the plaintext of a safe-mode envelope).
type Message struct {
	ToUserName   string // the official account's id
	FromUserName string // the owner's openid
	CreateTime   int64  // Unix seconds
	MsgType      string // text, image, voice, video, shortvideo, location, link, event
	Content      string // text
	MsgID        string // MsgId as a decimal string; empty for events
	Recognition  string // voice recognition text, when enabled
	Event        string // subscribe, unsubscribe, CLICK, ...
	EventKey     string
	Label        string // location label
	PicURL       string
}

// wireMessage mirrors the XML; MsgId stays a string because it is a 64-bit
// id that other layers store and compare, never do arithmetic on.
type wireMessage struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   string   `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
	MsgID        string   `xml:"MsgId"`
	Recognition  string   `xml:"Recognition"`
	Event        string   `xml:"Event"`
	EventKey     string   `xml:"EventKey"`
	Label        string   `xml:"Label"`
	PicURL       string   `xml:"PicUrl"`
}

// Parse reads a message body. It requires at most MaxBody bytes of
// well-formed XML with a single <xml> root, a FromUserName and a MsgType;
// anything else is an error wrapping huiyin.ErrInvalid.
func Parse(body []byte) (Message, error) {
	var w wireMessage
	if err := decodeRoot(body, &w); err != nil {
		return Message{}, err
	}
	m := Message{
		ToUserName:   strings.TrimSpace(w.ToUserName),
		FromUserName: strings.TrimSpace(w.FromUserName),
		MsgType:      strings.TrimSpace(w.MsgType),
		Content:      w.Content,
		MsgID:        strings.TrimSpace(w.MsgID),
		Recognition:  w.Recognition,
		Event:        strings.TrimSpace(w.Event),
		EventKey:     w.EventKey,
		Label:        w.Label,
		PicURL:       strings.TrimSpace(w.PicURL),
	}
	if m.FromUserName == "" {
		return Message{}, fmt.Errorf("%w: wechat message has no FromUserName", huiyin.ErrInvalid)
	}
	if m.MsgType == "" {
		return Message{}, fmt.Errorf("%w: wechat message has no MsgType", huiyin.ErrInvalid)
	}
	if ct := strings.TrimSpace(w.CreateTime); ct != "" {
		n, err := strconv.ParseInt(ct, 10, 64)
		if err != nil {
			return Message{}, fmt.Errorf("%w: wechat message CreateTime %q is not a number", huiyin.ErrInvalid, ct)
		}
		m.CreateTime = n
	}
	if m.MsgID != "" {
		// Ids are used as dedup keys; a non-numeric one is not from WeChat.
		if _, err := strconv.ParseUint(m.MsgID, 10, 64); err != nil {
			return Message{}, fmt.Errorf("%w: wechat message MsgId %q is not a number", huiyin.ErrInvalid, m.MsgID)
		}
	}
	return m, nil
}

// decodeRoot decodes body into v, whose XMLName demands the <xml> root, and
// rejects oversized bodies and anything but whitespace, comments or
// processing instructions after the root, so a body is one document.
func decodeRoot(body []byte, v any) error {
	if len(body) > MaxBody {
		return fmt.Errorf("%w: wechat body is %d bytes, limit %d", huiyin.ErrInvalid, len(body), MaxBody)
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: wechat body is empty", huiyin.ErrInvalid)
		}
		return fmt.Errorf("%w: wechat body is not an <xml> document: %v", huiyin.ErrInvalid, err)
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: wechat body has malformed trailing data: %v", huiyin.ErrInvalid, err)
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("%w: wechat body has text after the root element", huiyin.ErrInvalid)
			}
		default:
			return fmt.Errorf("%w: wechat body has more than one root element", huiyin.ErrInvalid)
		}
	}
}

// DedupKey is the idempotency key of a message. WeChat retries a message it
// got no answer to; messages repeat their MsgId, and events, which have
// none, are identified by sender, creation time and event name.
func (m Message) DedupKey() string {
	if m.MsgID != "" {
		return m.MsgID
	}
	return m.FromUserName + "|" + strconv.FormatInt(m.CreateTime, 10) + "|" + m.Event
}

// Received returns CreateTime as a time.Time.
func (m Message) Received() time.Time {
	return time.Unix(m.CreateTime, 0)
}

// TextReply renders the passive text reply that answers m: it goes to
// m.FromUserName from m.ToUserName, stamped with now. Text that XML cannot
// carry (invalid UTF-8, control characters other than tab, LF and CR) is
// replaced with U+FFFD so the reply is always well-formed; everything else
// round-trips exactly.
func TextReply(m Message, content string, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString("<xml><ToUserName>")
	writeCDATA(&b, m.FromUserName)
	b.WriteString("</ToUserName><FromUserName>")
	writeCDATA(&b, m.ToUserName)
	b.WriteString("</FromUserName><CreateTime>")
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	b.WriteString("</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>")
	writeCDATA(&b, content)
	b.WriteString("</Content></xml>")
	return b.Bytes()
}

// cdataEscaper splits CDATA where the text would end it early ("]]>") and
// where a parser would rewrite it: XML turns a raw CR (and CRLF) into LF
// even inside CDATA, so CR goes out as a character reference.
var cdataEscaper = strings.NewReplacer(
	"]]>", "]]]]><![CDATA[>",
	"\r", "]]>&#13;<![CDATA[",
)

// writeCDATA writes s as CDATA, the form WeChat's own samples use.
func writeCDATA(b *bytes.Buffer, s string) {
	b.WriteString("<![CDATA[")
	b.WriteString(cdataEscaper.Replace(xmlSafe(s)))
	b.WriteString("]]>")
}

// xmlSafe replaces invalid UTF-8 and characters outside XML 1.0's Char
// production with U+FFFD.
func xmlSafe(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !isXMLChar(r) }) < 0 {
		return s
	}
	// Map hands each invalid byte over as RuneError, which is then written
	// as a valid U+FFFD.
	return strings.Map(func(r rune) rune {
		if isXMLChar(r) {
			return r
		}
		return utf8.RuneError
	}, s)
}

// isXMLChar reports whether r is allowed in an XML 1.0 document (the Char
// production).
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= utf8.MaxRune
}
