// Package web holds the browser pages served by huiyin serve: the staff
// console (console/, Simplified Chinese, over the JSON API) and the owners'
// mobile chat page (h5/, the page a WeChat menu opens). They are plain
// HTML, CSS and JavaScript modules with no build step; Chart.js is
// vendored under console/vendor from the npm package pinned in
// package.json (make web-vendor refreshes it). Owners' words are only ever
// set as text, never parsed as HTML.
package web
