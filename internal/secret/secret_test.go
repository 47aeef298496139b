package secret

import "testing"

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		got, want string
		equal     bool
	}{
		{"s3cret", "s3cret", true},
		{"", "", true},
		{"s3cret", "s3cre", false},
		{"s3cre", "s3cret", false},
		{"S3cret", "s3cret", false},
		{"", "s3cret", false},
	} {
		if got := Equal(tc.got, tc.want); got != tc.equal {
			t.Errorf("Equal(%q, %q) = %v", tc.got, tc.want, got)
		}
	}
}

func TestFromAuthorization(t *testing.T) {
	for _, tc := range []struct {
		header  string
		schemes []string
		token   string
		ok      bool
	}{
		{"Bearer abc", []string{"Bearer"}, "abc", true},
		{"bearer  abc ", []string{"Bearer"}, "abc", true},
		{"Token abc", []string{"Bearer", "Token"}, "abc", true},
		{"Token abc", []string{"Bearer"}, "", false},
		{"Bearer ", []string{"Bearer"}, "", true}, // NapCat without a token
		{"Bearer", []string{"Bearer"}, "", true},
		{"Basic dXNlcg==", []string{"Bearer"}, "", false},
		{"abc", []string{"Bearer"}, "", false},
		{"", []string{"Bearer"}, "", false},
	} {
		token, ok := FromAuthorization(tc.header, tc.schemes...)
		if token != tc.token || ok != tc.ok {
			t.Errorf("FromAuthorization(%q, %q) = %q, %v; want %q, %v", tc.header, tc.schemes, token, ok, tc.token, tc.ok)
		}
	}
}
