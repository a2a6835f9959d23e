import { Conflict, Vault } from "@mediavault/sdk";
import { openFile, saveFile } from "@mediavault/sdk/node";

const vault = new Vault(process.env.MEDIAVAULT_URL ?? "http://127.0.0.1:8080");

// 1. Log in (registering first: a second run finds the account there). The client refreshes the token by itself.
try {
  await vault.register("ada@example.com", "correct horse battery");
} catch (error) {
  if (!(error instanceof Conflict)) throw error;
}
await vault.login("ada@example.com", "correct horse battery");

// 2. Upload with progress: the file is streamed from disk, never read whole into memory.
const photo = await vault.upload(await openFile("photo.jpg"), {
  title: "Holiday",
  tags: ["beach", "2026"],
  progress: (sent, total) => console.log(`uploaded ${sent} of ${total} bytes`),
});
console.log("uploaded", photo.id, photo.type, photo.width, photo.height);

// 3. List: every page of the filtered list, one request per page.
for await (const media of vault.iterMedia({ tag: "beach", sort: "-size" })) {
  console.log("listed", media.filename, media.size);
}

// 4. Download a range (206 Partial Content), then the whole file to disk.
const head = await vault.download(photo.id, { range: { start: 0, end: 99 } });
console.log("range", head.status, head.contentRange, (await head.bytes()).length);
await saveFile(await vault.download(photo.id), "copy.jpg");

// 5. Share for a day behind a password: anyone with the link and the password downloads, no account needed.
const share = await vault.createShare({ media_id: photo.id, expires_in: 86400, password: "open sesame" });
const anyone = new Vault(vault.baseUrl);
const shared = await anyone.downloadShared(share.token!, { password: "open sesame" });
console.log("share", vault.url(share.url!), shared.filename, (await shared.bytes()).length);

// 6. Realtime: the photo's events as they happen.
const live = await vault.realtime();
await live.subscribe("media_updates", photo.id);
await vault.updateMedia(photo.id, { title: "Holiday 2026" });
for await (const event of live) {
  console.log("event", event.event, event.data.title);
  break;
}
live.close();
await vault.logout();
