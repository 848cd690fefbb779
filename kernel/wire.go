package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"
)

// ProtocolVersion is the version of the Jupyter messaging protocol this kernel speaks.
const ProtocolVersion = "5.3"

// delimiter separates the routing identities from the signed part of a message.
var delimiter = []byte("<IDS|MSG>")

// Header is the header (and parent header) of a Jupyter message.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one decoded Jupyter message. Parent holds the raw parent header so that a reply
// can echo exactly what a client sent; Content is decoded lazily by the handlers.
type Message struct {
	Identities [][]byte
	Header     Header
	HeaderRaw  json.RawMessage // the header frame as received, the parent of replies
	Parent     json.RawMessage
	Metadata   json.RawMessage
	Content    json.RawMessage
	Buffers    [][]byte

	signature []byte // as received; the kernel rejects a signature it has seen before
}

// Errors returned by decode; the kernel logs them and drops the message.
var (
	ErrNoDelimiter  = errors.New("no <IDS|MSG> delimiter")
	ErrShortMessage = errors.New("fewer than 5 frames after the delimiter")
	ErrBadSignature = errors.New("bad or missing signature")
	ErrTooLarge     = errors.New("message too large")
	ErrDuplicate    = errors.New("duplicate signature (a replayed message)")
)

// digestHistory remembers the signatures of the last messages received, so that a message
// captured on the wire cannot be replayed (as ipykernel does). It is bounded: past its size,
// the oldest signatures are forgotten.
type digestHistory struct {
	mu   sync.Mutex
	seen map[string]struct{}
	ring []string
	next int
}

func newDigestHistory(size int) *digestHistory {
	return &digestHistory{seen: make(map[string]struct{}, size), ring: make([]string, size)}
}

// add records sig; it reports false when sig was already recorded.
func (h *digestHistory) add(sig []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := string(sig)
	if _, dup := h.seen[k]; dup {
		return false
	}
	if old := h.ring[h.next]; old != "" {
		delete(h.seen, old)
	}
	h.ring[h.next] = k
	h.next = (h.next + 1) % len(h.ring)
	h.seen[k] = struct{}{}
	return true
}

// signer computes and checks HMAC-SHA256 signatures; a nil signer means no signing (empty key).
type signer struct {
	mu  sync.Mutex
	mac hash.Hash
}

func newSigner(scheme string, key []byte) (*signer, error) {
	if len(key) == 0 {
		return nil, nil
	}
	if scheme != "" && scheme != "hmac-sha256" {
		return nil, fmt.Errorf("unsupported signature_scheme %q (want hmac-sha256)", scheme)
	}
	return &signer{mac: hmac.New(sha256.New, key)}, nil
}

// sign returns the hex digest of the four signed frames.
func (s *signer) sign(frames ...[]byte) []byte {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mac.Reset()
	for _, f := range frames {
		s.mac.Write(f)
	}
	sum := s.mac.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// verify checks a signature in constant time.
func (s *signer) verify(sig []byte, frames ...[]byte) bool {
	if s == nil {
		return true
	}
	return hmac.Equal(sig, s.sign(frames...))
}

// decode parses the frames of a message received on a ROUTER socket, checking its signature
// and its size (maxBytes ≤ 0 means no limit).
func decode(frames [][]byte, s *signer, maxBytes int) (*Message, error) {
	total := 0
	for _, f := range frames {
		total += len(f)
	}
	if maxBytes > 0 && total > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, total, maxBytes)
	}
	d := -1
	for i, f := range frames {
		if bytes.Equal(f, delimiter) {
			d = i
			break
		}
	}
	if d < 0 {
		return nil, ErrNoDelimiter
	}
	rest := frames[d+1:]
	if len(rest) < 5 {
		return nil, ErrShortMessage
	}
	if !s.verify(rest[0], rest[1], rest[2], rest[3], rest[4]) {
		return nil, ErrBadSignature
	}
	m := &Message{Identities: frames[:d], Buffers: rest[5:], HeaderRaw: json.RawMessage(rest[1]), signature: rest[0]}
	if err := json.Unmarshal(rest[1], &m.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if m.Header.MsgType == "" {
		return nil, errors.New("header: no msg_type")
	}
	for _, p := range []struct {
		name string
		raw  []byte
		dst  *json.RawMessage
	}{{"parent_header", rest[2], &m.Parent}, {"metadata", rest[3], &m.Metadata}, {"content", rest[4], &m.Content}} {
		if !json.Valid(p.raw) {
			return nil, fmt.Errorf("%s: malformed JSON", p.name)
		}
		*p.dst = json.RawMessage(p.raw)
	}
	return m, nil
}

// newID returns a random message id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// encode builds the frames of a message: identities, delimiter, signature, header,
// parent header, metadata, content.
func encode(ids [][]byte, session, msgType string, parent json.RawMessage, content any, s *signer) ([][]byte, error) {
	h := Header{
		MsgID:    newID(),
		Session:  session,
		Username: "kernel",
		Date:     time.Now().UTC().Format(time.RFC3339Nano),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	if len(parent) == 0 {
		parent = json.RawMessage("{}")
	}
	cb, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("encode %s content: %w", msgType, err)
	}
	md := []byte("{}")
	frames := make([][]byte, 0, len(ids)+6)
	frames = append(frames, ids...)
	frames = append(frames, delimiter, s.sign(hb, parent, md, cb), hb, parent, md, cb)
	if s == nil {
		frames[len(ids)+1] = []byte{}
	}
	return frames, nil
}
