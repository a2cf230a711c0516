package triage

import (
	"strings"
	"unicode/utf8"
)

// injectSignals mark words of prompt injection (忽略, 指令, 回复里写上).
var injectSignals = bits(sigInjectVerb, sigInjectObject, sigInjectRole, sigInjectSet)

// dictateWords tell a reply what to say or the system what to be; a
// clause with them is not the owner's problem.
var dictateWords = map[string]bool{
	"回复": true, "写上": true, "指令": true, "提示词": true, "ai": true, "扮演": true, "角色": true,
	"系统": true, "限制": true, "忽略": true, "列出来": true, "机器人": true,
}

// problemRunes caps the problem phrase: long enough for 3栋电梯困人了 or
// 楼上每天半夜拖椅子, short enough to quote back in a reply.
const problemRunes = 28

// problemPhrase picks the owner's words for the problem, for a reply to
// quote back. Hazard and topic words (the thing the owner is talking
// about: 垃圾, 闭门器, 漏水) give a clause its weight; the heaviest clause
// wins, the earliest on a tie, and a clause that tells the reply what to
// say or begins a further problem (另外…) counts less. Within it the
// heaviest run of at most problemRunes characters is taken, since
// voice-to-text gives one long clause. Text inside a prompt-injection span
// is never used. It returns "" when nothing has content.
func problemPhrase(a *analysis) string {
	weight := func(t token) int {
		if t.sigs&(hazardSignals|topicSignals) != 0 {
			return 3
		}
		return 0
	}
	var words []token
	for _, t := range a.tokens {
		if !t.injected && t.kind == kindContent {
			words = append(words, t)
		}
	}
	// The clause with the most weight; the earliest wins a tie, since
	// owners usually say what is wrong first and how they feel after.
	clauseScore := map[int]int{}
	seen := map[int]bool{}
	for _, t := range words {
		if !seen[t.clause] {
			seen[t.clause] = true
			// 另外…, 还有… after another clause: a further problem, not
			// the main one.
			if clauseStarters[t.text] && len(seen) > 1 {
				clauseScore[t.clause] -= 10
			}
		}
		// A clause that tells the reply what to say is never quoted.
		if t.sigs&injectSignals != 0 || dictateWords[strings.ToLower(t.text)] {
			clauseScore[t.clause] -= 50
		}
		clauseScore[t.clause] += weight(t)
	}
	best := -1
	for _, t := range words {
		if best < 0 || clauseScore[t.clause] > clauseScore[best] {
			best = t.clause
		}
	}
	if best < 0 {
		return ""
	}
	// Within it, the heaviest run that fits, as much of the clause as fits
	// for context; the earliest wins a tie.
	bestStart, bestEnd, bestScore := -1, -1, -1
	for i := range words {
		if words[i].clause != best {
			continue
		}
		score, runes := 0, 0
		for j := i; j < len(words) && words[j].clause == best; j++ {
			runes += utf8.RuneCountInString(words[j].text)
			if runes > problemRunes {
				break
			}
			score += weight(words[j])
			end := words[j].start + len(words[j].text)
			if score > bestScore || score == bestScore && end-words[i].start > bestEnd-bestStart {
				bestStart, bestEnd, bestScore = words[i].start, end, score
			}
		}
	}
	if bestStart < 0 {
		// One word longer than the cap (a pasted link, a run of digits):
		// nothing short enough to quote.
		return ""
	}
	phrase := strings.TrimSpace(a.text[bestStart:bestEnd])
	return strings.TrimLeft(phrase, "我你您们家的了啊呀吧")
}
