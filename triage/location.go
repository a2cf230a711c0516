package triage

import (
	"slices"
	"strconv"
	"strings"
)

// Location is where the problem is, as the owner wrote it. Numbers are
// Arabic digits whatever form the owner used (十二号楼 → 12, 三零一 → 301);
// parts the text does not give are empty, never guessed.
type Location struct {
	Building string `json:"building"`
	Unit     string `json:"unit"`
	Room     string `json:"room"`
	Area     string `json:"area"`
}

// IsZero reports whether no part was found.
func (l Location) IsZero() bool { return l == Location{} }

// String renders the location as staff write it: 3栋2单元1502室 · 地下车库.
func (l Location) String() string {
	var b strings.Builder
	if l.Building != "" {
		b.WriteString(l.Building + "栋")
	}
	if l.Unit != "" {
		b.WriteString(l.Unit + "单元")
	}
	if l.Room != "" {
		b.WriteString(l.Room + "室")
	}
	if l.Area != "" {
		if b.Len() > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(l.Area)
	}
	return b.String()
}

// areaNames are the places shared by the whole community that count as an
// area (LABELLING.md keeps the same list). They are in the segmentation
// dictionary, so each comes out of jieba as one word.
var areaNames = []string{
	"地下车库", "地下停车场", "停车场", "车库", "车库入口", "东门", "西门", "南门", "北门",
	"正门", "大门", "后门", "侧门", "门岗", "儿童游乐区", "儿童乐园", "游乐场", "中心花园",
	"花园", "会所", "游泳池", "健身房", "篮球场", "广场", "架空层", "垃圾站", "垃圾房",
	"快递柜", "快递驿站", "物业服务中心", "消防通道", "充电桩", "自行车棚", "电动车棚",
	"非机动车棚", "水泵房", "配电房", "人工湖", "喷泉",
}

// privateOwners mark a place name as someone's own rather than shared:
// 我家花园 and 私人充电桩 are not community areas.
var privateOwners = []string{"家", "入户", "屋顶", "私家", "自家", "私人", "个人", "自己的"}

// doorOwners mark a door as a building's or a car's, not the community's:
// 单元大门, 楼栋大门, 左后门.
var doorOwners = []string{"单元", "楼", "栋", "左", "右", "车", "前"}

// Certainty of each way a location part can be found, reported as the
// location's confidence (the lowest over the parts found).
const (
	certMarked = 0.95 // 3栋, 2单元, 1502室
	certDashed = 0.9  // 3-2-1502
	certBare   = 0.8  // 1502 with context such as 我家1502
)

type numberKind uint8

const (
	numArabic   numberKind = iota // 1502
	numCNDigits                   // 一五零二, read digit by digit
	numCNValue                    // 十二, 一百零二
	numLetter                     // B (only before a building marker)
)

// mention is a number in the text with its position in runes.
type mention struct {
	start, end int // rune offsets
	value      string
	kind       numberKind
	digits     int
}

// locator extracts a Location from the runes of a cleaned message.
type locator struct {
	r    []rune
	loc  Location
	cert float64
	// buildingAmbiguous is set by a list or range of buildings (3栋和5栋).
	buildingAmbiguous bool
}

