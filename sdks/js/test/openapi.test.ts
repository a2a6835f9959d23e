/**
 * Every operation of the running server's OpenAPI document has a `Vault` method (the HEAD twins of the byte
 * routes are answered by the GET methods' `Download` headers): a route added to the server without an SDK method,
 * or a method left behind by a removed route, fails here.
 */

import assert from "node:assert/strict";
import { test } from "node:test";

import { Vault } from "@mediavault/sdk";

import { startServer } from "./server.js";

const METHODS: Record<string, keyof Vault> = {
  "GET /health": "health",
  "POST /auth/register": "register",
  "POST /auth/login": "login",
  "POST /auth/refresh": "refresh",
  "POST /auth/logout": "logout",
  "GET /users/me": "me",
  "PATCH /users/me": "updateMe",
  "POST /users/me/api-keys": "createApiKey",
  "GET /users/me/api-keys": "listApiKeys",
  "DELETE /users/me/api-keys/{key_id}": "deleteApiKey",
  "POST /media/upload": "upload",
  "GET /media": "listMedia",
  "GET /media/{media_id}": "getMedia",
  "PATCH /media/{media_id}": "updateMedia",
  "DELETE /media/{media_id}": "deleteMedia",
  "GET /media/{media_id}/content": "download",
  "GET /media/{media_id}/thumbnail": "downloadThumbnail",
  "GET /media/{media_id}/metadata": "getMetadata",
  "GET /search": "search",
  "POST /collections": "createCollection",
  "GET /collections": "listCollections",
  "GET /collections/{collection_id}": "getCollection",
  "PATCH /collections/{collection_id}": "updateCollection",
  "DELETE /collections/{collection_id}": "deleteCollection",
  "POST /collections/{collection_id}/media": "addToCollection",
  "GET /collections/{collection_id}/media": "listCollectionMedia",
  "DELETE /collections/{collection_id}/media/{media_id}": "removeFromCollection",
  "POST /shares": "createShare",
  "GET /shares": "listShares",
  "DELETE /shares/{share_id}": "deleteShare",
  "GET /s/{token}": "openShare",
  "GET /s/{token}/content": "downloadShared",
  "GET /s/{token}/media/{media_id}/content": "downloadShared",
  "POST /webhooks": "createWebhook",
  "GET /webhooks": "listWebhooks",
  "GET /webhooks/{webhook_id}": "getWebhook",
  "PATCH /webhooks/{webhook_id}": "updateWebhook",
  "DELETE /webhooks/{webhook_id}": "deleteWebhook",
  "GET /webhooks/{webhook_id}/deliveries": "listDeliveries",
};

test("every operation of the server's OpenAPI document has a Vault method", async () => {
  const server = await startServer();
  try {
    const response = await fetch(`${server.baseUrl}/api/v1/schema/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    const operations: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ["get", "post", "put", "patch", "delete"]) {
        if (method in item) operations.push(`${method.toUpperCase()} ${path.replace(/^\/api\/v1/, "")}`);
      }
    }
    assert.deepEqual(operations.sort(), Object.keys(METHODS).sort());
    for (const method of Object.values(METHODS)) assert.equal(typeof Vault.prototype[method], "function", method);
  } finally {
    await server.stop();
  }
});
