/**
 * Token refresh against a real server whose access tokens live 3 seconds: one refresh per expiry however many
 * requests meet it together (counted at the `fetch` the client uses), both when the client knows the expiry and
 * when a resumed login learns it from a 401; one-shot streams refreshed before sending; a refused refresh.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Unauthorized, Vault, type Tokens } from "@mediavault/sdk";

import { PASSWORD, email, eventually, startServer, type Server } from "./server.js";

const TTL = 3; // seconds an access token lives on this server (refreshed 0.3 s before the 2 s the client counts)

describe("token refresh", () => {
  let server: Server;

  before(async () => {
    server = await startServer({ MEDIAVAULT_ACCESS_TOKEN_TTL: String(TTL) });
  });

  after(async () => {
    await server?.stop();
  });

  /** A client whose `fetch` counts the refreshes it sends. */
  function counting(
    options: { token?: string; refreshToken?: string; onTokens?: (tokens: Tokens | null) => void } = {},
  ) {
    const counter = { refreshes: 0 };
    const vault = new Vault(server.baseUrl, {
      ...options,
      fetch: (input, init) => {
        if (String(input).endsWith("/auth/refresh")) counter.refreshes += 1;
        return fetch(input, init);
      },
    });
    return { vault, counter };
  }

  /** Wait until the server refuses `token` (it expired). */
  async function expired(token: string): Promise<void> {
    await eventually(async () => {
      const response = await fetch(`${server.baseUrl}/api/v1/users/me`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      await response.arrayBuffer();
      return response.status === 401 ? true : undefined;
    }, "the access token to expire");
  }

  async function loggedIn(name: string) {
    const setup = new Vault(server.baseUrl);
    const address = email(name);
    await setup.register(address, PASSWORD);
    return { address, pair: await setup.login(address, PASSWORD) };
  }

  it("refreshes once when concurrent requests meet a known expiry", async () => {
    const seen: (Tokens | null)[] = [];
    const { vault, counter } = counting({ onTokens: (tokens) => seen.push(tokens) });
    const address = email("known");
    await vault.register(address, PASSWORD);
    const pair = await vault.login(address, PASSWORD);
    assert.equal(pair.expires_in, TTL);
    await expired(pair.token);
    const answers = await Promise.all(Array.from({ length: 8 }, () => vault.me()));
    assert.ok(answers.every((user) => user.email === address));
    assert.equal(counter.refreshes, 1);
    assert.notEqual(vault.tokens?.token, pair.token);
    assert.equal(seen.length, 2); // the login, then the one refresh
    assert.equal(seen[1]?.token, vault.tokens?.token);
    // The old refresh token was spent exactly once: presenting it again is refused.
    await assert.rejects(
      new Vault(server.baseUrl, { token: pair.token, refreshToken: pair.refresh_token }).refresh(),
      Unauthorized,
    );
  });

  it("refreshes once when a resumed login's requests all get 401 together, then retries them", async () => {
    const { pair } = await loggedIn("resumed");
    await expired(pair.token);
    const { vault, counter } = counting({ token: pair.token, refreshToken: pair.refresh_token });
    const answers = await Promise.all(Array.from({ length: 8 }, () => vault.listMedia()));
    assert.ok(answers.every((page) => page.pagination.total === 0));
    assert.equal(counter.refreshes, 1);
    assert.notEqual(vault.tokens?.refreshToken, pair.refresh_token);
  });

  it("refreshes an expiring token before sending a one-shot stream, which cannot be sent twice", async () => {
    const { vault, counter } = counting();
    const address = email("stream");
    await vault.register(address, PASSWORD);
    const pair = await vault.login(address, PASSWORD);
    await expired(pair.token);
    async function* body() {
      yield new TextEncoder().encode("streamed once");
    }
    const media = await vault.upload(body(), { filename: "once.txt" });
    assert.equal(media.size, 13);
    assert.equal(counter.refreshes, 1);

    // Without a known expiry the 401 comes back after the stream was spent: it is not re-sent.
    const resumed = counting({ token: pair.token, refreshToken: vault.tokens!.refreshToken! });
    await assert.rejects(resumed.vault.upload(body(), { filename: "twice.txt" }), Unauthorized);
    // A replayable source (bytes) is refreshed and sent again.
    assert.equal((await resumed.vault.upload(new TextEncoder().encode("again"), { filename: "again.txt" })).size, 5);
    assert.equal(resumed.counter.refreshes, 1);
  });

  it("drops the tokens when the refresh is refused, and after a logout", async () => {
    const { pair } = await loggedIn("refused");
    await expired(pair.token);
    const seen: (Tokens | null)[] = [];
    const { vault } = counting({
      token: pair.token,
      refreshToken: "not-a-refresh-token",
      onTokens: (tokens) => seen.push(tokens),
    });
    await assert.rejects(vault.me(), Unauthorized);
    assert.equal(vault.tokens, null);
    assert.deepEqual(seen, [null]);

    const { vault: other } = counting({ token: pair.token, refreshToken: pair.refresh_token });
    const rotated = await other.refresh();
    assert.equal(other.tokens?.token, rotated.token);
    await other.logout();
    assert.equal(other.tokens, null);
    await assert.rejects(
      new Vault(server.baseUrl, { token: rotated.token, refreshToken: rotated.refresh_token }).me(),
      Unauthorized,
    );
  });
});
