// Package config reads tajo's YAML configuration file, in the shape users of
// the seed connector know (connectors.braze.{instance_url, sync, lists,
// field_mapping, ...}), fills in defaults and validates it.
//
// Validation collects every problem at once and names the file, the line and
// the key, with how to fix it:
//
//	tajo.yaml:12: connectors.braze.lists.vip: list id must be a positive integer (got "abc"); use the numeric id shown in Brevo > Contacts > Lists
//
// The product page's layout loads as written: sync, lists and field_mapping
// may sit at the top level instead of under connectors.braze, and each
// sync resource is true, false or a mapping. A valid key whose feature does
// not exist yet is reported by Config.Notices ("not acted on yet"), never
// silently ignored; UsersSyncOff and BrevoOff say when the file switches
// off what a command was asked to run. Vendor URLs follow one rule
// (BrazeInstanceURL, BrevoAPIURL) everywhere they are read. A file over
// MaxFileSize (1 MiB) is refused before it is read.
//
// ${VAR} and ${VAR:-default} are expanded from the environment before the
// YAML is parsed (not inside comments; $${ writes a literal ${); an error
// about an expanded value names the variable, never the value. Secrets are
// never configuration keys: API keys come from BRAZE_API_KEY and
// BREVO_API_KEY (see Secrets), and a key such as api_key in the file is an
// error, so that a key never ends up in a file that gets committed or
// pasted into an issue.
package config
