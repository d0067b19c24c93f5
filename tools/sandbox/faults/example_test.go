package faults_test

import (
	"fmt"

	"github.com/tajo-sync/tajo/tools/sandbox/faults"
)

func ExampleParse() {
	spec, err := faults.Parse("429=0.02,5xx=0.05,latency=20ms+-10ms")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec)
	fmt.Println(spec.ServerError, spec.Latency, spec.Jitter)

	_, err = faults.Parse("404=0.1")
	fmt.Println(err != nil)
	// Output:
	// 429=0.02,5xx=0.05,latency=20ms±10ms
	// 0.05 20ms 10ms
	// true
}
