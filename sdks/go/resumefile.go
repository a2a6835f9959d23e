package mediavault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// ResumeStore is where unfinished resumable uploads are written down: a key naming the source → the upload's id.
// Its methods may be called from several goroutines at once.
type ResumeStore interface {
	// Get returns the upload id written down for key ("" when there is none).
	Get(key string) (string, error)
	// Set writes uploadID down for key ("" removes the entry).
	Set(key, uploadID string) error
}

// DefaultResumeFile is $XDG_STATE_HOME/mediavault/uploads.json (~/.local/state when unset, per the XDG base
// directory spec): the Python SDK's resume file.
func DefaultResumeFile() string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "mediavault", "uploads.json")
}

// FileResumeKey is the key of the file at path in a ResumeStore, the Python SDK's: its real absolute path, size
// and modification time in nanoseconds ("<path>|<size>|<mtime_ns>"); a file changed since its upload began has
// another key, so it is sent again from the start.
func FileResumeKey(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return "", err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	return abs + "|" + strconv.FormatInt(info.Size(), 10) + "|" + strconv.FormatInt(info.ModTime().UnixNano(), 10), nil
}

// ResumeFile is a ResumeStore in a JSON file, {"<key>": "<upload id>"} (folder 0700, file 0600), replaced
// atomically on each change: the Python SDK's format, so `mediavault upload` and this SDK continue each other's
// uploads of the same file.
type ResumeFile struct {
	Path string
	mu   sync.Mutex
}

// NewResumeFile returns the ResumeFile at path ("": DefaultResumeFile, read when first used).
func NewResumeFile(path string) *ResumeFile {
	return &ResumeFile{Path: path}
}

func (f *ResumeFile) path() string {
	if f.Path == "" {
		return DefaultResumeFile()
	}
	return f.Path
}

// read returns the entries (none when the file is missing or unreadable).
func (f *ResumeFile) read() map[string]interface{} {
	entries := map[string]interface{}{}
	data, err := os.ReadFile(f.path())
	if err == nil && json.Unmarshal(data, &entries) == nil && entries != nil {
		return entries
	}
	return map[string]interface{}{}
}

// Get returns the upload id written down for key ("" when there is none).
func (f *ResumeFile) Get(key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := f.read()[key].(string)
	return id, nil
}

// Set writes uploadID down for key ("" removes the entry), through a temporary file renamed over the file.
func (f *ResumeFile) Set(key, uploadID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	entries := f.read()
	if uploadID == "" {
		if _, ok := entries[key]; !ok {
			return nil
		}
		delete(entries, key)
	} else {
		entries[key] = uploadID
	}
	data, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	path := f.path()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("mediavault: resume file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("mediavault: resume file: %w", err)
	}
	_, err = tmp.Write(data)
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("mediavault: resume file: %w", err)
	}
	return nil
}
