package wirejson

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

func TestInt(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{`123`, 123, false},
		{`-7`, -7, false},
		{`"2401234567"`, 2401234567, false},
		{`" 42 "`, 42, false},
		{`null`, 0, false},
		{`""`, 0, false},
		{`"  "`, 0, false},
		{`1e3`, 1000, false},
		{`"1e3"`, 1000, false},
		{`1.0`, 1, false},
		{`9223372036854775807`, math.MaxInt64, false},
		{`1.5`, 0, true},
		{`"1.5"`, 0, true},
		{`9223372036854775808`, 0, true},
		{`1e19`, 0, true},
		{`"abc"`, 0, true},
		{`true`, 0, true},
		{`{}`, 0, true},
		{`[1]`, 0, true},
		{`"NaN"`, 0, true},
		{`"Inf"`, 0, true},
	} {
		var n Int
		err := json.Unmarshal([]byte(tc.in), &n)
		if (err != nil) != tc.wantErr || int64(n) != tc.want {
			t.Errorf("Int from %s = %d, %v; want %d, error %v", tc.in, n, err, tc.want, tc.wantErr)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{`1712345678`, 1712345678, false},
		{`1712345678.25`, 1712345678.25, false},
		{`"1712345678123"`, 1712345678123, false},
		{`" 2.5 "`, 2.5, false},
		{`null`, 0, false},
		{`""`, 0, false},
		{`"Infinity"`, 0, true},
		{`"NaN"`, 0, true},
		{`"soon"`, 0, true},
		{`false`, 0, true},
		{`{"a":1}`, 0, true},
	} {
		var n Number
		err := json.Unmarshal([]byte(tc.in), &n)
		if (err != nil) != tc.wantErr || float64(n) != tc.want {
			t.Errorf("Number from %s = %v, %v; want %v, error %v", tc.in, n, err, tc.want, tc.wantErr)
		}
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{`"Alice"`, "Alice", false},
		{`"a\"b\u00e9"`, `a"bé`, false},
		{`""`, "", false},
		{`null`, "", false},
		{`12345`, "12345", false},
		{`-0`, "-0", false},
		{`12345678901234567890123`, "12345678901234567890123", false},
		{`1e3`, "1000", false},
		{`1.50`, "1.5", false},
		{`1.5e2`, "150", false},
		{`1e400`, "1e400", false},
		{`true`, "true", false},
		{`false`, "false", false},
		{`{"a":1}`, "", true},
		{`[1]`, "", true},
	} {
		var s String
		err := json.Unmarshal([]byte(tc.in), &s)
		if (err != nil) != tc.wantErr || string(s) != tc.want {
			t.Errorf("String from %s = %q, %v; want %q, error %v", tc.in, s, err, tc.want, tc.wantErr)
		}
	}
}

func TestLooseString(t *testing.T) {
	var card struct {
		Title LooseString `json:"title"`
		Desc  LooseString `json:"desc"`
		URL   LooseString `json:"url"`
		Tag   LooseString `json:"tag"`
		Count LooseString `json:"count"`
	}
	err := json.Unmarshal([]byte(`{"title":{"zh":"公告"},"desc":["a"],"url":null,"tag":"新闻","count":1e2}`), &card)
	if err != nil {
		t.Fatal(err)
	}
	if card.Title != "" || card.Desc != "" || card.URL != "" || card.Tag != "新闻" || card.Count != "100" {
		t.Errorf("got %+v; want the object, array and null as \"\", tag and count as text", card)
	}
}

func TestScalar(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   string
		wantOK bool
	}{
		{`"x"`, "x", true},
		{` 7 `, "7", true},
		{`2.0`, "2", true},
		{`true`, "true", true},
		{`null`, "", false},
		{`{}`, "", false},
		{`[]`, "", false},
		{``, "", false},
		{`tru`, "", false},
		{`01`, "", false},
		{`"unterminated`, "", false},
	} {
		got, ok := Scalar([]byte(tc.in))
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Scalar(%s) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{`0`, `-12`, `1e3`, `1.5`, `"12"`, `" 7 "`, `""`, `null`, `true`, `{}`, `[1]`,
		`9223372036854775807`, `9223372036854775808`, `1e400`, `-0.0e-0`, `"\u0031"`, `01`, `1.`, `.5`, `+1`} {
		f.Add([]byte(s))
	}
}

