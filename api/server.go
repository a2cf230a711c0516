package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/ticket"
)

// Intake is what the server needs from intake; ticket.Service is one.
type Intake interface {
	Receive(ctx context.Context, m ticket.Message) (ticket.Receipt, error)
}

var _ Intake = (*ticket.Service)(nil)

// Config holds the server's settings; cmd reads them from flags and the
// environment.
type Config struct {
	BodyLimit      int           // bytes (default 64 KiB)
	IntakePerMin   int           // requests per minute per client on public endpoints (default 120)
	RequestTimeout time.Duration // per request handled by the domain (default 10s)
}

func (c Config) withDefaults() Config {
	if c.BodyLimit <= 0 {
		c.BodyLimit = 64 << 10
	}
	if c.IntakePerMin <= 0 {
		c.IntakePerMin = 120
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	return c
}

// Deps are the server's collaborators.
type Deps struct {
	Intake   Intake
	Ready    func(ctx context.Context) error // nil error when the database is reachable and migrated
	Registry *prometheus.Registry
	Log      *slog.Logger
}

// New builds the Fiber app.
func New(cfg Config, d Deps) *fiber.App {
	cfg = cfg.withDefaults()
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	m := newMetrics(d.Registry)
	app := fiber.New(fiber.Config{
		AppName:               "huiyin",
		BodyLimit:             cfg.BodyLimit,
		DisableStartupMessage: true,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		ErrorHandler:          errorHandler(d.Log),
	})
	app.Use(requestid.New())
	app.Use(recover.New())
	app.Use(helmet.New())
	app.Use(accessLog(d.Log, m))

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", func(c *fiber.Ctx) error {
		if d.Ready != nil {
			if err := d.Ready(c.UserContext()); err != nil {
				d.Log.Warn("not ready", "err", err)
				return c.Status(fiber.StatusServiceUnavailable).JSON(errorBody{Error: "服务尚未就绪", Code: "not_ready", RequestID: requestID(c)})
			}
		}
		return c.JSON(fiber.Map{"status": "ready"})
	})
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))

	v1 := app.Group("/api/v1")
	public := limiter.New(limiter.Config{
		Max:        cfg.IntakePerMin,
		Expiration: time.Minute,
		LimitReached: func(c *fiber.Ctx) error {
			return fiber.NewError(fiber.StatusTooManyRequests)
		},
	})
	v1.Post("/messages", public, postMessage(d.Intake, cfg, m))
	return app
}

func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(requestid.ConfigDefault.ContextKey).(string); ok {
		return id
	}
	return ""
}

func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, code, msg := classify(err)
		if status >= 500 {
			log.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "err", err)
		}
		return c.Status(status).JSON(errorBody{Error: msg, Code: code, RequestID: requestID(c)})
	}
}

// messageRequest is the body of POST /api/v1/messages.
type messageRequest struct {
	Channel    string     `json:"channel"`
	MessageID  string     `json:"message_id"`
	Owner      string     `json:"owner"`
	Text       *string    `json:"text"`
	Location   string     `json:"location"`
	Contact    string     `json:"contact"`
	ReceivedAt *time.Time `json:"received_at"`
}

// messageResponse is intake's answer.
type messageResponse struct {
	Ticket    string    `json:"ticket"`
	Duplicate bool      `json:"duplicate"`
	Ack       string    `json:"ack"`
	State     string    `json:"state"`
	Triage    any       `json:"triage"`
	CreatedAt time.Time `json:"created_at"`
}

func postMessage(in Intake, cfg Config, m *metrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req messageRequest
		if err := json.Unmarshal(c.Body(), &req); err != nil {
			return fmt.Errorf("%w: 请求体不是有效的 JSON 对象", huiyin.ErrInvalid)
		}
		if req.Text == nil {
			return fmt.Errorf("%w: 缺少 text 字段", huiyin.ErrInvalid)
		}
		msg := ticket.Message{
			Channel: ticket.Channel(req.Channel), ChannelMsgID: req.MessageID, OwnerRef: req.Owner,
			Text: *req.Text, Location: req.Location, Contact: req.Contact, Received: time.Now(),
		}
		if req.ReceivedAt != nil {
			msg.Received = *req.ReceivedAt
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), cfg.RequestTimeout)
		defer cancel()
		rec, err := in.Receive(ctx, msg)
		if err != nil {
			return err
		}
		status := fiber.StatusCreated
		if rec.Duplicate {
			status = fiber.StatusOK
		} else {
			m.tickets.WithLabelValues(string(rec.Ticket.Triage.Category), string(rec.Ticket.Triage.Urgency)).Inc()
		}
		return c.Status(status).JSON(messageResponse{
			Ticket: rec.Ticket.Ref, Duplicate: rec.Duplicate, Ack: rec.Ack, State: string(rec.Ticket.State),
			Triage: rec.Ticket.Triage, CreatedAt: rec.Ticket.CreatedAt,
		})
	}
}

// metrics are the service's Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tickets  *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huiyin_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "huiyin_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		tickets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huiyin_tickets_opened_total", Help: "Tickets opened by intake, by category and urgency.",
		}, []string{"category", "urgency"}),
	}
	reg.MustRegister(m.requests, m.latency, m.tickets)
	return m
}

// accessLog writes one structured line per request and records its
// metrics, by route pattern so that ids in paths do not explode series.
func accessLog(log *slog.Logger, m *metrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status, _, _ = classify(err)
		}
		route := strings.Clone(c.Route().Path)
		method := strings.Clone(c.Method())
		took := time.Since(start)
		m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route, method).Observe(took.Seconds())
		log.Info("request", "request_id", requestID(c), "method", c.Method(), "path", c.Path(),
			"status", status, "took_ms", float64(took.Microseconds())/1000, "ip", c.IP())
		return err
	}
}
