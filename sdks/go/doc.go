// Package mediavault is the Go client of Media Vault's HTTP API (v1): every endpoint as a method of Client,
// with typed requests and answers.
//
//	vault, err := mediavault.New("http://127.0.0.1:8080")
//	if err != nil { ... }
//	if _, err := vault.Login(ctx, "ada@example.com", "correct horse battery"); err != nil { ... }
//	photo, err := vault.UploadFile(ctx, "photo.jpg", mediavault.UploadOptions{Tags: []string{"beach"}})
//
// Every method takes a context, which bounds the whole call (uploads and downloads included). Uploads stream
// any io.Reader (UploadOptions.Progress reports the bytes sent); downloads stream into an io.Writer or are
// opened as a Content, all or a byte range (DownloadOptions). Files of 64 MiB or more go through the vault's
// resumable uploads (tus 1.0.0; UploadResumable), which a later call continues from the server's offset. List methods return a Page and have an Iter
// twin walking every page (Iterator). Errors answered by the vault are *Error values carrying the envelope's
// code, message, details and request id, and match the Err* sentinels under errors.Is. With a login the client
// refreshes the access token when it expires, once for every goroutine that hit the expiry; WithAPIKey
// authenticates with an API key instead. Client.Realtime connects the realtime socket.
//
// The server's own documentation of each endpoint is docs/api.md in the Media Vault repository.
package mediavault
