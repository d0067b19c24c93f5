// Package progress draws the live progress of a sync run on a terminal.
//
// On a terminal the bar redraws one line in place with a carriage return; on
// anything else (a pipe, a CI log) it prints plain lines, throttled, so a log
// file gets a readable history instead of thousands of control characters.
// A Bar is safe for concurrent use: the pipeline reports progress from more
// than one goroutine.
package progress
