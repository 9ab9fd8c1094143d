import type { RequestListener } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ProxyOptions } from './proxy.js';

/**
 * How a variant is applied, always from outside the reference's code:
 * - `hook`: Fastify hooks added to the app that `buildReference` returns, before it listens;
 * - `store-wrapper`: a layer wrapped around the app's key store, like a cache in front of it;
 * - `handler-wrapper`: a wrapper around the app's request handler (and a store wrapper);
 * - `proxy`: a small node:http proxy in front of an unchanged reference.
 */
export type Applied = 'hook' | 'store-wrapper' | 'handler-wrapper' | 'proxy';

/** A variant of the reference server: broken on one requirement, or correct. */
export interface Variant {
  /** Stable, short, kebab-case; also the name of its report folder. */
  id: string;
  /** The requirement it breaks; null for a correct variant that must pass every scenario. */
  breaks: string | null;
  /** One line: what the server does differently. */
  description: string;
  applied: Applied;
  /**
   * Changes to the built app before it listens (hooks, wrapped store). What it returns is
   * ignored, but a promise is awaited.
   */
  app?: (app: FastifyInstance, context: VariantContext) => unknown;
  /** Wraps the app's request handler. */
  handler?: (next: RequestListener, app: FastifyInstance) => RequestListener;
  /** Puts a proxy in front of an unchanged reference instead. */
  proxy?: ProxyOptions;
}

/** What a change to the app may know besides the app: its management credential. */
export interface VariantContext {
  managementToken: string;
}

/** A running variant, on 127.0.0.1 and on [::1] at the same port. */
export interface RunningVariant {
  url: string;
  ipv6Url?: string;
  managementToken: string;
  close(): Promise<void>;
}

/** A correct variant: changes nothing a client may rely on. */
export const correct = (v: Omit<Variant, 'breaks'>): Variant => ({ ...v, breaks: null });
