package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
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
	"github.com/valyala/fasthttp"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/staff"
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
	UploadLimit    int           // bytes of a knowledge-base upload (default 10 MiB and 64 KiB for the form)
	IntakePerMin   int           // requests per minute per client on public endpoints (default 120)
	RequestTimeout time.Duration // per request handled by the domain (default 10s)
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For header names the client; rate limits and logs
	// then count clients, not the proxy. Empty trusts no header.
	TrustedProxies []string
}

func (c Config) withDefaults() Config {
	if c.BodyLimit <= 0 {
		c.BodyLimit = 64 << 10
	}
	if c.UploadLimit <= 0 {
		c.UploadLimit = knowledge.MaxDocumentBytes + 64<<10
	}
	if c.IntakePerMin <= 0 {
		c.IntakePerMin = 120
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	return c
}

// Deps are the server's collaborators. Intake is required; the others
// may be nil in tests of part of the API, and their routes then answer 503.
type Deps struct {
	Intake   Intake
	Auth     Auth
	Desk     Desk
	Chat     Conversations
	Answerer Answerer
	Scripts  ScriptLibrary
	Labels   Labels
	// Knowledge is the console's view of the knowledge base.
	Knowledge KnowledgeBase
	// Assets holds the staff console (console/) and the owners' chat page
	// (h5/); nil serves neither.
	Assets fs.FS
	// Departments are the routing policy's departments (id → name).
	Departments map[string]string
	WeChat      WeChatConfig
	Ready       func(ctx context.Context) error // nil error when the database is reachable and migrated
	Registry    *prometheus.Registry
	Log         *slog.Logger
}

// server holds what the handlers share.
type server struct {
	cfg Config
	d   Deps
	m   *metrics
	tax taxonomy
	log *slog.Logger
	// proxies are the trusted reverse proxies.
	proxies []netip.Prefix
}

// New builds the Fiber app.
func New(cfg Config, d Deps) (*fiber.App, error) {
	cfg = cfg.withDefaults()
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, d: d, proxies: proxies, m: newMetrics(d.Registry, d.Desk, d.Log), tax: newTaxonomy(d.Departments), log: d.Log}
	app := fiber.New(fiber.Config{
		AppName:               "huiyin",
		BodyLimit:             cfg.BodyLimit,
		DisableStartupMessage: true,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		// Room for a search of 500 Chinese characters in the URL (4.5 KB
		// percent-encoded) besides the headers; the default 4 KiB refused
		// it as 431.
		ReadBufferSize: 16 << 10,
		ErrorHandler:   errorHandler(d.Log),
	})
	// Bodies are held to BodyLimit as they are read, before any handler
	// runs; only a knowledge-base upload may be larger, and take longer.
	app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if string(h.Method()) == fiber.MethodPost && string(h.RequestURI()) == uploadPath {
			return fasthttp.RequestConfig{MaxRequestBodySize: cfg.UploadLimit, ReadTimeout: 5 * time.Minute}
		}
		return fasthttp.RequestConfig{}
	}
	app.Use(requestid.New())
	app.Use(recover.New())
	app.Use(helmet.New(helmet.Config{ContentSecurityPolicy: contentSecurityPolicy}))
	app.Use(accessLog(d.Log, s.m, s.clientIP))

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

	public := limiter.New(limiter.Config{
		KeyGenerator: s.clientIP,
		Max:          cfg.IntakePerMin,
		Expiration:   time.Minute,
		LimitReached: func(c *fiber.Ctx) error {
			return fiber.NewError(fiber.StatusTooManyRequests)
		},
	})
	// Password guessing is slowed per client address.
	logins := limiter.New(limiter.Config{
		KeyGenerator: s.clientIP,
		Max:          10,
		Expiration:   time.Minute,
		LimitReached: func(c *fiber.Ctx) error {
			return fiber.NewError(fiber.StatusTooManyRequests)
		},
	})

	if d.WeChat.Token != "" {
		wx, err := newWeChat(s, d.WeChat)
		if err != nil {
			return nil, err
		}
		app.Get("/wechat", wx.verifyURL)
		app.Post("/wechat", wx.receive)
	}

	v1 := app.Group("/api/v1")
	v1.Get("/openapi.yaml", serveOpenAPI)
	v1.Post("/messages", public, postMessage(d.Intake, cfg, s.m))
	v1.Post("/chat", public, s.need(d.Chat != nil && d.Answerer != nil), s.chat)
	v1.Get("/chat/:token", public, s.need(d.Chat != nil), s.conversation)

	v1.Post("/auth/login", logins, s.need(d.Auth != nil), s.login)
	// The staff chain is on each route, not on a group, so that an unknown
	// path answers 404 rather than 401.
	signedIn := []fiber.Handler{s.need(d.Auth != nil && d.Desk != nil), s.authenticate}
	staffOnly := staffRoutes{v1, signedIn}
	staffOnly.Post("/auth/logout", s.logout)
	staffOnly.Get("/me", s.me)

	staffOnly.Get("/tickets", s.queue)
	staffOnly.Get("/tickets/:ref", s.ticketDetail)
	staffOnly.Post("/tickets/:ref/assign", require(staff.Lead), s.assign)
	staffOnly.Post("/tickets/:ref/state", s.changeState)
	staffOnly.Post("/tickets/:ref/drafts", s.requestDraft)
	staffOnly.Post("/tickets/:ref/drafts/:id/approve", s.approve)
	staffOnly.Post("/tickets/:ref/drafts/:id/reject", s.reject)
	staffOnly.Post("/tickets/:ref/follow-up", s.followUp)
	staffOnly.Post("/replies/:id/promote", require(staff.Lead), s.need(d.Scripts != nil), s.promote)
	staffOnly.Get("/incidents", s.incidents)
	staffOnly.Get("/incidents/:ref", s.incident)
	staffOnly.Post("/incidents/:ref/reply", s.replyIncident)
	staffOnly.Get("/owners", s.owners)
	staffOnly.Get("/owners/:id", s.owner)
	staffOnly.Put("/owners/:id", s.updateOwner)
	staffOnly.Get("/notifications", s.notifications)
	staffOnly.Get("/analytics/summary", require(staff.Lead), s.analytics)
	staffOnly.Get("/analytics/tickets.csv", require(staff.Lead), s.exportCSV)

	staffOnly.Get("/staff", require(staff.Admin), s.listStaff)
	staffOnly.Post("/staff", require(staff.Admin), s.createStaff)
	staffOnly.Get("/api-keys", require(staff.Admin), s.listAPIKeys)
	staffOnly.Post("/api-keys", require(staff.Admin), s.createAPIKey)
	staffOnly.Delete("/api-keys/:id", require(staff.Admin), s.revokeAPIKey)
	staffOnly.Get("/audit", require(staff.Admin), s.auditLog)
	staffOnly.Get("/taxonomy", s.taxonomy)
	staffOnly.Post("/tickets/:ref/labels", require(staff.Lead), s.need(d.Labels != nil), s.correctLabels)
	staffOnly.Get("/feedback.jsonl", require(staff.Lead), s.feedbackExport)
	staffOnly.Get("/replies", s.recentReplies)
	staffOnly.Get("/knowledge/search", s.need(d.Knowledge != nil), s.searchKnowledge)
	staffOnly.Get("/knowledge/documents", s.need(d.Knowledge != nil), s.knowledgeDocuments)
	staffOnly.Post("/knowledge/documents", require(staff.Lead), s.need(d.Knowledge != nil), s.uploadDocument)
	staffOnly.Get("/knowledge/faq", s.need(d.Knowledge != nil), s.faqEntries)
	staffOnly.Put("/knowledge/faq/:id", require(staff.Lead), s.need(d.Knowledge != nil), s.editFAQ)

	if d.Assets != nil {
		if err := servePages(app, d.Assets); err != nil {
			return nil, err
		}
	}
	return app, nil
}

