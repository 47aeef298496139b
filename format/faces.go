package format

import "strings"

//go:generate go run ./internal/genfaces -in testdata/qq_face_names.json -out faces_table.go

// FaceName returns the name QQ shows for a system face id ("14" → "微笑"),
// ok=false for an id the table does not know. Milky's large (is_large) faces
// share the same ids.
func FaceName(id string) (string, bool) {
	name, ok := faceNames[strings.TrimSpace(id)]
	return name, ok
}
