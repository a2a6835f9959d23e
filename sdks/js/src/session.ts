/**
 * A client's authentication state and the refresh rule: an API key, or an access token with its refresh token.
 *
 * An access token is refreshed ONCE per expiry, however many requests meet the expiry together (single flight):
 * the first to find it expired (known from `expires_in`, or from a 401 answer) starts `POST /auth/refresh`, the
 * others wait for that same refresh, and requests made with the old token after it finished just retry with the
 * new one. Two refreshes with one refresh token would make the server revoke the whole login (RFC 9700 §4.14.2).
 */

import { Unauthorized } from "./errors.js";
import type { TokenPair } from "./types.js";

/** The tokens a client holds, for saving a login elsewhere (`new Vault(url, {token, refreshToken})` resumes it). */
export interface Tokens {
  token: string;
  refreshToken: string | null;
  /** `Date.now()` milliseconds at which `token` expires, when known. */
  expiresAt: number | null;
}

export class Session {
  readonly apiKey: string | null;
  private tokens: Tokens | null;
  /** Refresh this many milliseconds before the known expiry: `min(30 s, lifetime / 10)`. */
  private leeway = 0;
  private refreshing: Promise<TokenPair> | null = null;

  /**
   * @param refresher spends a refresh token on `POST /auth/refresh` (unauthenticated) and returns the new pair.
   * @param onTokens told of every change (a new pair, or `null` when the login ended or was refused).
   */
  constructor(
    credentials: { apiKey?: string | undefined; token?: string | undefined; refreshToken?: string | undefined },
    private readonly refresher: (refreshToken: string) => Promise<TokenPair>,
    private readonly onTokens?: (tokens: Tokens | null) => void,
  ) {
    this.apiKey = credentials.apiKey ?? null;
    this.tokens = credentials.token
      ? { token: credentials.token, refreshToken: credentials.refreshToken ?? null, expiresAt: null }
      : null;
  }

  /** The current tokens (`null` when not logged in with a token). */
  get current(): Tokens | null {
    return this.tokens ? { ...this.tokens } : null;
  }

  /** The access token to send, if any. */
  get token(): string | null {
    return this.tokens?.token ?? null;
  }

  /** The authentication header to send (none when the client holds no credential; an API key wins). */
  headers(): Record<string, string> {
    if (this.apiKey) return { "X-API-Key": this.apiKey };
    if (this.tokens) return { Authorization: `Bearer ${this.tokens.token}` };
    return {};
  }

  /**
   * Keep a login's or refresh's tokens. The expiry is counted one second short: the token's `exp` is a whole second
   * counted from its issue time rounded down (JWT NumericDate, RFC 7519 §2), so it may end up to a second before
   * `expires_in` seconds from now.
   */
  store(pair: TokenPair): void {
    this.tokens = {
      token: pair.token,
      refreshToken: pair.refresh_token,
      expiresAt: Date.now() + (pair.expires_in - 1) * 1000,
    };
    this.leeway = Math.min(30_000, (pair.expires_in * 1000) / 10);
    this.onTokens?.(this.current);
  }

  /** Forget the tokens (after logout, or when the refresh token was refused). */
  clear(): void {
    this.tokens = null;
    this.onTokens?.(null);
  }

  /** Milliseconds until a refresh is due (0: due now), or `null` when the expiry is unknown or nothing can refresh. */
  refreshDueIn(): number | null {
    if (this.apiKey || !this.tokens?.refreshToken || this.tokens.expiresAt === null) return null;
    return Math.max(0, this.tokens.expiresAt - this.leeway - Date.now());
  }

  /** Whether a 401 to a request sent with `sentToken` is worth one refresh and one retry. */
  canRenew(sentToken: string | null): boolean {
    return !this.apiKey && sentToken !== null && this.tokens?.refreshToken != null;
  }

  /** Refresh now unless the token is known to be fresh (called before each authenticated request). */
  async ensureFresh(): Promise<void> {
    if (this.refreshDueIn() === 0) await this.renew(this.token);
  }

  /**
   * Make sure the token that was `stale` is replaced: start one refresh, or join the one in flight, or (when the
   * token already changed since) do nothing. A refused refresh (401) clears the tokens; any failure rejects every waiter.
   */
  async renew(stale: string | null): Promise<void> {
    if (this.refreshing) {
      await this.refreshing;
      return;
    }
    if (this.token !== stale) return;
    await this.refresh();
  }

  /** Spend the refresh token now (joining a refresh already in flight) and return the new pair. */
  refresh(): Promise<TokenPair> {
    if (this.refreshing) return this.refreshing;
    const refreshToken = this.tokens?.refreshToken;
    if (!refreshToken) return Promise.reject(new TypeError("no refresh token: log in first"));
    this.refreshing = this.refresher(refreshToken).then(
      (pair) => {
        this.refreshing = null;
        this.store(pair);
        return pair;
      },
      (error: unknown) => {
        this.refreshing = null;
        if (error instanceof Unauthorized) this.clear(); // the login is over; a network error keeps it
        throw error;
      },
    );
    return this.refreshing;
  }
}
