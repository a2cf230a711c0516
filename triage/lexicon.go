package triage

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed signals.yaml
var signalsYAML []byte

// signal is a bit position in a token's or clause's signal set.
type signal uint8

// The signals of signals.yaml, in a fixed order. Rules refer to them by
// constant; the YAML file must name exactly these.
const (
	sigFire signal = iota
	sigSmoke
	sigGas
	sigLeak
	sigGasLeak
	sigTrapped
	sigElevator
	sigElevatorTrap
	sigBurst
	sigPipe
	sigFlood
	sigElectricExposed
	sigSparks
	sigElectric
	sigSewageIn
	sigSewage
	sigHome
	sigPersonDown
	sigChild
	sigLockedInCar
	sigFalling
	sigPeopleBelow
	sigHeight
	sigRescueVehicle
	sigBlocked
	sigBreakIn
	sigNow
	sigNearMiss
	sigResolved
	sigFalseAlarm
	sigHedge
	sigOutage
	sigBroken
	sigMedia
	sigRegulator
	sigLegal
	sigRepeat
	sigCollective
	sigFee
	sigRefusePay
	sigFeeRefusal
	sigHazard
	sigVulnerable
	sigAnger
	sigPraise
	sigQuestion
	sigSuggest
	sigComplain
	sigInjectVerb
	sigInjectObject
	sigInjectRole
	sigInjectSet
	sigLabel
	sigTopicRepair
	sigTopicCleaning
	sigTopicSecurity
	sigTopicGreening
	sigTopicParking
	sigTopicFees
	sigTopicNeighbor
	sigTopicRenovation
	sigTopicStaff
	sigTopicOther
	numSignals
)

var signalNames = [numSignals]string{
	"fire", "smoke", "gas", "leak", "gas_leak", "trapped", "elevator", "elevator_trap",
	"burst", "pipe", "flood", "electric_exposed", "sparks", "electric", "sewage_in", "sewage", "home",
	"person_down", "child", "locked_in_car", "falling", "people_below", "height", "rescue_vehicle", "blocked", "break_in", "now", "near_miss", "resolved", "false_alarm", "hedge",
	"outage", "broken", "media", "regulator", "legal", "repeat", "collective",
	"fee", "refuse_pay", "fee_refusal", "hazard", "vulnerable", "anger", "praise", "question",
	"suggest", "complain", "inject_verb", "inject_object", "inject_role",
	"inject_set", "label", "topic_repair", "topic_cleaning", "topic_security",
	"topic_greening", "topic_parking", "topic_fees", "topic_neighbor",
	"topic_renovation", "topic_staff", "topic_other",
}

func (s signal) String() string { return signalNames[s] }

// A signal set is a uint64.
var _ [64 - numSignals]struct{}

// signalSet holds one bit per signal.
type signalSet uint64

func (s signalSet) has(sig signal) bool { return s&(1<<sig) != 0 }

func bits(sigs ...signal) signalSet {
	var s signalSet
	for _, sig := range sigs {
		s |= 1 << sig
	}
	return s
}

// lexicon maps a word (ASCII lower-cased) to the signals it carries.
type lexicon struct {
	words map[string]signalSet
}

var loadLexicon = sync.OnceValues(func() (*lexicon, error) {
	return parseLexicon(signalsYAML)
})

func parseLexicon(data []byte) (*lexicon, error) {
	var raw map[string][]string
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse signal lexicon: %w", err)
	}
	lex := &lexicon{words: map[string]signalSet{}}
	for i, name := range signalNames {
		words, ok := raw[name]
		if !ok || len(words) == 0 {
			return nil, fmt.Errorf("signal lexicon: signal %q has no words", name)
		}
		for _, w := range words {
			w = strings.ToLower(strings.TrimSpace(w))
			if w == "" {
				return nil, fmt.Errorf("signal lexicon: empty word in %q", name)
			}
			lex.words[w] |= 1 << signal(i)
		}
	}
	for name := range raw {
		if !slices.Contains(signalNames[:], name) {
			return nil, fmt.Errorf("signal lexicon: unknown signal %q", name)
		}
	}
	return lex, nil
}
