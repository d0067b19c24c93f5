package mapping

import (
	"fmt"
	"testing"
)

func TestExportFields(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	fields, custom := m.ExportFields()
	want := "[braze_id country custom_attributes email email_subscribe external_id first_name last_name phone push_subscribe total_revenue] " +
		"[last_app_version loyalty_points preferred_language push_opted_in]"
	if got := fmt.Sprint(fields, " ", custom); got != fmt.Sprint(want) {
		t.Errorf("ExportFields() = %s\nwant              %s", got, want)
	}
}
