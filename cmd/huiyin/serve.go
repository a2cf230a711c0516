package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/huiyin/huiyin/api"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/ticket/ticketstore"
)

func cmdServe(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", e.addr, "address to listen on (HUIYIN_ADDR)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin serve [--addr :8080]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log := e.logger(stderr)
	start := time.Now()
	pool, err := openDatabase(ctx, e, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, log); err != nil {
		return err
	}
	eng, deps, err := newTriageEngine(ctx, e, e.policy, e.embedder, "", 0, stderr)
	if err != nil {
		return err
	}
	defer deps.close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	app := api.New(api.Config{IntakePerMin: e.intakePerMin}, api.Deps{
		Intake:   ticket.NewService(eng, ticketstore.New(pool), log),
		Ready:    func(ctx context.Context) error { return db.Ready(ctx, pool) },
		Registry: reg,
		Log:      log,
	})
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(*addr) }()
	log.Info("huiyin serving", "addr", *addr, "startup", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "huiyin 已启动：%s（启动用时 %s）\n", *addr, time.Since(start).Round(time.Millisecond))
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", *addr, err)
	case <-ctx.Done():
	}
	// Finish the requests in flight, then stop.
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shut down: %w", err)
	}
	fmt.Fprintln(stdout, "huiyin 已停止")
	return nil
}