// staffRoutes registers routes behind the signed-in chain.
type staffRoutes struct {
	r     fiber.Router
	chain []fiber.Handler
}

func (g staffRoutes) with(h []fiber.Handler) []fiber.Handler {
	return append(append([]fiber.Handler(nil), g.chain...), h...)
}

func (g staffRoutes) Get(path string, h ...fiber.Handler)    { g.r.Get(path, g.with(h)...) }
func (g staffRoutes) Post(path string, h ...fiber.Handler)   { g.r.Post(path, g.with(h)...) }
func (g staffRoutes) Put(path string, h ...fiber.Handler)    { g.r.Put(path, g.with(h)...) }
func (g staffRoutes) Delete(path string, h ...fiber.Handler) { g.r.Delete(path, g.with(h)...) }

// need answers 503 for routes whose collaborator this server was built
// without.
func (s *server) need(ok bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !ok {
			return fmt.Errorf("%w: this server was built without the collaborator for %s", huiyin.ErrUnavailable, c.Path())
		}
		return c.Next()
	}
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
		id := requestID(c)
		if id == "" {
			// Refused before the middleware ran (a body or header over its
			// limit): the caller still gets an id to quote.
			id = requestid.ConfigDefault.Generator()
			c.Set(fiber.HeaderXRequestID, id)
		}
		if status >= 500 {
			log.Error("request failed", "request_id", id, "method", c.Method(), "path", c.Path(), "err", err)
		}
		return c.Status(status).JSON(errorBody{Error: msg, Code: code, RequestID: id})
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
	Merged    bool      `json:"merged"`
	Repeat    bool      `json:"repeat"`
	Incident  bool      `json:"incident"`
	Ack       string    `json:"ack"`
	State     string    `json:"state"`
	Triage    any       `json:"triage"`
	CreatedAt time.Time `json:"created_at"`
}

