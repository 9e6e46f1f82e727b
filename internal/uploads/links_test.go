package uploads

import "testing"

func TestLinks(t *testing.T) {
	s := &Service{PublicURL: "https://up.example"}
	up, tus := s.TicketURLs("T1")
	if up != "https://up.example/files/public/T1" || tus != "https://up.example/uploads/" {
		t.Errorf("TicketURLs: %q %q", up, tus)
	}
	if got := s.TransformationURL("F1", "thumb", 3); got != "https://up.example/files/F1/thumb?v=3" {
		t.Errorf("TransformationURL: %q", got)
	}
}
