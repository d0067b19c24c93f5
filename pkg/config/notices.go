package config

import (
	"errors"
	"fmt"
	"sort"
)

// Notices are the keys this configuration sets whose feature does not exist
// yet: they are valid (a file written for a later tajo loads today) but
// change nothing, and `tajo config validate` and `tajo run` say so, naming
// each key. A key that is read is never among them.
//
// For a configuration that came from a file, each notice carries the file,
// the line and the key as the file wrote it (sync.campaigns, or
// connectors.braze.sync.campaigns).
func (c *Config) Notices() []ValidationError {
	var out []ValidationError
	c.notices(func(path, msg string) {
		out = append(out, c.locate(path, msg))
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// notYet ends every notice, so that it reads the same wherever it is printed.
const notYet = "not acted on yet"

func (c *Config) notices(report func(path, msg string)) {
	b := c.Connectors.Braze
	const bp = "connectors.braze"
	for _, r := range []struct {
		key  string
		t    Toggle
		what string
	}{
		{"events", b.Sync.Events, "custom events"},
	} {
		if r.t == (Toggle{}) {
			continue // off, and nothing else said about it
		}
		report(bp+".sync."+r.key, fmt.Sprintf("%s: tajo syncs Braze users, segments, catalogs, campaigns and Canvases today; %s are not synced", notYet, r.what))
	}
	c.resourceNotices(report)
	c.segmentsNotices(report)
	if t := c.Connectors.Brevo.TwoWay; !t.Enabled && len(t.Fields) > 0 {
		report("connectors.brevo.two_way.fields", "not acted on: two_way.enabled is false, so every field travels Braze → Brevo only; set enabled: true to sync these fields from Brevo")
	}
}

// locate gives a message about path the file, line and spelling of the
// file c came from, when it came from one.
func (c *Config) locate(path, msg string) ValidationError {
	if c.src == nil {
		return ValidationError{Path: path, Msg: msg}
	}
	path = c.src.display(path)
	return ValidationError{File: c.src.file, Line: c.src.lineOf(path), Path: path, Msg: msg}
}

// ErrSyncOff is wrapped by the errors of UsersSyncOff and BrevoOff: the
// configuration switches off what a command or service was asked to do.
var ErrSyncOff = errors.New("switched off in the configuration")

// UsersSyncOff says why Braze users must not be synced with this
// configuration (connectors.braze.enabled or sync.users.enabled is false),
// or returns nil. tajo run, the extractor and `tajo connectors sync` refuse
// to sync on it.
func (c *Config) UsersSyncOff() error {
	b := c.Connectors.Braze
	switch {
	case !b.Enabled:
		return fmt.Errorf("%v: the Braze connector is switched off, so nothing is synced; set it to true to sync: %w",
			c.locate("connectors.braze.enabled", "false"), ErrSyncOff)
	case !b.Sync.Users.Enabled:
		return fmt.Errorf("%v: the users sync is switched off and tajo syncs nothing else yet; set it to true to sync: %w",
			c.locate("connectors.braze.sync.users", "false"), ErrSyncOff)
	}
	return nil
}

// BrevoOff says why nothing may be written to Brevo with this configuration
// (connectors.brevo.enabled is false), or returns nil. tajo run and the
// loader refuse to run on it: Brevo is where every synced user goes.
func (c *Config) BrevoOff() error {
	if !c.Connectors.Brevo.Enabled {
		return fmt.Errorf("%v: the Brevo connector is switched off, so nothing can be written; set it to true to sync: %w",
			c.locate("connectors.brevo.enabled", "false"), ErrSyncOff)
	}
	return nil
}
