package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/huiyin/huiyin/triage"
)

func cmdTrain(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "eval/testdata/triage_train.jsonl", "labelled training messages (JSON Lines)")
	out := fs.String("out", "triage/model.json.gz", "where to write the model")
	embedder := fs.String("embedder", "offline", "embedder used to tune the embedding vote: offline or none")
	def := triage.DefaultTrainConfig()
	epochs := fs.Int("epochs", def.Epochs, "passes over the data")
	rate := fs.Float64("rate", def.Rate, "AdaGrad step size")
	l2 := fs.Float64("l2", def.L2, "L2 regularisation")
	minCount := fs.Int("min-count", def.MinCount, "keep features seen in at least this many messages")
	showDisagree := fs.Int("disagreements", 0, "list this many training messages whose cross-validated label differs, most confident first")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin train [--data FILE] [--out FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	records, err := readRecordsFile(*data)
	if err != nil {
		return err
	}
	deps, err := buildTriageDeps(e, "", *embedder)
	if err != nil {
		return err
	}
	defer deps.close()
	examples := make([]triage.Example, len(records))
	for i := range records {
		examples[i] = records[i].Example()
	}
	cfg := def
	cfg.Embedder = deps.embedder
	cfg.Epochs, cfg.Rate, cfg.L2, cfg.MinCount = *epochs, *rate, *l2, *minCount
	model, rep, err := triage.Train(ctx, deps.seg, examples, cfg)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".model-*")
	if err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := model.Write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write model: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	fmt.Fprintf(stdout, "trained on %d messages, %d features → %s\n", rep.Examples, rep.Features, *out)
	fmt.Fprintf(stdout, "cross-validation (on training data): category %.3f intent %.3f urgency %.3f sentiment %.3f (accuracy), risks %.3f (micro-F1)\n",
		rep.CVAccuracy[0], rep.CVAccuracy[1], rep.CVAccuracy[2], rep.CVAccuracy[3], rep.CVAccuracy[4])
	fmt.Fprintf(stdout, "temperatures %v, emergency threshold %.2f, rule precision %.3f, embedding vote weights %v\n",
		rep.Temperature, rep.EmergencyThreshold, rep.RulePrecision, rep.KNNAlpha)
	for _, d := range rep.Disagreements[:min(*showDisagree, len(rep.Disagreements))] {
		fmt.Fprintf(stdout, "  %s %s: labelled %s, cross-validation says %s (%.2f)\n", d.ID, d.Field, d.Label, d.Predicted, d.Confidence)
	}
	return nil
}
