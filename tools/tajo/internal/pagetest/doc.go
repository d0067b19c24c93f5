// Package pagetest holds the tests of the gateway's status page in a real
// headless Chromium (chromedp): the figures it shows are the status API's
// during and after a sync; and of the status API against
// `tajo connectors status --json`: one value. It has no non-test code.
package pagetest
