package testsummary

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAdd: lines are appended to the file $RIOT_TEST_SUMMARY names, and a
// skip is recorded with the test's name and its reason.
func TestAdd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary")
	t.Setenv(Env, path)
	if err := Add("jepsen: run ci-3nodes: PASS"); err != nil {
		t.Fatal(err)
	}
	t.Run("skipping", func(t *testing.T) { Skip(t, "systemtest", "redis-cli not found") })
	if err := Add(Skipped("dockertest", "docker is not installed")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "jepsen: run ci-3nodes: PASS\n" +
		"systemtest TestAdd/skipping: SKIPPED: redis-cli not found\n" +
		"dockertest: SKIPPED: docker is not installed\n"
	if string(got) != want {
		t.Errorf("summary file:\n%s\nwant:\n%s", got, want)
	}

	t.Setenv(Env, "")
	if err := Add("nowhere"); err != nil {
		t.Errorf("Add without %s = %v, want nil", Env, err)
	}
}
