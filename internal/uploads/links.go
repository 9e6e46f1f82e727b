package uploads

import "fmt"

// TicketURLs are where the holder of upload ticket uploadID sends the
// file: a one-shot POST, or tus creation with the ID in Upload-Metadata.
func (s *Service) TicketURLs(uploadID string) (uploadURL, tusEndpoint string) {
	return s.PublicURL + "/files/public/" + uploadID, s.PublicURL + "/uploads/"
}

// TransformationURL is the delivery URL of a file's result for the named
// preset. The preset's version makes a changed preset a new URL, which no
// cache confuses with the old result.
func (s *Service) TransformationURL(fileID, name string, version int) string {
	return fmt.Sprintf("%s/%s?v=%d", s.FileURL(fileID), name, version)
}
