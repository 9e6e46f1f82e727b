package transforms

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNothingOfSatchel: transforms owns its errors and its types, so
// that it can be used, and tested, on its own. Neither its code nor its
// tests import a package of the module, directly or (when the go command is
// at hand) through a dependency.
func TestImportsNothingOfSatchel(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var module string
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			module = strings.Trim(f[1], `"`)
		}
	}
	if module == "" {
		t.Fatal("no module path in ../go.mod")
	}
	ours := func(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files here (%v)", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if ours(path) {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Logf("no go command (%v): dependencies not checked", err)
		return
	}
	out, err := exec.Command(goTool, "list", "-deps", "-test", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	// One package a line; a package recompiled for the tests is followed by
	// " [its test]".
	pkg := module + "/transforms"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dep, _, _ := strings.Cut(line, " ")
		if ours(dep) && dep != pkg && dep != pkg+".test" {
			t.Errorf("transforms depends on %s", dep)
		}
	}
}
