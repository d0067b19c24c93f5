package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/tajo-sync/tajo/pkg/config"
)

// newConfigFile is what install writes when there is no config file: only
// what it sets, so every other key keeps its documented default.
const newConfigFile = `# tajo configuration, written by "tajo connectors install braze".
# Keys left out take their defaults (README: configuration reference).
# API keys do not belong here: they are stored encrypted in
# $TAJO_HOME/credentials.enc, or read from BRAZE_API_KEY and BREVO_API_KEY.
connectors:
  braze:
    enabled: true
`

// enableInConfig sets connectors.braze.enabled and instance_url in the file
// at path, creating it when absent. It edits the YAML node tree, so comments,
// key order and every other setting survive. problems holds what
// config.Parse still finds wrong with the result (the file's own mistakes);
// the file is written regardless, as the edit did not cause them.
func enableInConfig(path, instanceURL string) (created bool, problems error, err error) {
	data, err := os.ReadFile(path)
	created = errors.Is(err, fs.ErrNotExist)
	mode := fs.FileMode(0o644)
	switch {
	case created:
		data = []byte(newConfigFile)
	case err != nil:
		return false, nil, fmt.Errorf("reading the config file: %w", err)
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return false, nil, fmt.Errorf("%s is not valid YAML (%v): fix it (tajo config validate %s) and install again", path, err, path)
	}
	if doc.Kind == 0 { // empty or only comments
		doc = yaml.Node{Kind: yaml.DocumentNode, HeadComment: doc.HeadComment, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return false, nil, fmt.Errorf("%s: the top level must be a mapping (connectors:, nats:, pipeline:); fix it and install again", path)
	}
	braze := child(child(root, "connectors"), "braze")
	setScalar(braze, "enabled", "!!bool", "true")
	setScalar(braze, "instance_url", "!!str", instanceURL)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return false, nil, fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return false, nil, fmt.Errorf("encoding %s: %w", path, err)
	}
	_, problems = config.Parse(path, buf.Bytes())
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, nil, fmt.Errorf("creating the directory of %s: %w", path, err)
	}
	if err := replaceFile(path, buf.Bytes(), mode); err != nil {
		return false, nil, err
	}
	return created, problems, nil
}

// child returns the mapping under key in m, adding it (or replacing an empty
// or scalar value) when needed.
func child(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind != yaml.MappingNode {
				*v = yaml.Node{Kind: yaml.MappingNode, LineComment: v.LineComment}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}

// setScalar sets key in m to value, keeping the key's comments.
func setScalar(m *yaml.Node, key, tag, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			*v = yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, LineComment: v.LineComment, HeadComment: v.HeadComment}
			return
		}
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value})
}

// replaceFile writes data beside path and renames it over path, so a crash
// never leaves half a config file.
func replaceFile(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	err = errors.Join(werr, tmp.Chmod(mode), tmp.Sync(), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
