package mediavault_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	mediavault "github.com/wronai/mediavault-go"
)

// The SDK's uploads and downloads next to plain net/http doing the same requests, against the same server in
// the same run:
//
//	go test -run '^$' -bench . -benchmem
const benchSize = 12 << 20 // under the test server's max_upload_size

func BenchmarkUploadSDK(b *testing.B) {
	ctx := ctxOf(b)
	c, _ := loggedIn(b)
	b.SetBytes(benchSize)
	for i := 0; i < b.N; i++ {
		if _, err := c.Upload(ctx, &pattern{benchSize}, mediavault.UploadOptions{Filename: "bench.bin", Size: benchSize}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUploadNetHTTP is the baseline: multipart.Writer over an io.Pipe, sent chunked by net/http.
func BenchmarkUploadNetHTTP(b *testing.B) {
	ctx := ctxOf(b)
	c, _ := loggedIn(b)
	token, _ := c.Tokens()
	b.SetBytes(benchSize)
	for i := 0; i < b.N; i++ {
		reader, writer := io.Pipe()
		form := multipart.NewWriter(writer)
		go func() {
			part, err := form.CreateFormFile("file", "bench.bin")
			if err == nil {
				_, err = io.Copy(part, &pattern{benchSize})
			}
			if err == nil {
				err = form.Close()
			}
			writer.CloseWithError(err)
		}()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, server.URL+"/api/v1/media/upload", reader)
		req.Header.Set("Content-Type", form.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatal(resp.Status)
		}
	}
}

func benchMedia(b *testing.B) (context.Context, *mediavault.Client, *mediavault.Media) {
	ctx := ctxOf(b)
	c, _ := loggedIn(b)
	media, err := c.Upload(ctx, &pattern{benchSize}, mediavault.UploadOptions{Filename: "bench.bin", Size: benchSize})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	return ctx, c, media
}

func BenchmarkDownloadSDK(b *testing.B) {
	ctx, c, media := benchMedia(b)
	for i := 0; i < b.N; i++ {
		if n, err := c.Download(ctx, media.ID, io.Discard, mediavault.DownloadOptions{}); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkDownloadNetHTTP is the baseline: a GET copied into io.Discard.
func BenchmarkDownloadNetHTTP(b *testing.B) {
	ctx, c, media := benchMedia(b)
	token, _ := c.Tokens()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/media/%s/content", server.URL, media.ID), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != benchSize {
			b.Fatal(n, err)
		}
	}
}
