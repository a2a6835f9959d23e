package mediavault_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	mediavault "github.com/wronai/mediavault-go"
	"github.com/wronai/mediavault-go/internal/vaulttest"
)

const password = "correct horse battery"

// server is the `mediavault serve` every test of this package talks to (TestMain starts and stops it).
var server *vaulttest.Server

// maxUpload is the server's max_upload_size in these tests.
const maxUpload = 16 << 20

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mediavault-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	server, err = vaulttest.Start(dir,
		fmt.Sprintf("MEDIAVAULT_MAX_UPLOAD_SIZE=%d", maxUpload),
		"MEDIAVAULT_RATE_LIMIT_ANONYMOUS=100000",
		"MEDIAVAULT_ALLOW_PRIVATE_WEBHOOK_TARGETS=true",
		"MEDIAVAULT_TRASH_RETENTION_DAYS=7",
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer server.Stop()
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- server log (%s):\n%s\n", server.LogPath, server.LogTail())
	}
	return code
}

func ctxOf(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var users int64

// newEmail returns an address no other test uses.
func newEmail(t testing.TB) string {
	return fmt.Sprintf("go-%d-%d@example.com", time.Now().UnixNano(), atomic.AddInt64(&users, 1))
}

// anonymous returns a client without credentials.
func anonymous(t testing.TB, options ...mediavault.Option) *mediavault.Client {
	t.Helper()
	c, err := mediavault.New(server.URL, options...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loggedIn registers a new user and returns a client logged in as them, and the email.
func loggedIn(t testing.TB, options ...mediavault.Option) (*mediavault.Client, string) {
	t.Helper()
	ctx := ctxOf(t)
	c := anonymous(t, options...)
	email := newEmail(t)
	if _, err := c.Register(ctx, mediavault.Registration{Email: email, Password: password}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, email, password); err != nil {
		t.Fatal(err)
	}
	return c, email
}

// pngImage returns a real PNG of w×h pixels.
func pngImage(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listen opens a loopback listener closed at the end of the test.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}
