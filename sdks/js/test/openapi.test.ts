/**
 * Every operation of the running server's OpenAPI document has a `Vault` method (the HEAD twins of the byte
 * routes are answered by the GET methods' `Download` headers): a route added to the server without an SDK method,
 * or a method left behind by a removed route, fails here. The declared request bodies and list queries have
 * exactly the fields of the document's (answers are checked against real answers by the other tests).
 */

import assert from "node:assert/strict";
import { test } from "node:test";

import { Vault } from "@mediavault/sdk";

import { startServer } from "./server.js";
import { REQUESTS } from "./shapes.js";

const METHODS: Record<string, keyof Vault> = {
  "GET /health": "health",
  "POST /auth/register": "register",
  "POST /auth/login": "login",
  "POST /auth/refresh": "refresh",
  "POST /auth/logout": "logout",
  "GET /users/me": "me",
  "PATCH /users/me": "updateMe",
  "GET /users/me/usage": "usage",
  "POST /users/me/api-keys": "createApiKey",
  "GET /users/me/api-keys": "listApiKeys",
  "DELETE /users/me/api-keys/{key_id}": "deleteApiKey",
  "POST /media/upload": "upload",
  "POST /uploads": "uploadResumable",
  "PATCH /uploads/{upload_id}": "uploadResumable",
  "DELETE /uploads/{upload_id}": "deleteUpload",
  "POST /uploads/signed": "signUpload",
  "POST /uploads/signed/{token}": "uploadSigned",
  "GET /media": "listMedia",
  "GET /media/{media_id}": "getMedia",
  "PATCH /media/{media_id}": "updateMedia",
  "DELETE /media/{media_id}": "deleteMedia",
  "GET /media/{media_id}/content": "download",
  "GET /media/{media_id}/thumbnail": "downloadThumbnail",
  "GET /media/{media_id}/metadata": "getMetadata",
  "POST /media/{media_id}/reprocess": "reprocess",
  "PUT /media/{media_id}/content": "replaceContent",
  "GET /media/{media_id}/versions": "listVersions",
  "GET /media/{media_id}/versions/{version}/content": "downloadVersion",
  "POST /media/{media_id}/versions/{version}/restore": "restoreVersion",
  "GET /trash": "listTrash",
  "POST /trash/{media_id}/restore": "restoreMedia",
  "DELETE /trash/{media_id}": "purgeMedia",
  "DELETE /trash": "emptyTrash",
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
  "POST /s/{token}/upload": "uploadToShare",
  "POST /webhooks": "createWebhook",
  "GET /webhooks": "listWebhooks",
  "GET /webhooks/{webhook_id}": "getWebhook",
  "PATCH /webhooks/{webhook_id}": "updateWebhook",
  "DELETE /webhooks/{webhook_id}": "deleteWebhook",
  "GET /webhooks/{webhook_id}/deliveries": "listDeliveries",
  "GET /admin/users": "listUsers",
  "GET /admin/users/{user_id}": "getUser",
  "PATCH /admin/users/{user_id}": "updateUser",
  "GET /admin/audit": "listAuditEvents",
};

/** The operations whose JSON body is one of the SDK's declared request types. */
const BODIES: Record<string, keyof typeof REQUESTS> = {
  "PATCH /users/me": "userUpdate",
  "PATCH /media/{media_id}": "mediaUpdate",
  "PATCH /collections/{collection_id}": "collectionUpdate",
  "POST /shares": "shareCreate",
  "POST /uploads/signed": "signedUploadCreate",
  "POST /webhooks": "webhookCreate",
  "PATCH /webhooks/{webhook_id}": "webhookUpdate",
  "PATCH /admin/users/{user_id}": "adminUserUpdate",
};

/** The query of each list operation, as the SDK declares it. */
const QUERIES: Record<string, string[]> = {
  "GET /media": REQUESTS.mediaQuery,
  "GET /collections/{collection_id}/media": REQUESTS.mediaQuery,
  "GET /search": REQUESTS.searchQuery,
  "GET /users/me/api-keys": REQUESTS.pageQuery,
  "GET /collections": REQUESTS.pageQuery,
  "GET /shares": REQUESTS.pageQuery,
  "GET /s/{token}": REQUESTS.pageQuery,
  "GET /webhooks": REQUESTS.pageQuery,
  "GET /webhooks/{webhook_id}/deliveries": REQUESTS.pageQuery,
  "GET /trash": REQUESTS.pageQuery,
  "GET /media/{media_id}/thumbnail": ["size"],
  "GET /admin/users": REQUESTS.userQuery,
  "GET /admin/audit": REQUESTS.auditQuery,
};

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

test("every operation of the server's OpenAPI document has a Vault method", async () => {
  const server = await startServer();
  try {
    const response = await fetch(`${server.baseUrl}/api/v1/schema/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as Document;
    const operations: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ["get", "post", "put", "patch", "delete"]) {
        const key = `${method.toUpperCase()} ${path.replace(/^\/api\/v1/, "")}`;
        if (method in item) operations.push(key);
      }
    }
    assert.deepEqual(operations.sort(), Object.keys(METHODS).sort());
    for (const method of Object.values(METHODS)) assert.equal(typeof Vault.prototype[method], "function", method);

    const operation = (key: string): Operation => {
      const [method, path] = key.split(" ") as [string, string];
      const found = document.paths[`/api/v1${path}`]?.[method.toLowerCase()];
      assert.ok(found, key);
      return found;
    };
    for (const [key, declared] of Object.entries(BODIES)) {
      const reference = operation(key).requestBody?.content["application/json"]?.schema.$ref ?? "";
      const schema = document.components.schemas[reference.replace("#/components/schemas/", "")];
      assert.deepEqual(Object.keys(schema?.properties ?? {}).sort(), REQUESTS[declared], `body of ${key}`);
    }
    for (const [key, declared] of Object.entries(QUERIES)) {
      const names = (operation(key).parameters ?? []).filter((parameter) => parameter.in === "query");
      assert.deepEqual(names.map((parameter) => parameter.name).sort(), declared, `query of ${key}`);
    }
  } finally {
    await server.stop();
  }
});
