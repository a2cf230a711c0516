// Package triage turns an owner's message into every field of the label
// contract (shared/taxonomy.md): category, intent, urgency, sentiment and
// risks, each with a calibrated confidence, plus the location, further
// problems in the same message, the department, escalation and the SLA
// deadlines. It works fully offline.
//
// # Pipeline
//
// Clean folds the text (full-width digits, zero-width and control
// characters) and refuses empty, oversized or non-UTF-8 input. The
// Segmenter cuts it with gojieba, whose dictionaries ship inside the binary
// together with a property-domain dictionary. analyze splits the words into
// clauses, marks prompt-injection spans (which no later step reads) and
// looks every word up in the signal lexicon (signals.yaml).
//
// Labels come from two sources. A linear model over words, characters,
// character pairs and lexicon signals, trained by `huiyin train` from the
// team's labelled data and embedded as model.json.gz, gives probabilities
// that are temperature-scaled by cross-validation. Explicit rules decide
// where safety demands it: a clause that describes a hazard happening now
// (fire, gas, a trapped or fallen person, flooding, sparks, sewage in a
// home, a child locked in a car) is an emergency whatever the model says,
// and a complaint that is repeated or threatens escalation is at least
// high. With an Embedder, the labels of the nearest training messages in
// embedding space add a vote.
//
// Location extraction reads 3栋2单元1502, 3-2-1502, 十二号楼, B座 and
// 三零一 and leaves empty what the text does not say. A Policy (policy.yaml,
// editable per company) routes categories to departments, escalates to the
// project manager and sets the deadlines.
//
// Engine is safe for concurrent use; Explain says why a message got its
// labels.
package triage
