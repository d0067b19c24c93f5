// Package config reads tajo's YAML configuration file, in the shape users of
// the seed connector know (connectors.braze.{instance_url, sync, lists,
// field_mapping, ...}), fills in defaults and validates it.
//
// Validation collects every problem at once and names the file, the line and
// the key, with how to fix it:
//
//	tajo.yaml:12: connectors.braze.lists.vip: list id must be a positive integer (got "abc"); use the numeric id shown in Brevo > Contacts > Lists
//
// ${VAR} and ${VAR:-default} are expanded from the environment before the
// YAML is parsed (not inside comments; $${ writes a literal ${). Secrets are
// never configuration keys: API keys come from BRAZE_API_KEY and
// BREVO_API_KEY (see Secrets), and a key such as api_key in the file is an
// error, so that a key never ends up in a file that gets committed or
// pasted into an issue.
package config
