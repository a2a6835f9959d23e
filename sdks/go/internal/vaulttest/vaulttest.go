// Package vaulttest starts a real `mediavault serve` for the SDK's tests: Python from $MEDIAVAULT_PYTHON, else
// the python3 on PATH (the active virtual environment), on a free port of 127.0.0.1 with its own data dir and
// cheap Argon2id, ready once GET /api/v1/health answers 200.
package vaulttest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Bounds for a hang only: a server that starts or stops promptly is never waited for.
const (
	startTimeout = 90 * time.Second
	stopTimeout  = 30 * time.Second
)

// Server is one `mediavault serve` process.
type Server struct {
	URL     string // http://127.0.0.1:<port>
	DataDir string
	LogPath string
	cmd     *exec.Cmd
	exited  chan error
}

// Start runs a server whose data lives under dir, with the settings of env ("MEDIAVAULT_X=value") on top of
// the test defaults; the caller's own MEDIAVAULT_* variables are not passed on.
func Start(dir string, env ...string) (*Server, error) {
	python := os.Getenv("MEDIAVAULT_PYTHON")
	if python == "" {
		python = "python3"
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:     "http://127.0.0.1:" + strconv.Itoa(port),
		DataDir: filepath.Join(dir, "data"),
		LogPath: filepath.Join(dir, "server.log"),
		exited:  make(chan error, 1),
	}
	log, err := os.Create(s.LogPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	s.cmd = exec.Command(python, "-c", "from mediavault.cli import main; main()",
		"serve", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--data-dir", s.DataDir)
	s.cmd.Env = append(childEnv(), env...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w (set MEDIAVAULT_PYTHON to a Python with mediavault installed)", python, err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// childEnv is this process's environment without MEDIAVAULT_*, plus cheap password hashing for tests.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MEDIAVAULT_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"MEDIAVAULT_ARGON2_TIME_COST=1",
		"MEDIAVAULT_ARGON2_MEMORY_COST=8",
		"MEDIAVAULT_ARGON2_PARALLELISM=1",
		"MEDIAVAULT_LOAD_ENTRY_POINTS=false",
	)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("mediavault serve exited (%v):\n%s", err, s.LogTail())
		default:
		}
		if resp, err := client.Get(s.URL + "/api/v1/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mediavault serve not ready after %s:\n%s", startTimeout, s.LogTail())
}

// LogTail returns the end of the server's output.
func (s *Server) LogTail() string {
	data, err := os.ReadFile(s.LogPath)
	if err != nil {
		return "<no log>"
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// Stop sends SIGTERM, waits up to 30 s, then kills the process.
func (s *Server) Stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd.Process = nil
}
