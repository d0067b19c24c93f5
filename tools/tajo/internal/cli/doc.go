// Package cli holds the cobra commands of the tajo binary, one file per
// command. Commands write their human output to the command's out and err
// streams (never straight to os.Stdout), so tests can capture and check it,
// and they stop when the command's context is cancelled.
package cli
