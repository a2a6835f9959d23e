/**
 * Every endpoint group through the SDK against a real `mediavault serve`: answers checked against the declared
 * types' keys, typed errors with the envelope's code, message, details and request id, API keys, pagination.
 */

import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";

import {
  Conflict,
  Forbidden,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  Unauthorized,
  ValidationError,
  Vault,
  VaultError,
  type Delivery,
  type Media,
} from "@mediavault/sdk";

import { PASSWORD, email, eventually, startServer, type Server } from "./server.js";
import { assertShape } from "./shapes.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("the SDK against a real server", () => {
  let server: Server;
  let vault: Vault;
  let account: string;

  before(async () => {
    server = await startServer({
      MEDIAVAULT_ALLOW_PRIVATE_WEBHOOK_TARGETS: "true",
      MEDIAVAULT_TRASH_RETENTION_DAYS: "7",
    });
    vault = new Vault(server.baseUrl);
    account = email("ada");
    await vault.register(account, PASSWORD, "Ada");
    await vault.login(account, PASSWORD);
  });

  after(async () => {
    await server?.stop();
  });

  it("checks health without credentials", async () => {
    const health = await new Vault(server.baseUrl).health();
    assertShape(health, "health");
    assert.deepEqual(health, { status: "ok", checks: { database: "ok", storage: "ok" } });
  });

  it("registers, logs in, reads and updates the user", async () => {
    const fresh = new Vault(server.baseUrl);
    const address = email("grace");
    const user = await fresh.register(address, PASSWORD);
    assertShape(user, "user");
    assert.equal(user.email, address);
    assert.equal(user.display_name, null);
    const pair = await fresh.login(address, PASSWORD);
    assertShape(pair, "tokenPair");
    assert.equal(pair.token_type, "Bearer");
    assert.equal(fresh.tokens?.token, pair.token);
    const me = await fresh.me();
    assert.equal(me.id, user.id);
    const renamed = await fresh.updateMe({ display_name: "Grace" });
    assert.equal(renamed.display_name, "Grace");
    await fresh.logout();
    assert.equal(fresh.tokens, null);
    await assert.rejects(new Vault(server.baseUrl, { token: pair.token }).me(), Unauthorized); // dead at once
  });

  it("throws the typed error of each envelope code, with message, details and request id", async () => {
    const notFound = await vault.getMedia("no-such-id").catch((error: unknown) => error);
    assert.ok(notFound instanceof NotFound && notFound instanceof VaultError && notFound instanceof Error);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.code, "not_found");
    assert.equal(notFound.name, "NotFound");
    assert.match(notFound.requestId ?? "", /^req_[0-9a-f]{32}$/);

    const invalid = await vault
      .updateMe({ password: "a new password", current_password: "wrong" })
      .catch((error: unknown) => error);
    assert.ok(invalid instanceof ValidationError);
    assert.equal(invalid.code, "validation_error");
    assert.deepEqual(
      invalid.details.map((detail) => detail.field),
      ["current_password"],
    );

    await assert.rejects(
      vault.register(account, PASSWORD),
      (error: unknown) => error instanceof Conflict && error.status === 409,
    );
    await assert.rejects(new Vault(server.baseUrl).login(account, "wrong password"), Unauthorized);
    await assert.rejects(
      vault.listMedia({ per_page: 1000 }),
      (error: unknown) => error instanceof ValidationError && error.details[0]?.field === "per_page",
    );
    // A request id sent by the client comes back on its error.
    const traced = new Vault(server.baseUrl, { headers: { "X-Request-ID": "trace-42" } });
    await assert.rejects(
      traced.me(),
      (error: unknown) => error instanceof Unauthorized && error.requestId === "trace-42",
    );
  });

  it("turns a 429 into RateLimited with Retry-After seconds", async () => {
    const target = email("locked");
    await vault.register(target, PASSWORD);
    const anonymous = new Vault(server.baseUrl);
    const error = await eventually(async () => {
      const failure = await anonymous.login(target, "not the password").catch((caught: unknown) => caught);
      return failure instanceof RateLimited ? failure : undefined;
    }, "the per-account login budget to run out");
    assert.equal(error.status, 429);
    assert.equal(error.code, "rate_limited");
    assert.ok(Number.isInteger(error.retryAfter) && error.retryAfter >= 1, `retryAfter ${error.retryAfter}`);
  });

  it("authenticates with an API key, which cannot manage keys, until it is deleted", async () => {
    const created = await vault.createApiKey("ci");
    assertShape(created, "apiKeyCreated");
    assert.match(created.key, /^mvk_/);
    const keyed = new Vault(server.baseUrl, { apiKey: created.key });
    assert.equal((await keyed.me()).email, account);
    await assert.rejects(keyed.createApiKey("more"), Forbidden);
    const listed = await vault.listApiKeys();
    assertShape(listed.items[0] ?? {}, "apiKey");
    assert.ok(listed.items.some((key) => key.id === created.id && key.prefix === created.key.slice(0, 12)));
    const all = [];
    for await (const key of vault.iterApiKeys({ per_page: 1 })) all.push(key.id);
    assert.ok(all.includes(created.id));
    await vault.deleteApiKey(created.id);
    await assert.rejects(keyed.me(), Unauthorized);
  });

  it("uploads, lists with filters, pages through, updates and deletes media", async () => {
    const user = new Vault(server.baseUrl);
    const address = email("lister");
    await user.register(address, PASSWORD);
    await user.login(address, PASSWORD);
    const uploaded: Media[] = [];
    for (let i = 0; i < 5; i++) {
      const tags = i % 2 === 0 ? ["Even", "all"] : ["all"];
      uploaded.push(
        await user.upload(bytes(`file number ${i}\n`.repeat(i + 1)), {
          filename: `note-${i}.txt`,
          title: `Note ${i}`,
          tags,
        }),
      );
    }
    const first = uploaded[0]!;
    assertShape(first, "media");
    assert.equal(first.filename, "note-0.txt");
    assert.deepEqual(first.tags, ["even", "all"]);
    assert.equal(first.type, "document");
    assert.equal((await user.getMedia(first.id)).checksum_sha256, first.checksum_sha256);

    const page = await user.listMedia({ per_page: 2, sort: "size" });
    assertShape(page.pagination, "pagination");
    assert.equal(page.pagination.total, 5);
    assert.equal(page.pagination.total_pages, 3);
    assert.deepEqual(
      page.items.map((media) => media.id),
      [uploaded[0]!.id, uploaded[1]!.id],
    );
    assert.match(page.pagination.links.next ?? "", /page=2/);

    const walked: string[] = [];
    for await (const media of user.iterMedia({ per_page: 2, sort: "size" })) walked.push(media.id);
    assert.deepEqual(
      walked,
      uploaded.map((media) => media.id),
    );
    const even: string[] = [];
    for await (const media of user.iterMedia({ tag: "even", per_page: 1, sort: "filename" })) even.push(media.filename);
    assert.deepEqual(even, ["note-0.txt", "note-2.txt", "note-4.txt"]);
    const fromPage2: string[] = [];
    for await (const media of user.iterMedia({ per_page: 2, page: 2, sort: "size" })) fromPage2.push(media.id);
    assert.deepEqual(
      fromPage2,
      uploaded.slice(2).map((media) => media.id),
    );
    assert.deepEqual(
      (await user.listMedia({ q: "NOTE 3" })).items.map((media) => media.filename),
      ["note-3.txt"],
    );
    assert.deepEqual(
      (await user.listMedia({ checksum_sha256: first.checksum_sha256 })).items.map((media) => media.id),
      [first.id],
    );

    const updated = await user.updateMedia(first.id, { title: null, description: "first", tags: ["x"] });
    assert.equal(updated.title, null);
    assert.equal(updated.description, "first");
    assert.deepEqual(updated.tags, ["x"]);
    await user.deleteMedia(first.id);
    await assert.rejects(user.getMedia(first.id), NotFound);
    await assert.rejects(vault.getMedia(uploaded[1]!.id), NotFound); // someone else's
    assert.equal((await user.listMedia()).pagination.total, 4);
  });

  it("refuses a tag with a comma before sending anything", async () => {
    await assert.rejects(vault.upload(bytes("x"), { tags: ["a,b"] }), TypeError);
  });

  it("manages collections and their media", async () => {
    const a = await vault.upload(bytes("alpha"), { filename: "a.txt" });
    const b = await vault.upload(bytes("beta"), { filename: "b.txt" });
    const collection = await vault.createCollection("Trip", "summer");
    assertShape(collection, "collection");
    assert.equal(collection.media_count, 0);
    const filled = await vault.addToCollection(collection.id, [a.id, b.id, a.id]);
    assert.equal(filled.media_count, 2);
    assert.deepEqual(
      new Set((await vault.listCollectionMedia(collection.id)).items.map((media) => media.id)),
      new Set([a.id, b.id]),
    );
    const members: string[] = [];
    for await (const media of vault.iterCollectionMedia(collection.id, { per_page: 1, sort: "filename" }))
      members.push(media.filename);
    assert.deepEqual(members, ["a.txt", "b.txt"]);
    await vault.removeFromCollection(collection.id, a.id);
    assert.equal((await vault.getCollection(collection.id)).media_count, 1);
    const renamed = await vault.updateCollection(collection.id, { name: "Trip 2026", description: null });
    assert.equal(renamed.name, "Trip 2026");
    assert.equal(renamed.description, null);
    assert.ok((await vault.listCollections()).items.some((item) => item.id === collection.id));
    const ids: string[] = [];
    for await (const item of vault.iterCollections({ per_page: 1 })) ids.push(item.id);
    assert.ok(ids.includes(collection.id));
    await assert.rejects(vault.addToCollection(collection.id, ["unknown"]), NotFound);
    await vault.deleteCollection(collection.id);
    await assert.rejects(vault.getCollection(collection.id), NotFound);
    assert.equal((await vault.getMedia(b.id)).id, b.id); // the media stay
  });

  it("shares media and collections with links anyone can open", async () => {
    const photo = await vault.upload(bytes("shared bytes"), { filename: "shared.txt" });
    const share = await vault.createShare({ media_id: photo.id, expires_in: 3600 });
    assertShape(share, "share");
    assert.ok(share.token && share.url?.endsWith(`/s/${share.token}`));
    const anonymous = new Vault(server.baseUrl);
    const opened = await anonymous.openShare(share.token);
    assert.equal(opened.type, "media");
    assert.equal(opened.type === "media" && opened.media.filename, "shared.txt");
    if (opened.type === "media") assertShape(opened.media, "sharedMedia");
    assert.equal(await (await anonymous.downloadShared(share.token)).text(), "shared bytes");
    const middle = await anonymous.downloadShared(share.token, { range: { start: 2, end: 5 } });
    assert.equal(middle.status, 206);
    assert.equal(await middle.text(), "ared");

    const collection = await vault.createCollection("Shared");
    await vault.addToCollection(collection.id, [photo.id]);
    const locked = await vault.createShare({
      collection_id: collection.id,
      password: "share password",
      allow_download: false,
    });
    assert.equal(locked.has_password, true);
    await assert.rejects(anonymous.openShare(locked.token!), Unauthorized);
    const album = await anonymous.openShare(locked.token!, { password: "share password" });
    assert.equal(album.type, "collection");
    if (album.type !== "collection") return;
    assert.equal(album.collection.name, "Shared");
    assertShape(album.collection, "sharedCollection");
    assert.deepEqual(
      album.media.map((media) => media.id),
      [photo.id],
    );
    assertShape(album.pagination, "pagination");
    await assert.rejects(
      anonymous.downloadShared(locked.token!, { mediaId: photo.id, password: "share password" }),
      Forbidden,
    );

    const listed = await vault.listShares();
    assert.ok(listed.items.every((item) => item.token === null && item.url === null));
    const all: string[] = [];
    for await (const item of vault.iterShares({ per_page: 1 })) all.push(item.id);
    assert.deepEqual(new Set(all), new Set([share.id, locked.id]));
    await vault.deleteShare(share.id);
    await assert.rejects(anonymous.openShare(share.token), NotFound);
    await assert.rejects(vault.createShare({}), ValidationError);
  });

  it("takes uploads without an account through signed URLs and share links", async () => {
    const drop = await vault.createCollection("Drop box");
    const signed = await vault.signUpload({ max_size: 100, collection_id: drop.id });
    assertShape(signed, "signedUpload");
    assert.ok(signed.url.endsWith(`/uploads/signed/${signed.token}`));
    assert.equal(signed.max_size, 100);
    const anonymous = new Vault(server.baseUrl);
    await assert.rejects(anonymous.uploadSigned(signed.token, bytes("x".repeat(101))), PayloadTooLarge);
    const byUrl = await anonymous.uploadSigned(signed.token, bytes("signed"), { filename: "signed.txt" });
    await assert.rejects(anonymous.uploadSigned(signed.token, bytes("again")), NotFound);
    const guests = await vault.createShare({ collection_id: drop.id, allow_upload: true, password: "guest password" });
    assert.equal(guests.allow_upload, true);
    await assert.rejects(anonymous.uploadToShare(guests.token!, bytes("guest")), Unauthorized);
    const byGuest = await anonymous.uploadToShare(guests.token!, bytes("guest"), { password: "guest password" });
    assertShape(byGuest, "sharedMedia"); // nothing of the owner
    assert.ok(byGuest.content_url.endsWith(`/s/${guests.token}/media/${byGuest.id}/content`));
    assert.equal((await vault.getMedia(byGuest.id)).owner_id, byUrl.owner_id);
    const members = await vault.listCollectionMedia(drop.id);
    assert.deepEqual(new Set(members.items.map((media) => media.id)), new Set([byUrl.id, byGuest.id]));
    const viewOnly = await vault.createShare({ collection_id: drop.id });
    await assert.rejects(anonymous.uploadToShare(viewOnly.token!, bytes("no")), Forbidden);
  });

  it("searches the caller's media", async () => {
    await vault.upload(bytes("sunset"), { filename: "Holiday_photos.txt", title: "Sunset at sea" });
    const found = await vault.search("holi pho");
    assert.deepEqual(
      found.items.map((media) => media.filename),
      ["Holiday_photos.txt"],
    );
    const titles: string[] = [];
    for await (const media of vault.iterSearch("sunset", { per_page: 1 })) titles.push(media.title ?? "");
    assert.deepEqual(titles, ["Sunset at sea"]);
    await assert.rejects(
      vault.search("  "),
      (error: unknown) => error instanceof ValidationError && error.details[0]?.field === "q",
    );
  });

  it("keeps custom metadata, versions of the bytes and a trash", async () => {
    const media = await vault.upload(bytes("first"), { filename: "notes.txt", metadata: { project: "apollo" } });
    assertShape(media, "media");
    assert.deepEqual([media.version, media.metadata], [1, { project: "apollo" }]);
    const patched = await vault.updateMedia(media.id, { metadata: { project: null, stage: "review" } });
    assert.deepEqual(patched.metadata, { stage: "review" });
    const collection = await vault.createCollection("metadata filter");
    await vault.addToCollection(collection.id, [media.id]);
    const unrelated = await vault.upload(bytes("unrelated"), { filename: "notes 2.txt", metadata: { stage: "draft" } });
    for (const listed of [
      await vault.listMedia({ metadata: { stage: "review" } }),
      await vault.search("notes", { metadata: { stage: "review" } }),
      await vault.listCollectionMedia(collection.id, { metadata: { stage: "review" } }),
    ]) {
      assert.deepEqual(
        listed.items.map((m) => m.id),
        [media.id],
      );
    }
    assert.deepEqual((await vault.listMedia({ metadata: { stage: "review", project: "apollo" } })).items, []);
    await vault.deleteMedia(unrelated.id);
    await vault.purgeMedia(unrelated.id);
    await vault.deleteCollection(collection.id);
    const replaced = await vault.replaceContent(media.id, bytes("second"), { filename: "notes.txt" });
    assert.deepEqual([replaced.id, replaced.version, replaced.size], [media.id, 2, 6]);
    const versions = await vault.listVersions(media.id);
    assert.deepEqual(
      versions.map((v) => [v.version, v.current]),
      [
        [2, true],
        [1, false],
      ],
    );
    assert.equal(await (await vault.downloadVersion(media.id, 1)).text(), "first");
    assert.equal((await vault.restoreVersion(media.id, 1)).version, 3);
    await vault.deleteMedia(media.id);
    await assert.rejects(vault.getMedia(media.id), NotFound);
    const trash = await vault.listTrash();
    assert.deepEqual(
      trash.items.map((m) => m.id),
      [media.id],
    );
    assert.ok(trash.items[0] !== undefined && trash.items[0].purge_at > trash.items[0].deleted_at);
    assert.equal((await vault.restoreMedia(media.id)).id, media.id);
    await vault.deleteMedia(media.id);
    await vault.purgeMedia(media.id);
    await assert.rejects(vault.restoreMedia(media.id), NotFound);
    const other = await vault.upload(bytes("other"), { filename: "other.txt" });
    await vault.deleteMedia(other.id);
    await vault.emptyTrash();
    assert.deepEqual((await vault.listTrash()).items, []);
  });

  it("registers webhooks whose signed deliveries reach a receiver, and lists the attempts", async () => {
    const received: { headers: IncomingMessage["headers"]; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        received.push({ headers: request.headers, body });
        response.end("ok");
      });
    });
    receiver.listen(0, "127.0.0.1");
    await once(receiver, "listening");
    try {
      const { port } = receiver.address() as { port: number };
      const hook = await vault.createWebhook({
        url: `http://127.0.0.1:${port}/hook`,
        events: ["collection.created"],
        description: "test",
      });
      assertShape(hook, "webhookCreated");
      assert.match(hook.secret, /^whsec_/);
      assertShape(await vault.getWebhook(hook.id), "webhook");
      const collection = await vault.createCollection("Hooked");
      const delivery = await eventually<Delivery>(async () => {
        const attempts = await vault.listDeliveries(hook.id);
        return attempts.items.find((attempt) => attempt.status === "succeeded");
      }, "a succeeded delivery");
      assertShape(delivery, "delivery");
      assert.equal(delivery.event, "collection.created");
      const body = JSON.parse(received.at(-1)?.body ?? "{}") as { event?: string; data?: { id?: string } };
      assert.equal(body.event, "collection.created");
      assert.equal(body.data?.id, collection.id);
      assert.equal(received.at(-1)?.headers["webhook-id"], delivery.event_id);
      const attempts: Delivery[] = [];
      for await (const attempt of vault.iterDeliveries(hook.id)) attempts.push(attempt);
      assert.ok(attempts.some((attempt) => attempt.id === delivery.id));
      const paused = await vault.updateWebhook(hook.id, { active: false, events: ["media.uploaded", "media.deleted"] });
      assert.equal(paused.active, false);
      assert.deepEqual(paused.events, ["media.uploaded", "media.deleted"]);
      assert.ok((await vault.listWebhooks()).items.some((item) => item.id === hook.id));
      const hooks: string[] = [];
      for await (const item of vault.iterWebhooks()) hooks.push(item.id);
      assert.ok(hooks.includes(hook.id));
      await vault.deleteWebhook(hook.id);
      await assert.rejects(vault.getWebhook(hook.id), NotFound);
      await assert.rejects(
        vault.createWebhook({ url: "ftp://example.com/x", events: ["media.uploaded"] }),
        ValidationError,
      );
    } finally {
      receiver.close();
    }
  });
});
