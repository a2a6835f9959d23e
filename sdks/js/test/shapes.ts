/**
 * The key sets of the SDK's declared wire types, checked against the server's real answers: `keys<T>()({...})`
 * only compiles when the listed keys are exactly the keys of `T`, so a test comparing them with an answer's keys
 * proves the declaration and the server agree.
 */

import assert from "node:assert/strict";

import type {
  AdminUserUpdate,
  ApiKey,
  ApiKeyCreated,
  AuditQuery,
  Collection,
  CollectionUpdate,
  Delivery,
  Health,
  Media,
  MediaProcessing,
  MediaQuery,
  MediaUpdate,
  PageQuery,
  Pagination,
  SearchQuery,
  Share,
  ShareCreate,
  SharedCollection,
  SharedMedia,
  SignedUpload,
  SignedUploadCreate,
  TokenPair,
  User,
  UserQuery,
  UserUpdate,
  Variant,
  Webhook,
  WebhookCreate,
  WebhookCreated,
  WebhookUpdate,
} from "@mediavault/sdk";

type Exactly<T, K> = K & Record<Exclude<keyof K, keyof T>, never>;

function keys<T>() {
  return <const K extends Record<keyof T, true>>(listed: Exactly<T, K>): string[] => Object.keys(listed).sort();
}

const media = {
  id: true,
  filename: true,
  content_type: true,
  type: true,
  size: true,
  checksum_sha256: true,
  width: true,
  height: true,
  title: true,
  description: true,
  tags: true,
  owner_id: true,
  created_at: true,
  updated_at: true,
  content_url: true,
  version: true,
  metadata: true,
} as const;
const webhook = {
  id: true,
  url: true,
  events: true,
  description: true,
  active: true,
  disabled_reason: true,
  disabled_at: true,
  consecutive_failures: true,
  created_at: true,
  updated_at: true,
} as const;
const apiKey = {
  id: true,
  name: true,
  prefix: true,
  created_at: true,
  scopes: true,
  expires_at: true,
  last_used_at: true,
} as const;

export const SHAPES = {
  health: keys<Health>()({ status: true, checks: true }),
  tokenPair: keys<TokenPair>()({
    token: true,
    expires_in: true,
    refresh_token: true,
    refresh_expires_in: true,
    token_type: true,
  }),
  user: keys<User>()({ id: true, email: true, display_name: true, role: true, created_at: true, updated_at: true }),
  apiKey: keys<ApiKey>()(apiKey),
  apiKeyCreated: keys<ApiKeyCreated>()({ ...apiKey, key: true }),
  media: keys<Media>()(media),
  processing: keys<MediaProcessing>()({
    media_id: true,
    status: true,
    processed_at: true,
    metadata: true,
    errors: true,
    variants: true,
  }),
  variant: keys<Variant>()({ name: true, content_type: true, size: true, width: true, height: true, url: true }),
  sharedMedia: keys<SharedMedia>()((({ owner_id, version, metadata, ...shared }) => shared)(media)),
  sharedCollection: keys<SharedCollection>()({
    id: true,
    name: true,
    description: true,
    media_count: true,
    created_at: true,
    updated_at: true,
  }),
  collection: keys<Collection>()({
    id: true,
    name: true,
    description: true,
    owner_id: true,
    media_count: true,
    created_at: true,
    updated_at: true,
  }),
  share: keys<Share>()({
    id: true,
    token: true,
    url: true,
    expires_at: true,
    allow_download: true,
    has_password: true,
    media_id: true,
    collection_id: true,
    created_at: true,
    allow_upload: true,
  }),
  signedUpload: keys<SignedUpload>()({ url: true, token: true, expires_at: true, max_size: true, collection_id: true }),
  webhook: keys<Webhook>()(webhook),
  webhookCreated: keys<WebhookCreated>()({ ...webhook, secret: true }),
  delivery: keys<Delivery>()({
    id: true,
    event_id: true,
    event: true,
    attempt: true,
    status: true,
    response_status: true,
    duration_ms: true,
    error: true,
    created_at: true,
    next_attempt_at: true,
    attempted_at: true,
  }),
  pagination: keys<Pagination>()({
    total: true,
    count: true,
    per_page: true,
    current_page: true,
    total_pages: true,
    links: true,
  }),
};

/** Assert that `value` (an answer) has exactly the keys of the declared type `shape`. */
export function assertShape(value: object, shape: keyof typeof SHAPES): void {
  assert.deepEqual(Object.keys(value).sort(), SHAPES[shape], `keys of ${shape}`);
}

const page = { page: true, per_page: true } as const;
const filters = { ...page, type: true, tag: true, sort: true, checksum_sha256: true, metadata: true } as const;
/** `metadata` is sent as `metadata.<key>=<value>` parameters, whose names the OpenAPI document cannot list. */
const wire = (names: string[]): string[] => names.filter((name) => name !== "metadata");

/** The keys of the declared request bodies and queries (checked against the OpenAPI document's operations). */
export const REQUESTS = {
  userUpdate: keys<UserUpdate>()({ display_name: true, email: true, password: true, current_password: true }),
  mediaUpdate: keys<MediaUpdate>()({ title: true, description: true, tags: true, metadata: true }),
  collectionUpdate: keys<CollectionUpdate>()({ name: true, description: true }),
  shareCreate: keys<ShareCreate>()({
    media_id: true,
    collection_id: true,
    expires_in: true,
    password: true,
    allow_download: true,
    allow_upload: true,
  }),
  signedUploadCreate: keys<SignedUploadCreate>()({ expires_in: true, max_size: true, collection_id: true }),
  webhookCreate: keys<WebhookCreate>()({ url: true, events: true, description: true }),
  webhookUpdate: keys<WebhookUpdate>()({ url: true, events: true, description: true, active: true }),
  pageQuery: keys<PageQuery>()(page),
  mediaQuery: wire(keys<MediaQuery>()({ ...filters, q: true })),
  searchQuery: wire([...keys<SearchQuery>()(filters), "q"].sort()), // q is search()'s first argument
  adminUserUpdate: keys<AdminUserUpdate>()({ disabled: true, role: true, quota_bytes: true }),
  userQuery: keys<UserQuery>()({ ...page, q: true }),
  auditQuery: keys<AuditQuery>()({ ...page, action: true, actor_id: true, since: true, until: true }),
};
