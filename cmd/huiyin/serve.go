package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/huiyin/huiyin/api"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/knowledge/kbstore"
	"github.com/huiyin/huiyin/staff/staffstore"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/ticket/ticketjobs"
	"github.com/huiyin/huiyin/ticket/ticketstore"
	"github.com/huiyin/huiyin/web"
)

// The stores satisfy what the server and the jobs need of them.
var (
	_ api.Desk          = (*ticketstore.Store)(nil)
	_ api.Conversations = (*ticketstore.Store)(nil)
	_ api.Auth          = (*staffstore.Store)(nil)
	_ api.ScriptLibrary = (*scriptLibrary)(nil)
	_ api.KnowledgeBase = (*knowledgeDesk)(nil)
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
	start := time.Now()
	k, err := openKB(ctx, e, true, stderr)
	if err != nil {
		return err
	}
	defer k.close()
	log := e.logger(stderr)
	pool := k.pool
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The workers' store enqueues nothing itself; the server's store
	// enqueues through the same client that works the jobs.
	jobs, err := ticketjobs.NewClient(pool, ticketstore.New(pool, nil), k.assistant, ticketjobs.NewMetrics(reg),
		ticketjobs.Config{Workers: e.jobWorkers}, log)
	if err != nil {
		return err
	}
	store := ticketstore.New(pool, jobs)
	staffStore := staffstore.New(pool)
	service := ticket.NewService(k.engine, store, log)
	ingester := knowledge.NewIngester(k.store, k.emb, k.deps.seg, log)
	app, err := api.New(api.Config{IntakePerMin: e.intakePerMin, TrustedProxies: e.trustedProxies}, api.Deps{
		Intake:      service,
		Auth:        staffStore,
		Desk:        store,
		Chat:        store,
		Answerer:    k.assistant,
		Scripts:     &scriptLibrary{store: store, ingester: ingester, assistant: k.assistant},
		Labels:      service,
		Knowledge:   &knowledgeDesk{Retriever: k.retriever, Store: k.store, curator: knowledge.NewCurator(k.store, ingester, k.store), assistant: k.assistant},
		Assets:      web.Assets(),
		Departments: k.engine.Policy().Departments(),
		WeChat:      api.WeChatConfig{Token: e.wechatToken, AppID: e.wechatAppID, EncodingAESKey: e.wechatAESKey},
		Ready:       func(ctx context.Context) error { return db.Ready(ctx, pool) },
		Registry:    reg,
		Log:         log,
	})
	if err != nil {
		return err
	}
	// Jobs left by a previous run (a draft not made before a crash) start
	// as soon as the client does.
	if err := jobs.Start(ctx); err != nil {
		return fmt.Errorf("start the job queue: %w", err)
	}
	if n, err := staffStore.Count(ctx); err == nil && n == 0 {
		log.Warn("no staff accounts yet: create the first admin with `huiyin user add admin --role admin`")
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(*addr) }()
	log.Info("huiyin serving", "addr", *addr, "startup", time.Since(start).Round(time.Millisecond), "wechat", e.wechatToken != "")
	fmt.Fprintf(stdout, "huiyin 已启动：%s（启动用时 %s）\n", *addr, time.Since(start).Round(time.Millisecond))
	base := pageBase(*addr)
	fmt.Fprintf(stdout, "工作台：%s/console/　业主咨询页：%s/h5/\n", base, base)
	var listenErr error
	select {
	case err := <-errc:
		listenErr = fmt.Errorf("listen on %s: %w", *addr, err)
	case <-ctx.Done():
	}
	// Finish the requests in flight, then the jobs running; jobs not yet
	// started stay queued for the next start.
	shutdownErr := app.ShutdownWithTimeout(15 * time.Second)
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jobsErr := jobs.Stop(stopCtx)
	if listenErr != nil {
		return listenErr
	}
	if shutdownErr != nil && !errors.Is(shutdownErr, context.Canceled) {
		return fmt.Errorf("shut down: %w", shutdownErr)
	}
	if jobsErr != nil {
		return fmt.Errorf("stop the job queue: %w", jobsErr)
	}
	fmt.Fprintln(stdout, "huiyin 已停止")
	return nil
}

// scriptLibrary keeps approved replies in the knowledge base's script
// library, where the drafter picks from them like from the shipped
// scripts.
type scriptLibrary struct {
	store     *ticketstore.Store
	ingester  *knowledge.Ingester
	assistant *knowledge.Assistant
}

func (l *scriptLibrary) Promote(ctx context.Context, replyID int64, situation, actor string) (ticket.PromotedScript, error) {
	p, err := l.store.Promote(ctx, replyID, situation, actor)
	if err != nil {
		return p, err
	}
	all, err := l.store.PromotedScripts(ctx)
	if err != nil {
		return p, err
	}
	if _, err := l.ingester.Ingest(ctx, []knowledge.Document{approvedScripts(all)}, false); err != nil {
		return p, fmt.Errorf("add the reply to the script library: %w", err)
	}
	l.assistant.ForgetScripts()
	return p, nil
}

// knowledgeDesk is the console's view of the knowledge base: search and
// listings from the retriever and the index, changes through the curator.
// A script uploaded from the console reaches the drafter at once.
type knowledgeDesk struct {
	*knowledge.Retriever
	*kbstore.Store
	curator   *knowledge.Curator
	assistant *knowledge.Assistant
}

func (d *knowledgeDesk) Upload(ctx context.Context, filename string, kind knowledge.Kind, data []byte, by string) (knowledge.DocumentInfo, error) {
	info, err := d.curator.Upload(ctx, filename, kind, data, by)
	if err == nil && info.Kind == knowledge.KindScript {
		d.assistant.ForgetScripts()
	}
	return info, err
}

func (d *knowledgeDesk) EditFAQ(ctx context.Context, id int64, question, answer, by string) (knowledge.StoredChunk, error) {
	return d.curator.EditFAQ(ctx, id, question, answer, by)
}

// pageBase is the URL a browser on this machine reaches the server at.
func pageBase(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
