/**
 * The realtime client: one WebSocket to the vault's `/realtime` (docs/realtime.md). It authenticates with the
 * first frame (`{"type": "auth", "token"}`), subscribes to `media_updates` / `collection_updates` (all the
 * caller's resources, or one), yields the events as an async iterator, and keeps a login's socket open past the
 * access token's expiry by sending a fresh token before it runs out (the refresh is the client's single flight).
 *
 * It needs a WebSocket implementation with the browser's API: the platform's (browsers, Deno, Bun, Node.js 22+,
 * Node.js 20.10+ run with `--experimental-websocket`), or a constructor given as `WebSocket` (e.g. the `ws`
 * package's on older Node.js).
 */

import { errorOfCode } from "./errors.js";
import type { EventName } from "./types.js";

/** Channels a socket can subscribe to. */
export type Channel = "media_updates" | "collection_updates";

/** An event as the socket delivers it; `id` equals the webhook delivery's `webhook-id` (for de-duplication). */
export interface RealtimeEvent {
  type: "event";
  id: string;
  channel: Channel;
  resource_id: string;
  event: EventName;
  data: Record<string, unknown>;
  timestamp: string;
}

/** The part of the browser's `WebSocket` API the client uses (the `ws` package's class has it too). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: (event: unknown) => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", listener: (event: unknown) => void): void;
}

/** A WebSocket constructor with the browser's API. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** What the socket authenticates with: a token (or API key) and when to send a fresh one (`null`: never). */
export interface Credential {
  token: string;
  /** `Date.now()` milliseconds at which to authenticate again with a fresh token. */
  renewAt: number | null;
}

/** Options of `vault.realtime()`. */
export interface RealtimeOptions {
  /** The WebSocket class to use (default: the platform's `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** Events held while nobody reads them; beyond, the oldest are dropped (counted in `dropped`). Default 1000. */
  maxBuffered?: number;
}

/** The socket closed for another reason than {@link RealtimeClient.close} (`code`: the WebSocket close code). */
export class RealtimeClosed extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`realtime socket closed by the server: ${code}${reason ? ` ${reason}` : ""}`);
    this.name = "RealtimeClosed";
  }
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

type Frame = { type: string; [key: string]: unknown };

const OPEN = 1;
const UNAUTHORIZED_CLOSE = 4401;
const MAX_TIMER = 2 ** 31 - 1;

