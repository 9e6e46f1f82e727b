package uploads

import "testing"

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(position{At: 1, ID: "0123456789abcdefABCDEF"}), "", "")
	f.Add(encodeCursor(position{Mode: modePrefix, Tag: "a", Sort: "ab", At: 1, ID: "0123456789abcdefABCDEF"}), modePrefix, "a")
	f.Add("!!!", modeTag, "x")
	f.Fuzz(func(t *testing.T, s, mode, tag string) {
		p, err := decodeCursor(s, mode, tag)
		if err != nil {
			return
		}
		if p.Mode != mode || p.Tag != tag {
			t.Fatalf("cursor for another listing accepted: %+v", p)
		}
		if encodeCursor(p) == "" {
			t.Fatal("empty re-encoding")
		}
	})
}
