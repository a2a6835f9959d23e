/**
 * The realtime client against a real server, with each WebSocket implementation this Node.js has: the `ws`
 * package's (given as `WebSocket`, as on Node.js 18) and the platform's (Node.js 22+, or 20.10+ run with
 * `--experimental-websocket`, which `test/run.mjs` adds). Access tokens live 5 seconds, so a socket only survives
 * a token's expiry by re-authenticating.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  NotFound,
  RealtimeClient,
  RealtimeClosed,
  Unauthorized,
  Vault,
  type RealtimeEvent,
  type WebSocketConstructor,
} from "@mediavault/sdk";
import { WebSocket as WsWebSocket } from "ws";

import { PASSWORD, email, eventually, startServer, type Server } from "./server.js";

const TTL = 5; // seconds an access token lives: the socket re-authenticates 0.5 s before the 4 s the client counts

const implementations: [string, WebSocketConstructor | undefined][] = [["the ws package", WsWebSocket]];
const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
if (platform !== undefined) implementations.push(["the platform's WebSocket", undefined]); // undefined: the default

/** The next event the socket yields. */
async function nextEvent(live: RealtimeClient): Promise<RealtimeEvent> {
  for await (const event of live) return event;
  throw new Error("the socket closed without an event");
}

describe("realtime", () => {
  let server: Server;

  before(async () => {
    server = await startServer({ MEDIAVAULT_ACCESS_TOKEN_TTL: String(TTL) });
  });

  after(async () => {
    await server?.stop();
  });

  async function user(name: string): Promise<Vault> {
    const vault = new Vault(server.baseUrl);
    const address = email(name);
    await vault.register(address, PASSWORD);
    await vault.login(address, PASSWORD);
    return vault;
  }

  it("uses the platform's WebSocket where there is one, and says what to do where there is none", async () => {
    // Node.js 22+ has it built in, test/run.mjs turns it on for 20.10+; Node.js 18 has none.
    if (Number(process.versions.node.split(".")[0]) >= 20) assert.ok(platform, "run the tests with test/run.mjs");
    if (platform === undefined) {
      await assert.rejects(
        (await user("no-socket")).realtime(),
        (error: unknown) => error instanceof TypeError && /ws package/.test(error.message),
      );
    }
  });

  for (const [name, WebSocket] of implementations) {
    const options = WebSocket === undefined ? {} : { WebSocket };

    describe(`with ${name}`, () => {
      it("subscribes to all the caller's media and to one, receives their events, unsubscribes", async () => {
        const vault = await user("live");
        const live = await vault.realtime(options);
        try {
          await live.subscribe("media_updates");
          const media = await vault.upload(new TextEncoder().encode("live"), { filename: "live.txt" });
          const uploaded = await nextEvent(live);
          assert.deepEqual(Object.keys(uploaded).sort(), [
            "channel",
            "data",
            "event",
            "id",
            "resource_id",
            "timestamp",
            "type",
          ]);
          assert.deepEqual(
            [uploaded.type, uploaded.channel, uploaded.event, uploaded.resource_id],
            ["event", "media_updates", "media.uploaded", media.id],
          );
          assert.equal(uploaded.data.id, media.id);

          await live.unsubscribe("media_updates");
          await live.subscribe("media_updates", media.id);
          await vault.updateMedia(media.id, { title: "Changed" });
          const updated = await nextEvent(live);
          assert.deepEqual(
            [updated.event, updated.resource_id, updated.data.title],
            ["media.updated", media.id, "Changed"],
          );
          await live.unsubscribe("media_updates", media.id);
          await live.subscribe("collection_updates");
          await vault.updateMedia(media.id, { title: "Unwatched" }); // no longer subscribed: no event
          const collection = await vault.createCollection("Live");
          const created = await nextEvent(live);
          assert.deepEqual(
            [created.channel, created.event, created.resource_id],
            ["collection_updates", "collection.created", collection.id],
          );
        } finally {
          live.close();
        }
        const after: RealtimeEvent[] = [];
        for await (const event of live) after.push(event); // ends at once after close()
        assert.deepEqual(after, []);
      });

      it("refuses someone else's resource with NotFound, and a bad token with Unauthorized", async () => {
        const owner = await user("owner");
        const media = await owner.upload(new TextEncoder().encode("private"), { filename: "private.txt" });
        const stranger = await user("stranger");
        const live = await stranger.realtime(options);
        try {
          await assert.rejects(live.subscribe("media_updates", media.id), NotFound);
          await live.subscribe("media_updates"); // the socket stays usable
        } finally {
          live.close();
        }
        await assert.rejects(new Vault(server.baseUrl, { token: "not-a-token" }).realtime(options), Unauthorized);
        await assert.rejects(new Vault(server.baseUrl).realtime(options), Unauthorized);
      });

      it("authenticates with an API key, and drops the oldest events beyond maxBuffered", async () => {
        const vault = await user("keyed");
        const key = (await vault.createApiKey("live")).key;
        const keyed = new Vault(server.baseUrl, { apiKey: key });
        const live = await keyed.realtime({ ...options, maxBuffered: 2 });
        try {
          await live.subscribe("collection_updates");
          const created = [];
          for (const name of ["one", "two", "three", "four"]) created.push((await keyed.createCollection(name)).id);
          await eventually(async () => (live.dropped === 2 ? true : undefined), "two events to be dropped");
          assert.equal((await nextEvent(live)).resource_id, created[2]);
          assert.equal((await nextEvent(live)).resource_id, created[3]);
        } finally {
          live.close();
        }
        const elsewhere = new Vault(server.baseUrl, {
          apiKey: key,
          realtimeUrl: server.baseUrl.replace("http", "ws") + "/nowhere",
        });
        await assert.rejects(elsewhere.realtime(options), RealtimeClosed);
      });

      it("stays open past the access token's expiry by re-authenticating, and ends with Unauthorized at logout", async () => {
        const vault = await user("long");
        const first = vault.tokens!.token;
        const live = await vault.realtime(options);
        await live.subscribe("collection_updates");
        await eventually(async () => {
          const response = await fetch(`${server.baseUrl}/api/v1/users/me`, {
            headers: { Authorization: `Bearer ${first}` },
          });
          await response.arrayBuffer();
          return response.status === 401 ? true : undefined;
        }, "the first access token to expire");
        const collection = await vault.createCollection("After expiry");
        assert.equal((await nextEvent(live)).resource_id, collection.id);
        assert.notEqual(vault.tokens!.token, first);

        await vault.logout();
        await assert.rejects(nextEvent(live), Unauthorized);
        await assert.rejects(live.subscribe("media_updates"), Unauthorized);
      });
    });
  }
});
