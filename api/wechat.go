package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/wechat"
)

// WeChatConfig is the official account's server configuration (公众号
// 服务器配置). Token empty turns the callback off.
type WeChatConfig struct {
	Token          string
	AppID          string
	EncodingAESKey string // set for encrypted (安全) mode
}

// wechatDeadline leaves WeChat's 5-second limit a margin for the network.
const wechatDeadline = 4 * time.Second

type wechatHandler struct {
	s      *server
	verify wechat.Verifier
	crypt  *wechat.Crypter
}

func newWeChat(s *server, cfg WeChatConfig) (*wechatHandler, error) {
	h := &wechatHandler{s: s, verify: wechat.Verifier{Token: cfg.Token}}
	if cfg.EncodingAESKey != "" {
		c, err := wechat.NewCrypter(cfg.EncodingAESKey, cfg.AppID)
		if err != nil {
			return nil, err
		}
		h.crypt = c
	}
	return h, nil
}

// verifyURL answers WeChat's check of the server address.
func (h *wechatHandler) verifyURL(c *fiber.Ctx) error {
	if err := h.verify.Check(c.Query("signature"), c.Query("timestamp"), c.Query("nonce")); err != nil {
		return h.forbidden(c, err)
	}
	return c.SendString(c.Query("echostr"))
}

func (h *wechatHandler) forbidden(c *fiber.Ctx, err error) error {
	h.s.log.Warn("wechat callback refused", "request_id", requestID(c), "ip", h.s.clientIP(c), "err", err)
	h.s.m.wechat.WithLabelValues("bad_signature").Inc()
	return c.Status(fiber.StatusForbidden).SendString("forbidden")
}

// malformed answers a body the wechat package could not read: its
// detail (English, about XML or the cipher) goes to the log, a clear
// message to the caller.
func (h *wechatHandler) malformed(c *fiber.Ctx, msg string, err error) error {
	if !errors.Is(err, huiyin.ErrInvalid) {
		return err
	}
	h.s.log.Warn("wechat callback malformed", "request_id", requestID(c), "ip", h.s.clientIP(c), "err", err)
	h.s.m.wechat.WithLabelValues("malformed").Inc()
	return fmt.Errorf("%w: %s", huiyin.ErrInvalid, msg)
}

// receive takes a pushed message: the signature is checked on every
// request, the message stored (once per MsgId) and answered with a passive
// reply inside WeChat's time limit. A failure to store answers 503, so
// that WeChat delivers the message again.
func (h *wechatHandler) receive(c *fiber.Ctx) error {
	ts, nonce := c.Query("timestamp"), c.Query("nonce")
	if err := h.verify.Check(c.Query("signature"), ts, nonce); err != nil {
		return h.forbidden(c, err)
	}
	body := c.Body()
	encrypted := c.Query("encrypt_type") == "aes"
	if encrypted {
		if h.crypt == nil {
			return h.forbidden(c, errors.New("encrypted message but no EncodingAESKey configured"))
		}
		enc, err := wechat.EncryptedEnvelope(body)
		if err != nil {
			return h.malformed(c, "微信加密消息格式无效（须为含 Encrypt 的 XML）", err)
		}
		if err := h.verify.CheckMsg(c.Query("msg_signature"), ts, nonce, enc); err != nil {
			return h.forbidden(c, err)
		}
		if body, err = h.crypt.Decrypt(enc); err != nil {
			if errors.Is(err, wechat.ErrSignature) {
				return h.forbidden(c, err)
			}
			return h.malformed(c, "微信加密消息无法解密", err)
		}
	}
	msg, err := wechat.Parse(body)
	if err != nil {
		return h.malformed(c, "微信消息格式无效（须为含 FromUserName 和 MsgType 的 XML）", err)
	}
	reply, err := h.handle(c, msg)
	if err != nil {
		return err
	}
	if reply == "" {
		return c.SendString("success") // WeChat's "received, nothing to say"
	}
	out := wechat.TextReply(msg, reply, time.Now())
	if encrypted {
		enc, err := h.crypt.Encrypt(out)
		if err != nil {
			return err
		}
		now := strconv.FormatInt(time.Now().Unix(), 10)
		out = wechat.EncryptedReply(h.verify.Token, now, nonce, enc)
	}
	c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	return c.Send(out)
}

// handle turns a message into a ticket and returns the reply text.
func (h *wechatHandler) handle(c *fiber.Ctx, msg wechat.Message) (string, error) {
	text := msg.Content
	switch msg.MsgType {
	case "text":
	case "voice":
		text = msg.Recognition
		if text == "" {
			h.s.m.wechat.WithLabelValues("unsupported").Inc()
			return "抱歉，暂时听不清语音内容，请用文字描述问题和位置（如：3栋2单元1502 卫生间漏水），我们会马上登记。", nil
		}
	case "event":
		if msg.Event == "subscribe" {
			return "您好，欢迎关注！报修、投诉或咨询，直接发文字告诉我们问题和位置即可，我们会登记工单并按时限处理。紧急情况请拨打物业24小时值班电话。", nil
		}
		return "", nil
	default:
		h.s.m.wechat.WithLabelValues("unsupported").Inc()
		return "已收到。目前请用文字描述问题和位置（如：3栋2单元1502 卫生间漏水），我们会马上登记处理。", nil
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), wechatDeadline)
	defer cancel()
	received := msg.Received()
	if msg.CreateTime <= 0 || received.After(time.Now().Add(5*time.Minute)) {
		// Deadlines must not count from 1970 or from the future.
		received = time.Now()
	}
	rec, err := h.s.d.Intake.Receive(ctx, ticket.Message{
		Channel: ticket.WeChat, ChannelMsgID: msg.DedupKey(), OwnerRef: msg.FromUserName,
		Text: text, Received: received,
	})
	if errors.Is(err, huiyin.ErrInvalid) {
		h.s.m.wechat.WithLabelValues("invalid").Inc()
		return "抱歉，消息未能登记：" + classifyMessage(err) + "。请用文字描述问题和位置后重新发送。", nil
	}
	if err != nil {
		h.s.m.wechat.WithLabelValues("error").Inc()
		return "", err
	}
	outcome := "ticket"
	if rec.Duplicate {
		outcome = "duplicate"
	}
	h.s.m.wechat.WithLabelValues(outcome).Inc()
	h.s.m.received(rec)
	return rec.Ack, nil
}

func classifyMessage(err error) string {
	_, _, msg := classify(err)
	return msg
}
