package metrics

import (
	"os"
	"testing"

	"adjoint/lib/display"
)

// TestMain silences progress views so that test output stays readable.
func TestMain(m *testing.M) {
	display.SetSink(nil)
	os.Exit(m.Run())
}