/** A connected, authenticated realtime socket. Make it with `vault.realtime()`. */
export class RealtimeClient implements AsyncIterable<RealtimeEvent> {
  /** Events dropped because more than `maxBuffered` were waiting to be read. */
  dropped = 0;
  private readonly socket: WebSocketLike;
  /** Control requests (auth, subscribe, unsubscribe) waiting for their answer, in order: the server answers in order. */
  private readonly pending: Pending[] = [];
  private readonly buffer: RealtimeEvent[] = [];
  private wake: (() => void) | null = null;
  private ended: Error | null | undefined = undefined; // undefined: open; null: closed by us; Error: by the server
  private renewTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    socket: WebSocketLike,
    private readonly credential: () => Promise<Credential>,
    private readonly maxBuffered: number,
  ) {
    this.socket = socket;
    socket.addEventListener("message", (event) => this.onFrame(event.data));
    socket.addEventListener("close", (event) => this.onClose(event.code, event.reason));
    // Once open, an error is followed by a close, which reports it; without a listener the ws package throws it.
    socket.addEventListener("error", () => undefined);
  }

  /**
   * Open a socket to `url` and authenticate.
   *
   * @throws Unauthorized the token was refused (close 4401).
   * @throws RealtimeClosed the socket could not be opened or was closed before `auth_ok`.
   */
  static async connect(
    url: string,
    credential: () => Promise<Credential>,
    options: RealtimeOptions = {},
  ): Promise<RealtimeClient> {
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Socket === undefined) {
      throw new TypeError(
        "no WebSocket on this platform: use Node.js 22+ (or 20.10+ with --experimental-websocket), or pass " +
          "{ WebSocket } (e.g. from the ws package)",
      );
    }
    const first = await credential();
    const socket = new Socket(url);
    const client = new RealtimeClient(socket, credential, options.maxBuffered ?? 1000);
    const opened = new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("close", (event) => reject(new RealtimeClosed(event.code, event.reason)));
      // Some implementations (Node.js 20's) report a refused handshake with an error and no close event.
      socket.addEventListener("error", () => reject(new RealtimeClosed(1006, `could not connect to ${url}`)));
    });
    try {
      await opened;
    } catch (error) {
      socket.close(); // stop a handshake that is still pending
      throw error;
    }
    await client.authenticate(first);
    return client;
  }

  /**
   * Receive the events of `channel`: of one resource (`resourceId`, the caller's), or of all the caller's.
   *
   * @throws NotFound a resource that is not the caller's (or unknown).
   */
  subscribe(channel: Channel, resourceId?: string): Promise<void> {
    return this.request({
      type: "subscribe",
      channel,
      ...(resourceId === undefined ? {} : { resource_id: resourceId }),
    });
  }

  /** Stop receiving what {@link subscribe} with the same arguments asked for (idempotent). */
  unsubscribe(channel: Channel, resourceId?: string): Promise<void> {
    return this.request({
      type: "unsubscribe",
      channel,
      ...(resourceId === undefined ? {} : { resource_id: resourceId }),
    });
  }

  /** Close the socket; iterators over the events end after the buffered ones. */
  close(): void {
    if (this.ended === undefined) this.ended = null;
    clearTimeout(this.renewTimer);
    this.socket.close(1000, "client closed");
    this.rejectPending(new RealtimeClosed(1000, "client closed"));
    this.wake?.();
  }

  /**
   * The events, in order, until {@link close}. Ends with an error when the server closes the socket:
   * {@link Unauthorized} for 4401 (the login ended), {@link RealtimeClosed} otherwise.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<RealtimeEvent> {
    for (;;) {
      const next = this.buffer.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended === null) return;
      if (this.ended !== undefined) throw this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  private async authenticate(credential: Credential): Promise<void> {
    await this.request({ type: "auth", token: credential.token });
    clearTimeout(this.renewTimer);
    if (credential.renewAt !== null) {
      const delay = Math.min(MAX_TIMER, Math.max(0, credential.renewAt - Date.now()));
      this.renewTimer = setTimeout(() => void this.renew(), delay);
    }
  }

  /** Send a fresh token before the socket's one expires (else the server closes with 4401). */
  private async renew(): Promise<void> {
    try {
      await this.authenticate(await this.credential());
    } catch (error) {
      // the refresh was refused or the socket closed: end the socket, the iterator reports why
      if (this.ended === undefined) this.ended = error instanceof Error ? error : new Error(String(error));
      this.socket.close(1000, "login ended");
      this.wake?.();
    }
  }

  private request(frame: Frame): Promise<void> {
    if (this.ended !== undefined || this.socket.readyState !== OPEN) {
      return Promise.reject(this.ended ?? new RealtimeClosed(1000, "the socket is closed"));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.send(JSON.stringify(frame));
    });
  }

  private onFrame(data: unknown): void {
    let frame: Frame;
    try {
      frame = JSON.parse(String(data)) as Frame;
    } catch {
      return; // the server sends JSON text only
    }
    if (frame.type === "event") {
      this.buffer.push(frame as unknown as RealtimeEvent);
      if (this.buffer.length > this.maxBuffered) {
        this.buffer.shift();
        this.dropped += 1;
      }
      this.wake?.();
      return;
    }
    if (frame.type === "error") {
      const error = frame.error as { code?: string; message?: string } | undefined;
      const code = error?.code ?? "internal_error";
      this.pending.shift()?.reject(errorOfCode(code, error?.message ?? code));
      return;
    }
    this.pending.shift()?.resolve(); // auth_ok, subscribed, unsubscribed
  }

  private onClose(code: number, reason: string): void {
    clearTimeout(this.renewTimer);
    if (this.ended === undefined) {
      this.ended =
        code === UNAUTHORIZED_CLOSE
          ? errorOfCode("unauthorized", `realtime socket closed: ${reason || "unauthorized"}`)
          : new RealtimeClosed(code, reason);
    }
    this.rejectPending(this.ended ?? new RealtimeClosed(code, reason));
    this.wake?.();
  }

  private rejectPending(error: Error): void {
    for (const pending of this.pending.splice(0)) pending.reject(error);
  }
}
