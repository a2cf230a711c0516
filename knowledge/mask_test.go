package knowledge

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		// Mobile numbers.
		{"mobile", "我的电话13812345678，请尽快联系", "我的电话【电话1】，请尽快联系"},
		{"mobile spaces", "电话 138 1234 5678 找我", "电话 【电话1】 找我"},
		{"mobile dashes", "138-1234-5678", "【电话1】"},
		{"mobile +86", "+86 13812345678 或 +86-139-1234-5678 或 8615912345678", "【电话1】 或 【电话2】 或 【电话3】"},
		{"mobile (+86)", "(+86)13812345678", "(+86)【电话1】"},
		{"mobile same twice", "13812345678，再说一遍13812345678", "【电话1】，再说一遍【电话1】"},
		{"two mobiles", "13812345678 13912345678", "【电话1】 【电话2】"},
		{"mobile after letters", "tel13812345678", "tel【电话1】"},
		{"mobile full-width", "电话１３８１２３４５６７８谢谢", "电话【电话1】谢谢"},
		{"mobile inside longer number", "订单号213812345678901", "订单号213812345678901"},
		{"not a mobile prefix", "12812345678", "12812345678"},
		// Landlines.
		{"landline", "座机0755-12345678", "座机【电话1】"},
		{"landline no dash", "座机01087654321", "座机【电话1】"},
		{"landline parens", "(010)87654321、（０２０）１２３４５６７", "【电话1】、【电话2】"},
		{"hotline untouched", "客服热线400-820-8820", "客服热线400-820-8820"},
		// ID numbers.
		{"id 18", "身份证110101199003071234", "身份证【身份证1】"},
		{"id 18 X", "身份证号11010119900307123X。", "身份证号【身份证1】。"},
		{"id 18 x", "11010119900307123x", "【身份证1】"},
		{"id 15", "老身份证110101900307123", "老身份证【身份证1】"},
		// Bank cards.
		{"bank 16", "卡号6222021234567890", "卡号【银行卡1】"},
		{"bank 19", "卡号6222021234567890123。", "卡号【银行卡1】。"},
		{"bank groups", "卡号 6222 0212 3456 7890 123 转账", "卡号 【银行卡1】 转账"},
		{"bank then mobile", "卡号6222021234567890 13812345678", "卡号【银行卡1】 【电话1】"},
		{"bank 20 digits untouched", "12345678901234567890", "12345678901234567890"},
		// Plates.
		{"plate", "京A12345的车堵住了出口", "【车牌1】的车堵住了出口"},
		{"plate new energy dot", "粤B·D12345", "【车牌1】"},
		{"plate new energy", "沪AD12345停在消防通道", "【车牌1】停在消防通道"},
		{"plate lower case", "粤b12345", "【车牌1】"},
		{"plate trailer", "冀A1234挂", "【车牌1】"},
		{"plate full-width", "京Ａ１２３４５", "【车牌1】"},
		{"not a plate", "新A区的路灯坏了", "新A区的路灯坏了"},
		{"not a plate word", "新iPhone15到了", "新iPhone15到了"},
		// Rooms.
		{"room building unit", "3栋2单元1502漏水", "【房号1】漏水"},
		{"room dashes", "3-2-1502漏水", "【房号1】漏水"},
		{"room hao lou", "12号楼3单元301室", "【房号1】"},
		{"room shi", "1502室楼上太吵", "【房号1】楼上太吵"},
		{"room zuo", "B座1201门口", "【房号1】门口"},
		{"room building", "5幢803的狗", "【房号1】的狗"},
		{"room unit", "2单元601", "【房号1】"},
		{"room full-width", "３栋２单元１５０２", "【房号1】"},
		{"building alone", "3栋电梯坏了，28楼", "3栋电梯坏了，28楼"},
		{"building unit alone", "3栋2单元门禁坏了", "3栋2单元门禁坏了"},
		// E-mail.
		{"email", "邮箱zhang.san@example.com.cn，谢谢", "邮箱【邮箱1】，谢谢"},
		{"email digits", "13812345678@163.com", "【邮箱1】"},
		// Left alone.
		{"placeholder", "工单号{工单号}，3000元", "工单号{工单号}，3000元"},
		{"dates and times", "2026-11-23 15:30，30分钟内到场，24小时内答复", "2026-11-23 15:30，30分钟内到场，24小时内答复"},
		{"compact date", "20261123交了1200元物业费", "20261123交了1200元物业费"},
		{"amounts", "罚款200元，押金5000元，车位费300元/月", "罚款200元，押金5000元，车位费300元/月"},
		{"hours", "晚上10点以后还在装修", "晚上10点以后还在装修"},
		{"empty", "", ""},
		// Text that looks like a token is masked itself.
		{"literal token", "我写了【电话1】和13812345678", "我写了【原文1】和【电话1】"},
		{"literal token twice", "【房号2】【房号2】", "【原文1】【原文1】"},
		{"broken tokens", "【电话】【电话x】【电话1", "【电话】【电话x】【电话1"},
		// Mixed.
		{"mixed", "3栋2单元1502业主，电话138-1234-5678，车牌京A12345，邮箱a@b.cn", "【房号1】业主，电话【电话1】，车牌【车牌1】，邮箱【邮箱1】"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, m := Mask(tc.in)
			if got != tc.want {
				t.Errorf("Mask(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if back := m.Restore(got); back != tc.in {
				t.Errorf("Restore gives %q, want %q", back, tc.in)
			}
		})
	}
}

