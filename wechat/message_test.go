package wechat

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	huge := append([]byte("<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>"),
		bytes.Repeat([]byte("楼"), MaxBody/3)...)
	huge = append(huge, "</Content></xml>"...)

	testCases := []struct {
		name string
		body []byte
		want Message
		err  error
	}{
		{
			name: "text",
			body: readTestdata(t, "text.xml"),
			want: Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_1a2b3c", CreateTime: 1700000000,
				MsgType: "text", Content: "3栋2单元电梯又坏了，困了人！", MsgID: "24381234567890123"},
		},
		{
			name: "voice with recognition",
			body: readTestdata(t, "voice.xml"),
			want: Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_4d5e6f", CreateTime: 1700000100,
				MsgType: "voice", Recognition: "楼上漏水把我家天花板泡了", MsgID: "24381234567890124"},
		},
		{
			name: "image",
			body: readTestdata(t, "image.xml"),
			want: Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_1a2b3c", CreateTime: 1700000200,
				MsgType: "image", PicURL: "http://mmbiz.qpic.cn/example.jpg", MsgID: "24381234567890125"},
		},
		{
			name: "event subscribe",
			body: readTestdata(t, "event_subscribe.xml"),
			want: Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_7g8h9i", CreateTime: 1700000300,
				MsgType: "event", Event: "subscribe"},
		},
		{
			name: "event click",
			body: readTestdata(t, "event_click.xml"),
			want: Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_7g8h9i", CreateTime: 1700000400,
				MsgType: "event", Event: "CLICK", EventKey: "REPORT_REPAIR"},
		},
		{
			name: "location",
			body: readTestdata(t, "location.xml"),
			want: Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_1a2b3c", CreateTime: 1700000500,
				MsgType: "location", Label: "上海市黄浦区人民大道200号", MsgID: "24381234567890126"},
		},
		{
			name: "escaped text without CDATA",
			body: []byte(`<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>a &lt;b&gt; &amp; c</Content></xml>`),
			want: Message{FromUserName: "o1", MsgType: "text", Content: "a <b> & c"},
		},
		{name: "missing FromUserName", body: readTestdata(t, "missing_from.xml"), err: huiyin.ErrInvalid},
		{name: "missing MsgType", body: []byte(`<xml><FromUserName>o1</FromUserName></xml>`), err: huiyin.ErrInvalid},
		{name: "blank FromUserName", body: []byte(`<xml><FromUserName> </FromUserName><MsgType>text</MsgType></xml>`), err: huiyin.ErrInvalid},
		{name: "not xml", body: readTestdata(t, "not_xml.xml"), err: huiyin.ErrInvalid},
		{name: "wrong root", body: readTestdata(t, "wrong_root.xml"), err: huiyin.ErrInvalid},
		{name: "envelope is not a message", body: readTestdata(t, "encrypted.xml"), err: huiyin.ErrInvalid},
		{name: "empty", body: nil, err: huiyin.ErrInvalid},
		{name: "huge", body: huge, err: huiyin.ErrInvalid},
		{name: "unclosed", body: []byte(`<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType>`), err: huiyin.ErrInvalid},
		{name: "second root", body: []byte(`<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml><xml/>`), err: huiyin.ErrInvalid},
		{name: "trailing text", body: []byte(`<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml>junk`), err: huiyin.ErrInvalid},
		{name: "control character", body: []byte("<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>a\x01b</Content></xml>"), err: huiyin.ErrInvalid},
		{name: "invalid UTF-8", body: []byte("<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>a\xffb</Content></xml>"), err: huiyin.ErrInvalid},
		{name: "non-numeric CreateTime", body: []byte(`<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><CreateTime>soon</CreateTime></xml>`), err: huiyin.ErrInvalid},
		{name: "non-numeric MsgId", body: []byte(`<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><MsgId>x1</MsgId></xml>`), err: huiyin.ErrInvalid},
		{name: "undefined entity", body: []byte(`<xml><FromUserName>&xxe;</FromUserName><MsgType>text</MsgType></xml>`), err: huiyin.ErrInvalid},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.body)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Parse = %+v, %v; want error %v", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Parse =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestDedupKey(t *testing.T) {
	testCases := []struct {
		name string
		m    Message
		want string
	}{
		{"message uses MsgId", Message{FromUserName: "o1", CreateTime: 1700000000, MsgType: "text", MsgID: "243812"}, "243812"},
		{"event uses sender, time and event", Message{FromUserName: "o1", CreateTime: 1700000000, MsgType: "event", Event: "subscribe"}, "o1|1700000000|subscribe"},
		{"event without name", Message{FromUserName: "o1", CreateTime: 5, MsgType: "event"}, "o1|5|"},
	}
	for _, tc := range testCases {
		if got := tc.m.DedupKey(); got != tc.want {
			t.Errorf("%s: DedupKey = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestReceived(t *testing.T) {
	m := Message{CreateTime: 1700000000}
	if got, want := m.Received(), time.Unix(1700000000, 0); !got.Equal(want) {
		t.Fatalf("Received = %v, want %v", got, want)
	}
}

// replyXML is what a WeChat-side parser sees in a passive reply.
type replyXML struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      string
	Content      string
}

func TestTextReply(t *testing.T) {
	m := Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_1a2b3c", MsgType: "text"}
	now := time.Unix(1700000042, 0)

	testCases := []struct {
		name    string
		content string
		want    string // Content after parsing the reply
	}{
		{"plain", "已收到，我们会尽快处理。", "已收到，我们会尽快处理。"},
		{"CDATA terminator", "a]]>b", "a]]>b"},
		{"repeated terminators", "]]>]]]]>>]]", "]]>]]]]>>]]"},
		{"markup", `<script>alert("x")</script>&amp;`, `<script>alert("x")</script>&amp;`},
		{"newlines and CR", "line1\r\nline2\rline3\n\ttab", "line1\r\nline2\rline3\n\ttab"},
		{"empty", "", ""},
		{"control characters are replaced", "a\x00b\x1bc", "a\uFFFDb\uFFFDc"},
		{"invalid UTF-8 is replaced", "a\xffb", "a\uFFFDb"},
		{"noncharacter is replaced", "a\uFFFEb", "a\uFFFDb"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			out := TextReply(m, tc.content, now)
			if !bytes.HasPrefix(out, []byte("<xml><ToUserName><![CDATA[oOwner_1a2b3c]]></ToUserName>")) {
				t.Errorf("reply does not start the WeChat way: %s", out)
			}
			var r replyXML
			if err := xml.Unmarshal(out, &r); err != nil {
				t.Fatalf("reply is not XML: %v\n%s", err, out)
			}
			want := replyXML{XMLName: xml.Name{Local: "xml"}, ToUserName: "oOwner_1a2b3c", FromUserName: "gh_huiyin",
				CreateTime: 1700000042, MsgType: "text", Content: tc.want}
			if r != want {
				t.Fatalf("reply parsed to %+v, want %+v\n%s", r, want, out)
			}
			// Our own parser must accept it too: tests that talk to
			// ourselves replay replies as messages.
			if _, err := Parse(out); err != nil {
				t.Fatalf("Parse(reply): %v", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		f.Add(readTestdata(f, filepath.Base(name)))
	}
	f.Add([]byte(`<xml><FromUserName>o</FromUserName><MsgType>t</MsgType></xml><!-- c --> `))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Parse(body)
		if err != nil {
			if !errors.Is(err, huiyin.ErrInvalid) {
				t.Fatalf("Parse error %v does not wrap ErrInvalid", err)
			}
		} else if m.FromUserName == "" || m.MsgType == "" {
			t.Fatalf("Parse accepted a message without sender or type: %+v", m)
		}
		// The envelope reader shares the decoder; it must not panic either.
		if enc, err := EncryptedEnvelope(body); err == nil && enc == "" {
			t.Fatal("EncryptedEnvelope returned an empty Encrypt without error")
		}
	})
}

func FuzzTextReply(f *testing.F) {
	for _, s := range []string{"", "已收到", "]]>", "a]]]]>b", "<script>&amp;</script>", "\r\n\r", "\x00\xff", "\uFFFE"} {
		f.Add(s)
	}
	m := Message{ToUserName: "gh_huiyin", FromUserName: "oOwner_1a2b3c"}
	f.Fuzz(func(t *testing.T, content string) {
		out := TextReply(m, content, time.Unix(1700000000, 0))
		var r replyXML
		if err := xml.Unmarshal(out, &r); err != nil {
			t.Fatalf("reply for %q is not XML: %v\n%s", content, err, out)
		}
		valid := utf8.ValidString(content) && strings.IndexFunc(content, func(r rune) bool {
			// XML 1.0 Char, written out independently of isXMLChar.
			ok := r == 0x9 || r == 0xA || r == 0xD || 0x20 <= r && r <= 0xD7FF ||
				0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF
			return !ok
		}) < 0
		if valid && r.Content != content {
			t.Fatalf("Content %q came back as %q\n%s", content, r.Content, out)
		}
		if !valid && !utf8.ValidString(r.Content) {
			t.Fatalf("sanitized Content %q is not UTF-8", r.Content)
		}
	})
}
