package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin/api"
)

// openAPIApp is the server with no collaborators: every route is registered
// (those without their collaborator answer 503), and the WeChat callback
// is on, so its routes are listed too.
func openAPIApp(t *testing.T) *fiber.App {
	t.Helper()
	app, err := api.New(api.Config{}, api.Deps{Intake: nil, WeChat: api.WeChatConfig{Token: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// servedOpenAPI fetches the document the way a client does.
func servedOpenAPI(t *testing.T, app *fiber.App) []byte {
	t.Helper()
	resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/api/v1/openapi.yaml", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.yaml: status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("GET /api/v1/openapi.yaml: Content-Type %q, want application/yaml", ct)
	}
	if len(body) == 0 {
		t.Fatal("GET /api/v1/openapi.yaml: empty document")
	}
	return body
}

func loadOpenAPI(t *testing.T, app *fiber.App) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(servedOpenAPI(t, app))
	if err != nil {
		t.Fatalf("parse the OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIValid(t *testing.T) {
	doc := loadOpenAPI(t, openAPIApp(t))
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if doc.Info == nil || doc.Info.Title != "huiyin 回音 API" {
		t.Errorf("info.title is not %q", "huiyin 回音 API")
	}
	for _, name := range []string{"bearerAuth", "apiKeyHeader", "sessionCookie"} {
		if doc.Components == nil || doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("components.securitySchemes lacks %s", name)
		}
	}
}

// fiberParam matches a Fiber path parameter (:ref, :id?) so that it can be
// written the OpenAPI way ({ref}).
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)\??`)

var documentedMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch,
}

func TestOpenAPICoversRoutes(t *testing.T) {
	app := openAPIApp(t)
	doc := loadOpenAPI(t, app)

	registered := map[string]bool{}
	for _, r := range app.GetRoutes(true) { // true leaves out app.Use middleware
		if !slices.Contains(documentedMethods, r.Method) {
			continue // HEAD, added by Fiber for every GET, and the like
		}
		registered[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(registered) == 0 {
		t.Fatal("the app lists no routes")
	}

	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	var undocumented, unknown []string
	for op := range registered {
		if !documented[op] {
			undocumented = append(undocumented, op)
		}
	}
	for op := range documented {
		if !registered[op] {
			unknown = append(unknown, op)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unknown)
	if len(undocumented) > 0 {
		t.Errorf("%d route(s) registered in api.New but missing from openapi.yaml:\n\t%s",
			len(undocumented), strings.Join(undocumented, "\n\t"))
	}
	if len(unknown) > 0 {
		t.Errorf("%d operation(s) in openapi.yaml that api.New does not register:\n\t%s",
			len(unknown), strings.Join(unknown, "\n\t"))
	}
	t.Logf("%d routes registered, %d operations documented", len(registered), len(documented))
}
