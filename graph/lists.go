package graph

// nonNil turns a nil slice into an empty one, for non-null list fields.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
