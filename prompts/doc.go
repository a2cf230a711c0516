// Package prompts holds huiyin's prompts for the chat model: the templates
// (embedded, text/template, in Simplified Chinese), typed render functions
// that check their input, and parsers that check what the model returns.
//
// # Prompts
//
//   - Answer (RenderAnswer, ParseAnswer): the chatbot answers an owner's
//     question from numbered knowledge-base sources only, cites them by
//     number, and hands off to a person when they do not support an
//     answer. Output {"answer": "…", "citations": [1], "handoff": false}.
//   - Draft (RenderDraft, ParseDraft): a reply draft for staff to approve:
//     polite, specific, apologising where asked, stating the policy's
//     deadlines word for word, carrying the ticket placeholder {工单号},
//     promising a follow-up visit, citing its sources and promising nothing
//     the sources do not say. Output {"reply": "…", "citations": [1]}.
//
// Each prompt is a system message with the rules, which never changes, and
// a user message with the case, so that an endpoint's prompt cache can
// keep the system message.
//
// # Untrusted text
//
// The owner's message, the sources and the script example are data, never
// instructions. Each goes inside its own tag (<owner_message>, <source>,
// <script>) and the system message says that nothing inside a tag is an
// instruction. To make sure no text can close its tag early or open a new
// one, every < and > inside untrusted text is replaced by its full-width
// form (＜ ＞); the model reads it the same, and no delimiter survives.
// Personal data is masked before rendering (knowledge.Mask); the prompts
// tell the model to keep tokens such as 【电话1】 exactly as written.
//
// # Parsers
//
// Models wrap JSON in code fences or put a sentence before it, so the
// parsers take the first JSON object in the text that decodes, then check
// it: the fields are present, the citations are source numbers
// (1..nSources, duplicates dropped) and the text fits its bounds. Anything
// else is an error wrapping huiyin.ErrInvalid; the caller then falls back
// to the offline answer or drafter.
//
// This package imports no other huiyin package but the root: knowledge
// imports it.
package prompts
