package api

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
)

// statusOf is the one table from the domain's sentinel errors to HTTP
// status codes and the codes clients see.
var statusOf = []struct {
	err    error
	status int
	code   string
}{
	{huiyin.ErrInvalid, fiber.StatusBadRequest, "invalid"},
	{huiyin.ErrNotFound, fiber.StatusNotFound, "not_found"},
	{huiyin.ErrConflict, fiber.StatusConflict, "conflict"},
	{huiyin.ErrUnauthorized, fiber.StatusUnauthorized, "unauthorized"},
	{huiyin.ErrForbidden, fiber.StatusForbidden, "forbidden"},
	{huiyin.ErrUnavailable, fiber.StatusServiceUnavailable, "unavailable"},
}

// errorBody is every error response.
type errorBody struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// classify maps an error to its status, code and the message a client may
// see: the Chinese text of an invalid request, general words otherwise.
func classify(err error) (int, string, string) {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			return fe.Code, "too_large", "请求内容过大"
		case fiber.StatusTooManyRequests:
			return fe.Code, "rate_limited", "请求过于频繁，请稍后再试"
		case fiber.StatusNotFound:
			return fe.Code, "not_found", "接口不存在"
		case fiber.StatusMethodNotAllowed:
			return fe.Code, "method_not_allowed", "不支持该请求方法"
		case fiber.StatusRequestHeaderFieldsTooLarge:
			return fe.Code, "too_large", "请求网址或请求头过长"
		}
		if fe.Code < 500 {
			return fe.Code, "bad_request", "请求无效"
		}
	}
	for _, s := range statusOf {
		if errors.Is(err, s.err) {
			switch s.status {
			case fiber.StatusBadRequest, fiber.StatusNotFound, fiber.StatusConflict, fiber.StatusUnauthorized, fiber.StatusForbidden:
				// The sentinel's English words go, wherever the wrapping put
				// them ("a.pdf: invalid input: 不支持的文件格式").
				return s.status, s.code, strings.Replace(err.Error(), s.err.Error()+": ", "", 1)
			case fiber.StatusServiceUnavailable:
				return s.status, s.code, "服务暂时不可用，请稍后重试"
			}
		}
	}
	if lostBackend(err) {
		return fiber.StatusServiceUnavailable, "unavailable", "服务暂时不可用，请稍后重试"
	}
	return fiber.StatusInternalServerError, "internal", "服务器内部错误，请稍后重试"
}

// lostBackend reports whether err is the database (or another backend)
// going away or not answering in time: a connection refused, reset or
// closed mid-query, or a request past its deadline. Clients should retry
// those (503), unlike a bug (500). Checked by shape, so that api needs no
// driver.
func lostBackend(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded)
}
