package riot_test

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/riotkv/riot/"

// mayImport lists, for each package, the riot packages it may import.
// Imports point one way: storage <- kv <- raftkv <- cluster <- resp,
// httpapi <- cmd. kv (the data model and its state machine) knows nothing
// of raft; raftkv replicates its entries. respwire (the RESP codec) is a
// leaf that resp and cluster share.
var mayImport = map[string][]string{
	"storage":              {},
	"gossip":               {},
	"respwire":             {},
	"kv":                   {"storage"},
	"raftkv":               {"kv", "storage"},
	"raftkv/raftkvtest":    {"raftkv", "kv", "storage"},
	"cluster":              {"raftkv", "kv", "gossip", "respwire"},
	"resp":                 {"cluster", "raftkv", "kv", "respwire"},
	"httpapi":              {"cluster", "raftkv", "kv"},
	"cmd/riot-server":      {"storage", "kv", "raftkv", "cluster", "resp", "httpapi", "gossip"},
	"systemtest":           {"internal/proctest", "internal/testsummary"},
	"dockertest":           {"internal/testsummary"},
	"jepsen":               {"internal/proctest", "internal/testsummary"},
	"internal/proctest":    {},
	"internal/testsummary": {},
	"internal/testdir":     {},
}

// testFixtures may be imported by any package's tests, to build a real node
// to test against.
var testFixtures = []string{"storage", "kv", "raftkv", "raftkv/raftkvtest", "internal/testdir"}

// thirdParty lists modules that must stay inside one layer.
var thirdParty = map[string][]string{
	"github.com/hashicorp/raft":       {"raftkv", "raftkv/raftkvtest"},
	"github.com/syndtr/goleveldb":     {"storage"},
	"github.com/hashicorp/memberlist": {"gossip"},
	"github.com/tidwall/redcon":       {},
}

// onlyModules lists packages whose imports (tests included), besides riot's
// own (mayImport) and the standard library, must come from these modules.
var onlyModules = map[string][]string{
	"kv":       {"github.com/klauspost/compress"},
	"respwire": {}, // a leaf: the standard library only
}

// TestLayering checks every package's imports (tests included) against
// mayImport, thirdParty and onlyModules.
func TestLayering(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "docs") {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != "." {
			return filepath.SkipDir // a nested module (bench/): none of riot's packages
		}
		pkg, err := build.ImportDir(path, build.ImportComment)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			t.Errorf("%s: %v", path, err)
			return nil
		}
		if path == "." {
			return nil
		}
		rel := filepath.ToSlash(path)
		allowed, known := mayImport[rel]
		if !known {
			t.Errorf("package %s is not in mayImport: add it with the packages it may import", rel)
			return nil
		}
		imports := append([]string{}, pkg.Imports...)
		testImports := append(append([]string{}, pkg.TestImports...), pkg.XTestImports...)
		for i, imp := range append(imports, testImports...) {
			isTest := i >= len(imports)
			if dep, ok := strings.CutPrefix(imp, module); ok {
				if dep != rel && !contains(allowed, dep) && !(isTest && contains(testFixtures, dep)) {
					t.Errorf("%s imports %s; allowed: %v", rel, dep, allowed)
				}
				continue
			}
			if mods, ok := onlyModules[rel]; ok && !isStdlib(imp) && !slices.ContainsFunc(mods, func(mod string) bool {
				return imp == mod || strings.HasPrefix(imp, mod+"/")
			}) {
				t.Errorf("%s imports %s; besides riot's packages and the standard library it may use only %v", rel, imp, mods)
			}
			for mod, owners := range thirdParty {
				if (imp == mod || strings.HasPrefix(imp, mod+"/")) && !contains(owners, rel) {
					t.Errorf("%s imports %s, which only %v may use", rel, imp, owners)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// isStdlib reports whether imp is a standard library package (its first
// path element has no dot).
func isStdlib(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