// extractLocation finds the location in an analysed message, ignoring words
// inside a prompt injection.
func extractLocation(a *analysis, buf []rune) (Location, float64, []rune) {
	buf = buf[:0]
	for _, t := range a.tokens {
		if t.injected {
			for range t.text {
				buf = append(buf, ' ')
			}
			continue
		}
		for _, c := range t.text {
			buf = append(buf, c)
		}
	}
	l := locator{r: buf, cert: 1}
	l.scan()
	l.loc.Area = findArea(l.r)
	if l.buildingAmbiguous {
		l.loc.Building = ""
	}
	cert := l.cert
	if l.loc.IsZero() {
		cert = 0.99
		for _, c := range buf {
			if isDigit(c) || cnDigit(c) >= 0 {
				cert = 0.8 // numbers were present but none read as a place
				break
			}
		}
	}
	return l.loc, cert, buf
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') }

// cnDigit is the value of a Chinese numeral character used digit by digit,
// or -1. 幺 is how 1 is read aloud in room and phone numbers.
func cnDigit(r rune) int {
	switch r {
	case '零', '〇', 'O':
		return 0
	case '一', '幺':
		return 1
	case '二', '两':
		return 2
	case '三':
		return 3
	case '四':
		return 4
	case '五':
		return 5
	case '六':
		return 6
	case '七':
		return 7
	case '八':
		return 8
	case '九':
		return 9
	}
	return -1
}

func isCNNumeral(r rune) bool {
	return (cnDigit(r) >= 0 && r != 'O') || r == '十' || r == '百'
}

// readMention reads the number that starts at i, if any.
func (l *locator) readMention(i int) (mention, bool) {
	r := l.r
	switch {
	case isDigit(r[i]):
		j := i
		for j < len(r) && isDigit(r[j]) {
			j++
		}
		return mention{start: i, end: j, value: strings.TrimLeft(string(r[i:j]), "0"), kind: numArabic, digits: j - i}, true
	case isCNNumeral(r[i]):
		j := i
		for j < len(r) && isCNNumeral(r[j]) {
			j++
		}
		s := r[i:j]
		m := mention{start: i, end: j, digits: j - i}
		positional := false
		for _, c := range s {
			if c == '十' || c == '百' {
				positional = true
			}
		}
		if positional {
			v, ok := cnValue(s)
			if !ok {
				return m, false
			}
			m.value, m.kind = strconv.Itoa(v), numCNValue
			return m, true
		}
		var b strings.Builder
		for _, c := range s {
			b.WriteByte(byte('0' + cnDigit(c)))
		}
		m.value, m.kind = b.String(), numCNDigits
		if m.digits == 1 || m.digits == 2 {
			// 三栋, 二单元: a small number read as its value.
			v, _ := cnValue(s)
			m.value = strconv.Itoa(v)
		}
		return m, true
	case isLetter(r[i]) && (i == 0 || !isLetter(r[i-1]) && !isDigit(r[i-1])) && i+1 < len(r) && !isLetter(r[i+1]) && !isDigit(r[i+1]):
		return mention{start: i, end: i + 1, value: strings.ToUpper(string(r[i])), kind: numLetter, digits: 1}, true
	}
	return mention{}, false
}

// cnValue reads a positional Chinese number up to the hundreds.
func cnValue(s []rune) (int, bool) {
	total, cur := 0, 0
	seen := false
	for _, c := range s {
		switch c {
		case '百':
			if cur == 0 {
				cur = 1
			}
			total += cur * 100
			cur = 0
		case '十':
			if cur == 0 {
				cur = 1
			}
			total += cur * 10
			cur = 0
		default:
			d := cnDigit(c)
			if d < 0 {
				return 0, false
			}
			if d == 0 {
				continue
			}
			cur = cur*10 + d
		}
		seen = true
	}
	return total + cur, seen
}

// hasAt reports whether the runes at i spell one of words; it returns the
// length matched.
func (l *locator) hasAt(i int, words ...string) int {
	for _, w := range words {
		n := 0
		ok := true
		for _, c := range w {
			if i+n >= len(l.r) || l.r[i+n] != c {
				ok = false
				break
			}
			n++
		}
		if ok {
			return n
		}
	}
	return 0
}

// endsWith reports whether the runes just before i spell one of words.
func (l *locator) endsWith(i int, words ...string) bool {
	for _, w := range words {
		rw := []rune(w)
		if i-len(rw) >= 0 && string(l.r[i-len(rw):i]) == w {
			return true
		}
	}
	return false
}

func (l *locator) skipSpace(i int) int {
	for i < len(l.r) && l.r[i] == ' ' {
		i++
	}
	return i
}

func (l *locator) setBuilding(v string, cert float64) {
	if l.loc.Building == "" {
		l.loc.Building = v
		l.cert = min(l.cert, cert)
	} else if l.loc.Building != v {
		// A second, different building: keep the first mention.
		_ = v
	}
}

func (l *locator) setUnit(v string, cert float64) {
	if l.loc.Unit == "" {
		l.loc.Unit = v
		l.cert = min(l.cert, cert)
	}
}

func (l *locator) setRoom(v string, cert float64) {
	if l.loc.Room == "" {
		l.loc.Room = v
		l.cert = min(l.cert, cert)
	}
}

// 号搂 is how voice input often writes 号楼.
var buildingMarkers = []string{"号楼", "栋", "幢", "座", "#楼", "#", "号栋", "号搂"}

// Words after a number that make it anything but a room.
var notRoomAfter = []string{"元", "块", "年", "米", "平", "次", "个", "户", "号车位", "车位", "分", "点", "号", "斤", "小时", "岁", "%", "多", "余", "人", "辆", "栋", "层", "楼", "毫", "公", "千", "万", "度", "月", "周", "条", "张", "件", "台", "部", "期", "届", "路", "弄", "巷", "-", ".", ":", "/", "k", "K", "w", "W"}

// Words before a number that make it anything but a room.
var notRoomBefore = []string{"车位", "工单", "单号", "编号", "电话", "手机", "尾号", "号码", "订单", "快递", "取件码", "验证码", "工号", "¥", "花了", "交了", "付了", "第", "密码", "车牌", "共", "约", "近", "大约", "总共", "合计", "扣了", "收了", "要了", "罚", "价格", "预算"}

// Words around a bare number that make it a home.
var roomAfter = []string{"室", "房", "号房", "的", "业主", "住户", "家", "卫生间", "厨房", "客厅", "阳台", "门口", "这户", "那户", "漏水", "楼上", "楼下"}
var roomBefore = []string{"我家", "家住", "住在", "住", "我是", "是", "楼上", "楼下", "隔壁", "对门", "对面", "业主", "房号", "门牌", "户号"}

func (l *locator) scan() {
	r := l.r
	for i := 0; i < len(r); {
		m, ok := l.readMention(i)
		if !ok {
			i++
			continue
		}
		next := l.parseAt(m)
		if next <= i {
			next = m.end
		}
		i = next
	}
}

// parseAt interprets one number mention and what follows it; it returns
// where scanning continues.
func (l *locator) parseAt(m mention) int {
	r := l.r
	j := m.end
	// A number glued to letters or longer digit runs is a code, not a place.
	if m.kind != numLetter && m.start > 0 && isLetter(r[m.start-1]) {
		return skipCode(r, j)
	}
	if m.kind == numArabic && j < len(r) && isLetter(r[j]) && l.hasAt(j, "#") == 0 {
		return skipCode(r, j)
	}
	// Building: 3栋, 3号楼, B座, 十二号楼, 5楼2单元.
	if n := l.hasAt(j, buildingMarkers...); n > 0 && m.digits <= 3 && (m.kind != numCNDigits || m.digits <= 2) {
		if m.kind == numArabic && m.digits == 0 {
			return j + n
		}
		if l.isListed(m) {
			l.buildingAmbiguous = true
		}
		l.setBuilding(m.value, certMarked)
		return l.afterBuilding(j + n)
	}
	if m.kind == numLetter {
		return j
	}
	if n := l.hasAt(j, "楼"); n > 0 && m.digits <= 2 && m.kind != numCNDigits || (n > 0 && m.kind == numCNDigits && m.digits <= 2) {
		k := l.skipSpace(j + n)
		if u, ok := l.unitAt(k); ok {
			l.setBuilding(m.value, certMarked)
			return l.afterUnit(u)
		}
		return j + n // a floor: 28楼
	}
	if _, ok := l.unitAt(m.start); ok {
		u, _ := l.unitAt(m.start)
		return l.afterUnit(u)
	}
	// 3-2-1502 and 3-1502.
	if m.kind == numArabic {
		if k, ok := l.dashed(m); ok {
			return k
		}
	}
	if l.isRoomNumber(m) {
		return j
	}
	return j
}

func skipCode(r []rune, j int) int {
	for j < len(r) && (isLetter(r[j]) || isDigit(r[j]) || r[j] == '-') {
		j++
	}
	return j
}

// isListed reports whether a building number is part of a list or range:
// 3和5栋, 3、5栋, 3到5栋, 3-5栋, 3栋和5栋.
func (l *locator) isListed(m mention) bool {
	r := l.r
	i := m.start - 1
	if i < 0 {
		return false
	}
	switch r[i] {
	case '和', '、', '到', '至', '-', '~', '与', '跟', '及', '或', ',', '，':
	default:
		return false
	}
	if i == 0 {
		return false
	}
	p := r[i-1]
	if isDigit(p) || isCNNumeral(p) || isLetter(p) {
		return true
	}
	for _, mk := range buildingMarkers {
		if l.endsWith(i, mk) {
			// 3栋和5栋: a second building marked the same way.
			return true
		}
	}
	return false
}

type unitMention struct {
	value string
	end   int
}

// unitAt reads "2单元" starting at i.
func (l *locator) unitAt(i int) (unitMention, bool) {
	if i >= len(l.r) {
		return unitMention{}, false
	}
	m, ok := l.readMention(i)
	if !ok || m.kind == numLetter || m.digits > 2 {
		return unitMention{}, false
	}
	if n := l.hasAt(m.end, "单元"); n > 0 {
		return unitMention{value: m.value, end: m.end + n}, true
	}
	return unitMention{}, false
}

func (l *locator) afterBuilding(i int) int {
	k := l.skipSpace(i)
	if u, ok := l.unitAt(k); ok {
		return l.afterUnit(u)
	}
	// 3栋1502, B座1203.
	if k < len(l.r) {
		if m, ok := l.readMention(k); ok && (m.kind == numArabic || m.kind == numCNDigits) && m.digits >= 3 && m.digits <= 4 {
			if !l.followedByAny(m.end, notRoomAfter...) || l.followedByAny(m.end, "室", "房", "号房") {
				l.setRoom(m.value, certMarked)
				return m.end
			}
		}
	}
	return i
}

func (l *locator) afterUnit(u unitMention) int {
	l.setUnit(u.value, certMarked)
	k := l.skipSpace(u.end)
	if k < len(l.r) {
		if m, ok := l.readMention(k); ok && (m.kind == numArabic || m.kind == numCNDigits) && m.digits >= 3 && m.digits <= 4 {
			if !l.followedByAny(m.end, "楼", "层") {
				l.setRoom(m.value, certMarked)
				return m.end
			}
		}
	}
	return u.end
}

func (l *locator) followedByAny(i int, words ...string) bool {
	return l.hasAt(i, words...) > 0
}

// dashed reads 3-2-1502 (building-unit-room) and 3-1502 (building-room).
func (l *locator) dashed(m mention) (int, bool) {
	r := l.r
	isDash := func(i int) bool { return i < len(r) && (r[i] == '-' || r[i] == '—' || r[i] == '–' || r[i] == '_') }
	readNum := func(i int) (mention, bool) {
		if i >= len(r) || !isDigit(r[i]) {
			return mention{}, false
		}
		return l.readMention(i)
	}
	if !isDash(m.end) || m.digits > 3 || l.endsWith(m.start, notRoomBefore...) {
		return 0, false
	}
	second, ok := readNum(m.end + 1)
	if !ok {
		return 0, false
	}
	if isDash(second.end) {
		third, ok := readNum(second.end + 1)
		if !ok || second.digits > 2 || third.digits < 3 || third.digits > 4 || isDash(third.end) || l.followedByAny(third.end, notRoomAfter...) && !l.followedByAny(third.end, "室", "房", "号房") {
			return 0, false
		}
		l.setBuilding(m.value, certDashed)
		l.setUnit(second.value, certDashed)
		l.setRoom(third.value, certDashed)
		return third.end, true
	}
	if second.digits < 3 || second.digits > 4 || l.followedByAny(second.end, notRoomAfter...) && !l.followedByAny(second.end, "室", "房", "号房") {
		return 0, false
	}
	l.setBuilding(m.value, certDashed)
	l.setRoom(second.value, certDashed)
	return second.end, true
}

// isRoomNumber records a bare 3–4 digit number as the room when the words
// around it say it is a home (我家1502, 1502的业主, 三零一室).
func (l *locator) isRoomNumber(m mention) bool {
	if m.kind == numLetter || m.digits < 3 || m.digits > 4 || m.value == "" {
		return false
	}
	if m.kind == numCNValue && !l.followedByAny(m.end, "室", "房", "号房") {
		return false
	}
	if m.kind == numArabic && (m.start > 0 && isDigit(l.r[m.start-1])) {
		return false
	}
	if l.endsWith(m.start, notRoomBefore...) {
		return false
	}
	if l.followedByAny(m.end, "室", "房", "号房") {
		l.setRoom(m.value, certMarked)
		return true
	}
	if l.followedByAny(m.end, notRoomAfter...) || l.followedByAny(m.end, "天") && !l.followedByAny(m.end, "天天") {
		return false
	}
	before := l.r[:m.start]
	for len(before) > 0 && before[len(before)-1] == ' ' {
		before = before[:len(before)-1]
	}
	if l.followedByAny(m.end, roomAfter...) || l.endsWith(len(before), roomBefore...) {
		l.setRoom(m.value, certBare)
		return true
	}
	return false
}

// areasByFirst indexes the area names by their first rune, longest first.
var areasByFirst = func() map[rune][][]rune {
	m := map[rune][][]rune{}
	for _, a := range areaNames {
		r := []rune(a)
		m[r[0]] = append(m[r[0]], r)
	}
	for _, names := range m {
		slices.SortFunc(names, func(a, b []rune) int { return len(b) - len(a) })
	}
	return m
}()

// areaFirst marks the runes an area name starts with, so that the scan
// looks most characters up in an array rather than a map.
const areaFirstRunes = 0xA000

var areaFirst = func() *[areaFirstRunes]bool {
	var t [areaFirstRunes]bool
	for _, a := range areaNames {
		if r := []rune(a)[0]; r < areaFirstRunes {
			t[r] = true
		}
	}
	return &t
}()

// findArea returns the shared place the message names: an area word from
// the list or a numbered elevator (3号电梯). When several are named the
// first counts, unless the next one starts where it ends or overlaps it
// (西门垃圾站, 地下车库入口): then the longer, which is the more specific.
func findArea(r []rune) string {
	type hit struct{ start, end int }
	var found []hit
	for i := 0; i < len(r); i++ {
		if isDigit(r[i]) || isCNNumeral(r[i]) {
			if h, ok := numberedElevator(r, i); ok {
				found = append(found, h)
				i = h.end - 1
				continue
			}
		}
		if r[i] >= areaFirstRunes || !areaFirst[r[i]] {
			continue
		}
		for _, name := range areasByFirst[r[i]] {
			if i+len(name) > len(r) || !slices.Equal(r[i:i+len(name)], name) || !sharedPlace(r, i, string(name)) {
				continue
			}
			found = append(found, hit{i, i + len(name)})
			break
		}
	}
	if len(found) == 0 {
		return ""
	}
	best := found[0]
	for _, h := range found[1:] {
		if h.start > best.end {
			break
		}
		if h.end-h.start > best.end-best.start {
			best = h
		}
	}
	name := string(r[best.start:best.end])
	if strings.HasSuffix(name, "号电梯") {
		return elevatorName(r[best.start : best.end-3])
	}
	return name
}

// numberedElevator matches 3号电梯 or 三号电梯 starting at i.
func numberedElevator(r []rune, i int) (struct{ start, end int }, bool) {
	j := i
	for j < len(r) && (isDigit(r[j]) || isCNNumeral(r[j])) {
		j++
	}
	if j == i || (i > 0 && (isDigit(r[i-1]) || isCNNumeral(r[i-1]))) || j+3 > len(r) || string(r[j:j+3]) != "号电梯" {
		return struct{ start, end int }{}, false
	}
	return struct{ start, end int }{i, j + 3}, true
}

func elevatorName(num []rune) string {
	if isDigit(num[0]) {
		return strings.TrimLeft(string(num), "0") + "号电梯"
	}
	v, _ := cnValue(num)
	return strconv.Itoa(v) + "号电梯"
}

// sharedPlace rejects a place name that belongs to someone (单元大门,
// 我家花园, 私人充电桩), is part of a car (左后门) or addresses a letter
// (致物业服务中心：).
func sharedPlace(r []rune, i int, name string) bool {
	before := string(r[max(0, i-4):i])
	for _, p := range privateOwners {
		if strings.HasSuffix(before, p) {
			return false
		}
	}
	switch name {
	case "后门", "侧门", "大门", "正门":
		for _, p := range doorOwners {
			if strings.HasSuffix(before, p) {
				return false
			}
		}
	case "物业服务中心":
		// The addressee of a letter: 致物业服务中心, 尊敬的物业服务中心：,
		// or the name alone opening the message followed by a colon.
		if strings.HasSuffix(before, "致") || strings.HasSuffix(before, "给") || strings.HasSuffix(before, "尊敬的") {
			return false
		}
		if end := i + len([]rune(name)); strings.TrimSpace(string(r[:i])) == "" && end < len(r) && (r[end] == ':' || r[end] == '：') {
			return false
		}
	}
	return true
}
