package config_test

import (
	"fmt"

	"github.com/tajo-sync/tajo/pkg/config"
)

func ExampleParse() {
	_, err := config.Parse("tajo.yaml", []byte(`connectors:
  braze:
    instance_url: rest.iad-01.braze.com
    api_key: xxx
    lists:
      vip: abc
    field_mapping:
      first_name: FirstName
pipeline:
  batch_sise: 500
`))
	fmt.Println(err)
	// Output:
	// tajo.yaml:4: connectors.braze.api_key: secrets are not read from the config file; set the environment variable BRAZE_API_KEY (or use the credential store) and remove this key
	// tajo.yaml:6: connectors.braze.lists.vip: list id must be a positive integer (got "abc"); use the numeric id shown in Brevo > Contacts > Lists
	// tajo.yaml:8: connectors.braze.field_mapping.first_name: Brevo attribute "FirstName" must be UPPER_SNAKE_CASE: A-Z, 0-9 and _ (example: FIRST_NAME)
	// tajo.yaml:10: pipeline.batch_sise: unknown key; did you mean "batch_size"?
}