func TestMaskingValues(t *testing.T) {
	masked, m := Mask("电话13812345678，另一个139 1234 5678，又是13812345678，住3-2-1502")
	if want := "电话【电话1】，另一个【电话2】，又是【电话1】，住【房号1】"; masked != want {
		t.Fatalf("got %q, want %q", masked, want)
	}
	want := []MaskedValue{
		{Token: "【电话1】", Kind: MaskPhone, Value: "13812345678"},
		{Token: "【电话2】", Kind: MaskPhone, Value: "139 1234 5678"},
		{Token: "【房号1】", Kind: MaskRoom, Value: "3-2-1502"},
	}
	if m.Len() != len(want) || !slices.Equal(m.Values(), want) {
		t.Errorf("values %+v, want %+v", m.Values(), want)
	}
}

func TestRestore(t *testing.T) {
	_, m := Mask("我是3栋2单元1502的，电话13812345678")
	tests := []struct {
		name, in, want string
	}{
		{"draft", "您好，【房号1】的业主，我们会致电【电话1】，工单号{工单号}。", "您好，3栋2单元1502的业主，我们会致电13812345678，工单号{工单号}。"},
		{"unknown token kept", "【电话2】【车牌1】【其他1】", "【电话2】【车牌1】【其他1】"},
		{"repeated", "【电话1】【电话1】", "1381234567813812345678"},
		{"no tokens", "您好", "您好"},
	}
	for _, tc := range tests {
		if got := m.Restore(tc.in); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	var none *Masking
	if none.Restore("【电话1】") != "【电话1】" || none.Len() != 0 || none.Values() != nil {
		t.Error("a nil Masking must restore nothing")
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"3栋2单元1502电梯困人了，快来！电话13812345678",
		"我写了【电话1】和13812345678，【原文1】",
		"【电话【电话1】】【【房号1】",
		"卡号 6222 0212 3456 7890 123，身份证11010119900307123X",
		"京A12345 粤B·D12345 沪AD12345 冀A1234挂",
		"１３８１２３４５６７８ ３栋２单元１５０２ Ｂ座１２０１",
		"邮箱zhang.san@example.com (010)87654321 +86 138 1234 5678",
		"工单号{工单号}，3000元，2026-11-23 15:30，30分钟",
		"\xe3\x80【电话1】\x91\xff１",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		masked, m := Mask(s)
		if got := m.Restore(masked); got != s {
			t.Fatalf("Restore(Mask(%q)) = %q (masked %q)", s, got, masked)
		}
		for _, v := range m.Values() {
			if !strings.Contains(masked, v.Token) || !strings.Contains(s, v.Value) {
				t.Fatalf("value %+v: token or value missing", v)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(masked) {
			t.Fatalf("masking %q made invalid UTF-8 %q", s, masked)
		}
		// Masking is stable: masking the masked text again only turns
		// tokens into literal tokens, and restores to the masked text.
		again, m2 := Mask(masked)
		if m2.Restore(again) != masked {
			t.Fatalf("second round trip failed for %q", masked)
		}
	})
}
