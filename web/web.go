package web

import (
	"embed"
	"io/fs"
)

//go:embed console h5
var files embed.FS

// Assets returns the pages: console/… and h5/….
func Assets() fs.FS { return files }
