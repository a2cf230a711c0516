package api

import (
	"fmt"
	"io/fs"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// contentSecurityPolicy allows the pages their own scripts, styles and
// API only: no inline script, nothing from elsewhere, no framing. Owners'
// words are set as text by the pages, and this stops any markup that got
// through from running.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// servePages serves the staff console at /console/ and the owners' chat
// page at /h5/ from assets; / leads to the console.
func servePages(app *fiber.App, assets fs.FS) error {
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/console/", fiber.StatusFound) })
	for _, dir := range []string{"console", "h5"} {
		if _, err := fs.Stat(assets, dir+"/index.html"); err != nil {
			return fmt.Errorf("the page assets lack %s/index.html: %w", dir, err)
		}
		// The pages load their files relative to the directory, so
		// /h5?owner=… (as a menu link may be written) goes to /h5/?owner=….
		app.Get("/"+dir, func(c *fiber.Ctx) error {
			if c.Path() != "/"+dir {
				return c.Next()
			}
			target := "/" + dir + "/"
			if q := string(c.Request().URI().QueryString()); q != "" {
				target += "?" + q
			}
			return c.Redirect(target, fiber.StatusMovedPermanently)
		})
		app.Use("/"+dir, noStore, filesystem.New(filesystem.Config{
			Root:       http.FS(assets),
			PathPrefix: dir,
			Index:      "index.html",
		}))
	}
	return nil
}

// noStore keeps browsers from holding on to an older console after an
// upgrade; the pages are small.
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Next()
}
