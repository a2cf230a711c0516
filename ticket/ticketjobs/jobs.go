package ticketjobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/ticket/ticketstore"
	"github.com/huiyin/huiyin/triage"
)

// Drafter drafts a reply to a triaged message; knowledge.Assistant is one.
type Drafter interface {
	DraftFor(ctx context.Context, message string, res triage.Result) (knowledge.Draft, error)
}

var _ Drafter = (*knowledge.Assistant)(nil)

// Store is what the jobs read and write; ticketstore.Store is one.
type Store interface {
	DraftInput(ctx context.Context, ticketID int64) (ticketstore.DraftInput, error)
	SaveDraft(ctx context.Context, ticketID int64, d knowledge.Draft) (int64, error)
	CheckDeadline(ctx context.Context, ticketID int64, which string) (bool, time.Time, error)
	FollowUpDue(ctx context.Context, ticketID int64) (bool, time.Time, error)
}

var _ Store = (*ticketstore.Store)(nil)

// Metrics are the jobs' Prometheus series.
type Metrics struct {
	drafts   *prometheus.CounterVec
	breaches *prometheus.CounterVec
}

// NewMetrics registers the jobs' series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		drafts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huiyin_drafts_total",
			Help: "Reply drafts made, by source (offline, llm) and whether a configured chat model failed and the offline draft was used.",
		}, []string{"source", "fallback"}),
		breaches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huiyin_sla_breaches_total", Help: "Deadlines missed, by deadline (first_response, resolution).",
		}, []string{"deadline"}),
	}
	reg.MustRegister(m.drafts, m.breaches)
	return m
}

type draftWorker struct {
	river.WorkerDefaults[ticket.DraftJob]
	store   Store
	drafter Drafter
	metrics *Metrics
	log     *slog.Logger
}

func (w *draftWorker) Work(ctx context.Context, job *river.Job[ticket.DraftJob]) error {
	in, err := w.store.DraftInput(ctx, job.Args.TicketID)
	if errors.Is(err, huiyin.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if in.State == ticket.Closed {
		w.log.Info("draft skipped: ticket closed", "ref", in.Ref)
		return nil
	}
	d, err := w.drafter.DraftFor(ctx, in.Text, in.Triage)
	if err != nil {
		return fmt.Errorf("draft %s: %w", in.Ref, err)
	}
	d.Reply = strings.ReplaceAll(d.Reply, knowledge.TicketPlaceholder, in.Ref)
	id, err := w.store.SaveDraft(ctx, job.Args.TicketID, d)
	if err != nil {
		return err
	}
	w.metrics.drafts.WithLabelValues(d.Source, fmt.Sprint(d.Fallback != "")).Inc()
	w.log.Info("draft ready", "ref", in.Ref, "draft", id, "source", d.Source, "script", d.Script, "attempt", job.Attempt)
	return nil
}

type deadlineWorker struct {
	river.WorkerDefaults[ticket.DeadlineJob]
	store   Store
	metrics *Metrics
	log     *slog.Logger
}

func (w *deadlineWorker) Work(ctx context.Context, job *river.Job[ticket.DeadlineJob]) error {
	breached, later, err := w.store.CheckDeadline(ctx, job.Args.TicketID, job.Args.Deadline)
	if err != nil {
		return err
	}
	if !later.IsZero() {
		// The ticket was re-triaged with a later deadline: check then.
		return river.JobSnooze(time.Until(later))
	}
	if breached {
		w.metrics.breaches.WithLabelValues(job.Args.Deadline).Inc()
		w.log.Warn("deadline missed; escalated", "ticket_id", job.Args.TicketID, "deadline", job.Args.Deadline)
	}
	return nil
}

type followUpWorker struct {
	river.WorkerDefaults[ticket.FollowUpJob]
	store Store
	log   *slog.Logger
}

func (w *followUpWorker) Work(ctx context.Context, job *river.Job[ticket.FollowUpJob]) error {
	reminded, later, err := w.store.FollowUpDue(ctx, job.Args.TicketID)
	if err != nil {
		return err
	}
	if !later.IsZero() {
		return river.JobSnooze(time.Until(later))
	}
	if reminded {
		w.log.Info("follow-up due; department reminded", "ticket_id", job.Args.TicketID)
	}
	return nil
}

// Config tunes the job client.
type Config struct {
	Workers      int           // concurrent jobs (default 4)
	PollInterval time.Duration // how often to look for due jobs (default 500ms)
	// JobTimeout bounds one run of a job (default 45s). A draft makes
	// one model call, bounded by HUIYIN_LLM_TIMEOUT (8 s).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken
	// to be orphaned (its process was killed, or the database went away
	// as it ended) and run again (default 1 min; at least JobTimeout).
	RescueAfter time.Duration
}

// NewClient returns a River client that works the ticket jobs. It polls
// rather than listens, which works through poolers and on PGlite's shared
// session alike; jobs start within PollInterval.
func NewClient(pool *pgxpool.Pool, store Store, drafter Drafter, metrics *Metrics, cfg Config, log *slog.Logger) (*river.Client[pgx.Tx], error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 45 * time.Second
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = time.Minute
	}
	cfg.RescueAfter = max(cfg.RescueAfter, cfg.JobTimeout)
	workers := river.NewWorkers()
	river.AddWorker(workers, &draftWorker{store: store, drafter: drafter, metrics: metrics, log: log})
	river.AddWorker(workers, &deadlineWorker{store: store, metrics: metrics, log: log})
	river.AddWorker(workers, &followUpWorker{store: store, log: log})
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		PollOnly:          true,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval, 100*time.Millisecond),
		Logger:            log.With("component", "jobs"),
		// Drafts are wanted within minutes, not River's default hours:
		// retries back off 1 s, 2 s, 4 s … up to 5 minutes, and an
		// orphaned job runs again after RescueAfter rather than an hour.
		// The rescuer runs on the leader only, every 30 s, and a killed
		// leader's lease lasts about 15 s, so an orphaned draft waits up
		// to RescueAfter + 30 s + 15 s (about 105 s by default). No worker
		// may set its own longer Timeout: the rescuer leaves a job alone
		// until that has passed (a 2-minute draft timeout once kept
		// orphaned drafts waiting 2.5 minutes; TestKilledMidDraft).
		RetryPolicy:          retryPolicy{},
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
	})
	if err != nil {
		return nil, fmt.Errorf("job client: %w", err)
	}
	return c, nil
}

// retryPolicy backs off exponentially from one second to five minutes,
// with up to a fifth of jitter so that jobs failed together spread out.
type retryPolicy struct{}

var _ river.ClientRetryPolicy = retryPolicy{}

// MaxRetryDelay bounds the wait before a failed job runs again.
const MaxRetryDelay = 5 * time.Minute

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(retryDelay(len(job.Errors) + 1))
}

func retryDelay(attempt int) time.Duration {
	d := MaxRetryDelay
	if attempt < 20 {
		d = min(time.Second<<(attempt-1), MaxRetryDelay)
	}
	return d + time.Duration(rand.Int64N(int64(d/5)+1))
}

// NewInserter returns a client that only enqueues jobs, for processes that
// do not work them (tests of the store, command-line tools).
func NewInserter(pool *pgxpool.Pool) (*river.Client[pgx.Tx], error) {
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("job inserter: %w", err)
	}
	return c, nil
}