func postMessage(in Intake, cfg Config, m *metrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req messageRequest
		if err := checkBody(c.Body()); err != nil {
			return err
		}
		if err := json.Unmarshal(c.Body(), &req); err != nil {
			return fmt.Errorf("%w: 请求体不是有效的 JSON 对象", huiyin.ErrInvalid)
		}
		if req.Text == nil {
			return fmt.Errorf("%w: 缺少 text 字段", huiyin.ErrInvalid)
		}
		// The text is cleaned by intake (a control character becomes a
		// space); the other fields are stored as sent, and PostgreSQL
		// cannot store U+0000.
		for _, f := range []string{req.Channel, req.MessageID, req.Owner, req.Location, req.Contact} {
			if strings.ContainsRune(f, 0) {
				return fmt.Errorf("%w: channel、message_id、owner、location、contact 不能含有控制字符（U+0000 空字符）", huiyin.ErrInvalid)
			}
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
		status := fiber.StatusOK
		if m.received(rec) {
			status = fiber.StatusCreated
		}
		return c.Status(status).JSON(messageResponse{
			Ticket: rec.Ticket.Ref, Duplicate: rec.Duplicate, Merged: rec.Merged, Repeat: rec.Repeat, Incident: rec.Incident, Ack: rec.Ack, State: string(rec.Ticket.State),
			Triage: rec.Ticket.Triage, CreatedAt: rec.Ticket.CreatedAt,
		})
	}
}

// metrics are the service's Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	tickets  *prometheus.CounterVec
	chat     *prometheus.CounterVec
	answers  *prometheus.CounterVec
	wechat   *prometheus.CounterVec
}

// ask has the assistant answer a question (web chat, console search)
// and counts how it answered, with or without the chat model.
func (s *server) ask(ctx context.Context, question string, received time.Time) (knowledge.Answer, error) {
	a, err := s.d.Answerer.Ask(ctx, question, received)
	if err != nil {
		return a, err
	}
	s.m.answers.WithLabelValues(a.Source, strconv.FormatBool(a.Fallback != "")).Inc()
	return a, nil
}

func newMetrics(reg *prometheus.Registry, desk Desk, log *slog.Logger) *metrics {
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
	m.chat = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "huiyin_chat_answers_total", Help: "Web chat questions, answered from the FAQ or handed off to staff.",
	}, []string{"outcome"})
	m.answers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "huiyin_assistant_answers_total",
		Help: "Questions the assistant answered (web chat, console), by source (faq, grounded, llm, handoff) and whether a configured chat model failed and the offline answer was used.",
	}, []string{"source", "fallback"})
	m.wechat = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "huiyin_wechat_messages_total", Help: "WeChat callback requests by outcome.",
	}, []string{"outcome"})
	reg.MustRegister(m.requests, m.latency, m.tickets, m.chat, m.answers, m.wechat)
	if desk != nil {
		reg.MustRegister(&stateCollector{desk: desk, log: log})
	}
	return m
}

// accessLog writes one structured line per request and records its
// metrics, by route pattern so that ids in paths do not explode series.
func accessLog(log *slog.Logger, m *metrics, clientIP func(*fiber.Ctx) string) fiber.Handler {
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
			"status", status, "took_ms", float64(took.Microseconds())/1000, "ip", clientIP(c))
		return err
	}
}

// received counts a ticket opened by intake and reports whether it was
// one: a duplicate delivery or a message merged into an open ticket is not.
func (m *metrics) received(rec ticket.Receipt) bool {
	if rec.Duplicate || rec.Merged {
		return false
	}
	m.tickets.WithLabelValues(string(rec.Ticket.Triage.Category), string(rec.Ticket.Triage.Urgency)).Inc()
	return true
}

// stateCollector reports tickets by state at each scrape.
type stateCollector struct {
	desk Desk
	log  *slog.Logger
}

var ticketsByState = prometheus.NewDesc("huiyin_tickets", "Tickets by state.", []string{"state"}, nil)

func (sc *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- ticketsByState }

func (sc *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := sc.desk.CountByState(ctx)
	if err != nil {
		sc.log.Warn("count tickets by state for metrics", "err", err)
		return
	}
	for _, st := range ticket.States {
		ch <- prometheus.MustNewConstMetric(ticketsByState, prometheus.GaugeValue, float64(counts[string(st)]), string(st))
	}
}
