package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/llm"
	"github.com/huiyin/huiyin/triage"
)

// env is the configuration read from environment variables, with the
// defaults the README documents.
type env struct {
	cacheDir string // HUIYIN_CACHE_DIR: where the jieba dictionaries are unpacked
	policy   string // HUIYIN_POLICY: routing/SLA policy file; empty = built-in
	embedder string // HUIYIN_EMBEDDER: offline (default) or none
	logLevel string // HUIYIN_LOG_LEVEL: debug, info, warn (default), error
	timezone string // HUIYIN_TIMEZONE: where deadlines are shown (default Asia/Shanghai)

	databaseURL  string        // DATABASE_URL (default: the dev database of scripts/devdb)
	kbEmbedder   string        // HUIYIN_KB_EMBEDDER: offline (default) or openai
	llmBaseURL   string        // HUIYIN_LLM_BASE_URL: an OpenAI-compatible endpoint
	llmAPIKey    string        // HUIYIN_LLM_API_KEY
	chatModel    string        // HUIYIN_CHAT_MODEL: set to use a chat model for answers and drafts
	embedModel   string        // HUIYIN_EMBED_MODEL: the embedding model when HUIYIN_KB_EMBEDDER=openai
	embedDim     int           // HUIYIN_EMBED_DIM: its dimensions (required with openai)
	llmTimeout   time.Duration // HUIYIN_LLM_TIMEOUT: per call (default 8s)
	addr         string        // HUIYIN_ADDR: where serve listens (default :8080)
	intakePerMin int           // HUIYIN_INTAKE_PER_MIN: public requests per minute per client (default 120)
	jobWorkers   int           // HUIYIN_JOB_WORKERS: background jobs run at once (default 4)
	// HUIYIN_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges of
	// the reverse proxies whose X-Forwarded-For names the client (for rate
	// limits and logs); empty trusts none.
	trustedProxies []string

	wechatToken  string // HUIYIN_WECHAT_TOKEN: the official account's server token; empty turns /wechat off
	wechatAppID  string // HUIYIN_WECHAT_APPID: needed for encrypted mode
	wechatAESKey string // HUIYIN_WECHAT_AES_KEY: the EncodingAESKey, for encrypted (安全) mode
}

// devDatabaseURL is where scripts/devdb serves the development database.
// default_query_exec_mode=exec because PGlite's connections share one
// session, so prepared statements would collide.
const devDatabaseURL = "postgresql://postgres:postgres@127.0.0.1:5433/postgres?sslmode=disable&default_query_exec_mode=exec"

// loadEnv reads the configuration. A value that is set but malformed is
// an error naming the variable, never silently the default: a typo in
// HUIYIN_LLM_TIMEOUT must not quietly become 8s.
func loadEnv(getenv func(string) string) (env, error) {
	e := env{
		cacheDir: getenv("HUIYIN_CACHE_DIR"),
		policy:   getenv("HUIYIN_POLICY"),
		embedder: getenv("HUIYIN_EMBEDDER"),
		logLevel: strings.ToLower(strings.TrimSpace(getenv("HUIYIN_LOG_LEVEL"))),
		timezone: getenv("HUIYIN_TIMEZONE"),

		databaseURL: getenv("DATABASE_URL"),
		kbEmbedder:  getenv("HUIYIN_KB_EMBEDDER"),
		llmBaseURL:  getenv("HUIYIN_LLM_BASE_URL"),
		llmAPIKey:   getenv("HUIYIN_LLM_API_KEY"),
		chatModel:   getenv("HUIYIN_CHAT_MODEL"),
		embedModel:  getenv("HUIYIN_EMBED_MODEL"),
		addr:        getenv("HUIYIN_ADDR"),

		wechatToken:  getenv("HUIYIN_WECHAT_TOKEN"),
		wechatAppID:  getenv("HUIYIN_WECHAT_APPID"),
		wechatAESKey: getenv("HUIYIN_WECHAT_AES_KEY"),
	}
	var errs []error
	count := func(name string, dst *int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return // the default, applied where the value is used
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%w: %s=%q is not a positive whole number", huiyin.ErrInvalid, name, v))
			return
		}
		*dst = n
	}
	count("HUIYIN_JOB_WORKERS", &e.jobWorkers)
	count("HUIYIN_INTAKE_PER_MIN", &e.intakePerMin)
	// openKB reports a missing dimension for the openai embedder.
	count("HUIYIN_EMBED_DIM", &e.embedDim)
	e.llmTimeout = 8 * time.Second
	if v := strings.TrimSpace(getenv("HUIYIN_LLM_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%w: HUIYIN_LLM_TIMEOUT=%q is not a positive duration such as 8s", huiyin.ErrInvalid, v))
		} else {
			e.llmTimeout = d
		}
	}
	switch e.logLevel {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("%w: HUIYIN_LOG_LEVEL=%q (debug, info, warn or error)", huiyin.ErrInvalid, e.logLevel))
	}
	for _, p := range strings.Split(getenv("HUIYIN_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			e.trustedProxies = append(e.trustedProxies, p)
		}
	}
	if e.addr == "" {
		e.addr = ":8080"
	}
	if e.databaseURL == "" {
		e.databaseURL = devDatabaseURL
	}
	if e.timezone == "" {
		e.timezone = "Asia/Shanghai"
	}
	if e.cacheDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			e.cacheDir = filepath.Join(dir, "huiyin")
		} else {
			e.cacheDir = filepath.Join(os.TempDir(), "huiyin-cache")
		}
	}
	if e.embedder == "" {
		e.embedder = "offline"
	}
	return e, errors.Join(errs...)
}

