package ticketjobs

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		attempt int
		min     time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{5, 16 * time.Second},
		{9, 256 * time.Second},
		{10, MaxRetryDelay},
		{25, MaxRetryDelay},
		{1000, MaxRetryDelay},
	}
	for _, tt := range tests {
		for range 20 {
			d := retryDelay(tt.attempt)
			if d < tt.min || d > tt.min+tt.min/5 {
				t.Fatalf("attempt %d: %s, want %s plus at most a fifth", tt.attempt, d, tt.min)
			}
		}
	}
}
