package triage

import "github.com/huiyin/huiyin"

// ErrInvalid is huiyin.ErrInvalid, re-exported so triage callers need one import.
var ErrInvalid = huiyin.ErrInvalid
