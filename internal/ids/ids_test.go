package ids

import "testing"

func TestNewIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := New()
		if !Valid(id) {
			t.Fatalf("New() = %q is not Valid", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestValidRejects(t *testing.T) {
	for _, s := range []string{"", "short", "../../../../etc/passwd", "AAAAAAAAAAAAAAAAAAAAA/", "AAAAAAAAAAAAAAAAAAAAA.", "AAAAAAAAAAAAAAAAAAAAAAA"} {
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

func FuzzValid(f *testing.F) {
	f.Add("0123456789abcdefABCDEF")
	f.Add("../x")
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(s) {
			for _, c := range s {
				if c == '/' || c == '.' || c == '\\' || c == '%' {
					t.Fatalf("Valid accepted %q", s)
				}
			}
		}
	})
}
