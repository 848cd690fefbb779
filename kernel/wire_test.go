package kernel

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func testFrames(t *testing.T, s *signer, msgType, content string) [][]byte {
	t.Helper()
	h, _ := json.Marshal(Header{MsgID: "m1", Session: "s", MsgType: msgType, Version: ProtocolVersion})
	sig := s.sign(h, []byte("{}"), []byte("{}"), []byte(content))
	if sig == nil {
		sig = []byte{}
	}
	return [][]byte{[]byte("client-id"), delimiter, sig, h, []byte("{}"), []byte("{}"), []byte(content)}
}

func TestDecode(t *testing.T) {
	key, _ := newSigner("hmac-sha256", []byte("secret"))
	other, _ := newSigner("hmac-sha256", []byte("other"))
	good := testFrames(t, key, "kernel_info_request", "{}")
	badSig := testFrames(t, other, "kernel_info_request", "{}")
	missing := testFrames(t, nil, "kernel_info_request", "{}")
	tampered := testFrames(t, key, "execute_request", `{"code":"1"}`)
	tampered[6] = []byte(`{"code":"2"}`)
	badJSON := testFrames(t, key, "execute_request", `{"code":`)
	badHeader := [][]byte{delimiter, nil, []byte("not json"), []byte("{}"), []byte("{}"), []byte("{}")}
	badHeader[1] = key.sign(badHeader[2], badHeader[3], badHeader[4], badHeader[5])
	for _, c := range []struct {
		name    string
		frames  [][]byte
		s       *signer
		max     int
		wantErr error // nil: success; errAny: some error
	}{
		{"good signature", good, key, 0, nil},
		{"no key, unsigned", missing, nil, 0, nil},
		{"signed message, no key on kernel", good, nil, 0, nil},
		{"bad signature", badSig, key, 0, ErrBadSignature},
		{"missing signature", missing, key, 0, ErrBadSignature},
		{"tampered content", tampered, key, 0, ErrBadSignature},
		{"malformed JSON content", badJSON, key, 0, errAny},
		{"malformed header", badHeader, key, 0, errAny},
		{"garbage frames", [][]byte{[]byte("\x00\xff"), []byte("junk")}, key, 0, ErrNoDelimiter},
		{"no frames", nil, key, 0, ErrNoDelimiter},
		{"too few frames", [][]byte{delimiter, []byte("x"), []byte("{}")}, key, 0, ErrShortMessage},
		{"oversized", good, key, 10, ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := decode(c.frames, c.s, c.max)
			switch {
			case c.wantErr == nil && err != nil:
				t.Fatalf("decode: %v", err)
			case c.wantErr == nil:
				if m.Header.MsgType != "kernel_info_request" || string(m.Identities[0]) != "client-id" {
					t.Fatalf("decoded %+v", m)
				}
			case err == nil:
				t.Fatalf("decode accepted %s", c.name)
			case c.wantErr != errAny && !errors.Is(err, c.wantErr):
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestEncodeRoundTrip(t *testing.T) {
	for _, key := range []string{"", "k3y"} {
		s, err := newSigner("hmac-sha256", []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		parent := json.RawMessage(`{"msg_id":"p"}`)
		frames, err := encode([][]byte{[]byte("id1"), []byte("id2")}, "sess", "stream", parent,
			map[string]any{"name": "stdout", "text": "héllo"}, s)
		if err != nil {
			t.Fatal(err)
		}
		m, err := decode(frames, s, 0)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if len(m.Identities) != 2 || m.Header.MsgType != "stream" || m.Header.Version != ProtocolVersion ||
			string(m.Parent) != string(parent) || !strings.Contains(string(m.Content), "héllo") {
			t.Fatalf("key %q: round trip gave %+v", key, m)
		}
		if key == "" && len(frames[3]) != 0 {
			t.Fatalf("unsigned message has signature %q", frames[3])
		}
		if key != "" && len(frames[3]) != 64 {
			t.Fatalf("signature %q is not a hex SHA-256", frames[3])
		}
	}
}

func TestNewSignerScheme(t *testing.T) {
	if _, err := newSigner("hmac-md5", []byte("k")); err == nil {
		t.Fatal("hmac-md5 accepted")
	}
}
