package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/eval"
)

func cmdEval(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "retrieval":
			return cmdEvalRetrieval(ctx, e, args[1:], stdout, stderr)
		case "replies":
			return cmdEvalReplies(ctx, e, args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "triage" {
		fmt.Fprintln(stderr, "usage: huiyin eval triage|retrieval|replies [flags] FILE.jsonl")
		return errUsage
	}
	fs := flag.NewFlagSet("eval triage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	policy := fs.String("policy", e.policy, "routing and SLA policy file; empty for the built-in one")
	embedder := fs.String("embedder", e.embedder, "embedding vote: offline or none")
	modelPath := fs.String("model", "", "model file; empty for the built-in one")
	voteWeight := fs.Float64("vote-weight", 0, "weight of the embedding vote in [0,1]; 0 keeps the model's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin eval triage [flags] FILE.jsonl")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	records, err := readRecordsFile(fs.Arg(0))
	if err != nil {
		return err
	}
	eng, deps, err := newTriageEngine(ctx, e, *policy, *embedder, *modelPath, *voteWeight, stderr)
	if err != nil {
		return err
	}
	defer deps.close()
	rep, err := eval.Triage(ctx, eng, records)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	return rep.WriteText(stdout)
}

func readRecordsFile(path string) ([]eval.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", huiyin.ErrInvalid, err)
	}
	defer f.Close()
	recs, err := eval.ReadRecords(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

func cmdEvalRetrieval(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval retrieval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin eval retrieval [--json] FILE.jsonl ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	var qs []eval.Question
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("%w: %v", huiyin.ErrInvalid, err)
		}
		more, err := eval.ReadQuestions(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		qs = append(qs, more...)
	}
	k, err := openKB(ctx, e, false, stderr)
	if err != nil {
		return err
	}
	defer k.close()
	rep, err := eval.Retrieval(ctx, k.retriever, k.assistant, qs, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	return rep.WriteText(stdout)
}

func cmdEvalReplies(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval replies", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin eval replies [--json] FILE.jsonl")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("%w: %v", huiyin.ErrInvalid, err)
	}
	cases, err := eval.ReadReplyCases(f)
	f.Close()
	if err != nil {
		return err
	}
	k, err := openKB(ctx, e, false, stderr)
	if err != nil {
		return err
	}
	defer k.close()
	rep, err := eval.Replies(ctx, k.assistant, cases, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	return rep.WriteText(stdout)
}
