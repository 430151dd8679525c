package hubspot

import (
	"math"
	"testing"
)

// TestEncodeNumberExact: decimals that binary floats cannot hold exactly, and every Go integer
// type at its extremes, encode as the exact base-10 decimal a person would write.
func TestEncodeNumberExact(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{0.2, "0.2"}, {0.6, "0.6"}, {1.6, "1.6"}, {-0.05, "-0.05"}, {1e-7, "0.0000001"},
		{float32(0.2), "0.2"}, {float32(1.6), "1.6"},
		{int(-42), "-42"}, {int8(math.MinInt8), "-128"}, {int16(math.MaxInt16), "32767"},
		{int32(math.MinInt32), "-2147483648"}, {int64(math.MaxInt64), "9223372036854775807"},
		{int64(math.MinInt64), "-9223372036854775808"},
		{uint(10), "10"}, {uint8(math.MaxUint8), "255"}, {uint16(math.MaxUint16), "65535"},
		{uint32(math.MaxUint32), "4294967295"}, {uint64(math.MaxUint64), "18446744073709551615"},
		{uintptr(16), "16"},
		{"0.2", "0.2"}, {"1e-7", "0.0000001"}, {"-0.05", "-0.05"},
		// Whole floats Go writes with an exponent whose digits end exactly
		// at the decimal point: no trailing "." and no lost zeros.
		{float64(1234567), "1234567"}, {float32(1234567), "1234567"}, {-1234567.0, "-1234567"},
		{1.5e6, "1500000"}, {1234567.5, "1234567.5"},
	}
	for _, tc := range tests {
		got, err := EncodeValue(TypeNumber, tc.in)
		if err != nil {
			t.Errorf("EncodeValue(number, %T %v): %v", tc.in, tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("EncodeValue(number, %T %v) = %q, want %q", tc.in, tc.in, got, tc.want)
		}
	}
}
