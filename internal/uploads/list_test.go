package uploads

import "testing"

func FuzzDecodeCursor(f *testing.F) {
	acct := accountDigest("A")
	f.Add(encodeCursor(position{Acct: acct, At: 1, ID: "0123456789abcdefABCDEF"}), "", "")
	f.Add(encodeCursor(position{Acct: acct, Mode: modePrefix, Tag: "a", Sort: "ab", At: 1, ID: "0123456789abcdefABCDEF"}), modePrefix, "a")
	f.Add("!!!", modeTag, "x")
	f.Fuzz(func(t *testing.T, s, mode, tag string) {
		p, err := decodeCursor(s, acct, mode, tag)
		if err != nil {
			return
		}
		if p.Acct != acct || p.Mode != mode || p.Tag != tag {
			t.Fatalf("cursor for another listing accepted: %+v", p)
		}
		if encodeCursor(p) == "" {
			t.Fatal("empty re-encoding")
		}
	})
}
