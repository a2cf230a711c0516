// Command huiyin is the one binary of the huiyin service: triage on the
// command line, training and evaluation, and (as they land) the server,
// knowledge ingestion, answers and drafts.
//
// Flags and environment variables are read here and nowhere else; the
// packages it wires take plain values.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/huiyin/huiyin"
)

const usage = `huiyin — 回音: complaint triage and smart replies for property management

Usage:
  huiyin triage "业主消息"            triage one message and print the result
  huiyin triage --jsonl < in > out   triage JSON Lines ({"id","text"} per line)
  huiyin serve [--addr :8080]        run the service (API, WeChat callback, jobs, metrics)
  huiyin user add NAME --role R      create a staff account (password from stdin)
  huiyin migrate                     apply the database migrations (DATABASE_URL)
  huiyin ingest [--reindex] [PATH…]  load the knowledge base (default: the shipped one)
  huiyin ask "问题"                   answer from the knowledge base, or hand off
  huiyin ask --jsonl < in > out      answer JSON Lines ({"id","question"} per line)
  huiyin draft "业主消息"             triage and draft a reply for staff
  huiyin draft --jsonl < in > out    draft JSON Lines ({"id","text"} per line)
  huiyin eval triage FILE.jsonl      score triage against labelled messages
  huiyin eval retrieval FILE.jsonl…  score retrieval and handoff on questions
  huiyin eval replies FILE.jsonl     check drafts against the reply rubric
  huiyin train --data FILE --out F   train the triage model from labelled messages
  huiyin version                     print the version

Run "huiyin COMMAND -h" for the flags of a command. Environment variables
are listed in the README.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes: 0 success, 1 failure, 2 bad usage or bad input.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// run is main without the process: tests call it with their own streams
// and environment.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	env, err := loadEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "huiyin: %v\n", err)
		return exitUsage
	}
	switch args[0] {
	case "triage":
		err = cmdTriage(ctx, env, args[1:], stdin, stdout, stderr)
	case "eval":
		err = cmdEval(ctx, env, args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(ctx, env, args[1:], stdout, stderr)
	case "user":
		err = cmdUser(ctx, env, args[1:], stdin, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, env, args[1:], stdout, stderr)
	case "ingest":
		err = cmdIngest(ctx, env, args[1:], stdout, stderr)
	case "ask":
		err = cmdAsk(ctx, env, args[1:], stdin, stdout, stderr)
	case "draft":
		err = cmdDraft(ctx, env, args[1:], stdin, stdout, stderr)
	case "train":
		err = cmdTrain(ctx, env, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "huiyin %s\n", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "huiyin: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, huiyin.ErrInvalid):
		fmt.Fprintf(stderr, "huiyin: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "huiyin: %v\n", err)
	return exitFail
}

// errUsage marks an error whose message the flag package already printed.
var errUsage = errors.New("usage")