// FuzzString: String agrees with encoding/json on strings, null and
// booleans, gives a decimal of the same value for numbers, and fails
// exactly on objects and arrays.
func FuzzString(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return // encoding/json never hands us invalid JSON
		}
		var s String
		err := json.Unmarshal(b, &s)
		switch v := v.(type) {
		case string:
			if err != nil || string(s) != v {
				t.Fatalf("String(%s) = %q, %v; want %q", b, s, err, v)
			}
		case nil:
			if err != nil || s != "" {
				t.Fatalf("String(null) = %q, %v", s, err)
			}
		case bool:
			if err != nil || string(s) != strconv.FormatBool(v) {
				t.Fatalf("String(%s) = %q, %v", b, s, err)
			}
		case float64:
			if err != nil {
				t.Fatalf("String(%s): %v", b, err)
			}
			if bytes.ContainsAny(s2b(s), "eE") && !math.IsInf(parse(t, bytes.TrimSpace(b)), 0) {
				t.Fatalf("String(%s) = %q: an exponent left in", b, s)
			}
			if got, want := parse(t, s2b(s)), v; got != want && !math.IsInf(want, 0) {
				t.Fatalf("String(%s) = %q, which is %v, not %v", b, s, got, want)
			}
		default:
			if err == nil {
				t.Fatalf("String(%s) = %q, want an error for %T", b, s, v)
			}
		}
	})
}

// FuzzInt: every int64 encoding/json reads, Int reads the same; whatever
// Int accepts from a number literal has that exact integral value.
func FuzzInt(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var want int64
		wantErr := json.Unmarshal(b, &want)
		var n Int
		err := json.Unmarshal(b, &n)
		if wantErr == nil && (err != nil || int64(n) != want) {
			t.Fatalf("Int(%s) = %d, %v; encoding/json: %d", b, n, err, want)
		}
		var f64 float64
		if err == nil && json.Unmarshal(b, &f64) == nil && float64(int64(n)) != f64 && math.Abs(f64) < 1<<53 {
			t.Fatalf("Int(%s) = %d, but the number is %v", b, n, f64)
		}
	})
}

// FuzzIntPlain: the allocation-free reading of plain integers gives what
// the general one gives, whenever it takes the input.
func FuzzIntPlain(f *testing.F) {
	fuzzSeeds(f)
	for _, s := range []string{`-9223372036854775808`, `-9223372036854775809`, `18446744073709551615`,
		`99999999999999999999`, `-0`, ` 42 `, `-`, `00`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := plainInteger(b)
		if !ok {
			return
		}
		var slow Int
		if err := slow.unmarshalText(b); err != nil || int64(slow) != v {
			t.Fatalf("plainInteger(%q) = %d; numericText and parseInteger: %d, %v", b, v, slow, err)
		}
	})
}

// FuzzNumber: every float64 encoding/json reads, Number reads the same.
func FuzzNumber(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var want float64
		if json.Unmarshal(b, &want) != nil {
			return
		}
		var n Number
		if err := json.Unmarshal(b, &n); err != nil || float64(n) != want {
			t.Fatalf("Number(%s) = %v, %v; encoding/json: %v", b, n, err, want)
		}
	})
}

// FuzzIsNumber: the number grammar agrees with encoding/json's.
func FuzzIsNumber(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || !(b[0] == '-' || '0' <= b[0] && b[0] <= '9') || len(bytes.TrimSpace(b)) != len(b) {
			return // not a number token, or blanks around it that json.Valid allows
		}
		if got, want := isNumber(b), json.Valid(b); got != want {
			t.Fatalf("isNumber(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

func s2b(s String) []byte { return []byte(s) }

func parse(t *testing.T, b []byte) float64 {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !math.IsInf(f, 0) {
		t.Fatalf("ParseFloat(%s): %v", b, err)
	}
	return f
}