// llmConfig is the OpenAI-compatible endpoint's configuration.
func (e env) llmConfig() llm.Config {
	return llm.Config{
		BaseURL: e.llmBaseURL, APIKey: e.llmAPIKey, ChatModel: e.chatModel,
		EmbedModel: e.embedModel, Dimensions: e.embedDim, Timeout: e.llmTimeout, MaxRetries: 2,
	}
}

// location is the company's time zone. The zone database is compiled in
// (time/tzdata), so this works in a minimal container.
func (e env) location() (*time.Location, error) {
	loc, err := time.LoadLocation(e.timezone)
	if err != nil {
		return nil, fmt.Errorf("%w: HUIYIN_TIMEZONE %q: %v", huiyin.ErrInvalid, e.timezone, err)
	}
	return loc, nil
}

func (e env) logger(w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	switch e.logLevel {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// triageDeps are the pieces a triage engine is built from.
type triageDeps struct {
	seg      *triage.Segmenter
	policy   *triage.Policy
	embedder triage.Embedder // nil when the embedding vote is off
}

func (d triageDeps) close() { d.seg.Close() }

// buildTriageDeps loads the segmenter, the policy and the embedder named by
// embedderName ("offline" or "none").
func buildTriageDeps(e env, policyPath, embedderName string) (triageDeps, error) {
	var d triageDeps
	policy, err := loadPolicy(policyPath)
	if err != nil {
		return d, err
	}
	seg, err := triage.NewSegmenter(e.cacheDir)
	if err != nil {
		return d, fmt.Errorf("load segmentation dictionaries: %w", err)
	}
	d = triageDeps{seg: seg, policy: policy}
	switch embedderName {
	case "none":
	case "offline":
		emb, err := knowledge.NewOfflineEmbedder(seg, knowledge.DefaultOfflineDim)
		if err != nil {
			seg.Close()
			return d, err
		}
		d.embedder = emb
	default:
		seg.Close()
		return d, fmt.Errorf("%w: unknown embedder %q (offline or none)", huiyin.ErrInvalid, embedderName)
	}
	return d, nil
}

// newTriageEngine builds the engine the triage and eval commands run.
func newTriageEngine(ctx context.Context, e env, policyPath, embedderName, modelPath string, voteWeight float64, logTo io.Writer) (*triage.Engine, triageDeps, error) {
	deps, err := buildTriageDeps(e, policyPath, embedderName)
	if err != nil {
		return nil, deps, err
	}
	model, err := loadModel(modelPath)
	if err != nil {
		deps.close()
		return nil, deps, err
	}
	eng, err := triage.New(ctx, triage.Config{
		Segmenter: deps.seg, Model: model, Policy: deps.policy, Embedder: deps.embedder, VoteWeight: voteWeight, Logger: e.logger(logTo),
	})
	if err != nil {
		deps.close()
		return nil, deps, err
	}
	return eng, deps, nil
}

func loadPolicy(path string) (*triage.Policy, error) {
	if path == "" {
		return triage.DefaultPolicy(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: open policy: %v", huiyin.ErrInvalid, err)
	}
	defer f.Close()
	p, err := triage.ParsePolicy(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func loadModel(path string) (*triage.Model, error) {
	if path == "" {
		return triage.DefaultModel()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: open model: %v", huiyin.ErrInvalid, err)
	}
	defer f.Close()
	m, err := triage.ReadModel(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
