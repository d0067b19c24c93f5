package mapping_test

import (
	"errors"
	"fmt"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

func ExampleMapper_Map() {
	m, err := mapping.New(mapping.Options{DefaultRegion: "US"})
	if err != nil {
		panic(err)
	}
	c, err := m.Map([]byte(`{"braze_id":"5fbd","external_id":"A8i3","email":" Jane@Example.com",
		"first_name":"Jane","phone":"(415) 555-2671","total_revenue":"65.5","push_subscribe":"opted_in",
		"custom_attributes":{"loyalty_points":"321","last_app_version":"not-a-float-but-text"}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Key, c.Email)
	for _, a := range m.Attributes() {
		if v, ok := c.Attributes[a.Name]; ok {
			fmt.Printf("%s (%s) = %v\n", a.Name, a.Type, v)
		}
	}

	_, err = m.Map([]byte(`{"braze_id":"5fbe","email":"jane@localhost"}`))
	var re *mapping.RecordError
	if errors.As(err, &re) {
		fmt.Println("dead letter:", re.Reason)
	}
	// Output:
	// A8i3 jane@example.com
	// APP_VERSION (text) = not-a-float-but-text
	// BRAZE_ID (text) = A8i3
	// FIRSTNAME (text) = Jane
	// LOYALTY_POINTS (float) = 321
	// PUSH_OPTIN (boolean) = true
	// SMS (text) = +14155552671
	// TOTAL_REVENUE (float) = 65.5
	// dead letter: invalid_email
}
