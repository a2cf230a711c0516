package api

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPI is the API's description, kept beside the handlers and checked
// against the routes by a test.
//
//go:embed openapi.yaml
var openAPI []byte

func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
	return c.Send(openAPI)
}
