import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { correct, type Variant } from './model.js';

/** Correct variants of how answers travel: each must pass every scenario. */

/** `Content-Type` → `cOnTeNt-TyPe`: header names are case-insensitive (RFC 9110 §5.1). */
const alternating = (name: string) =>
  [...name].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('');

const text = (payload: unknown) =>
  typeof payload === 'string' || Buffer.isBuffer(payload) ? Buffer.from(payload) : undefined;

export const correctTransportVariants: Variant[] = [
  correct({
    id: 'proxied',
    description: 'an unchanged reference behind the transparent proxy (control for the next)',
    applied: 'proxy',
    proxy: {},
  }),
  correct({
    id: 'header-names-recased',
    description: 'a proxy rewrites every response header name to alternating case',
    applied: 'proxy',
    proxy: { response: (headers) => headers.map(([name, value]) => [alternating(name), value]) },
  }),
  correct({
    id: 'encoded-letters-unrouted',
    description:
      'a percent-encoded letter in a path is not decoded before routing: such a path names nothing',
    applied: 'handler-wrapper',
    handler: (next) => (req, res) => {
      const url = req.url ?? '/';
      const at = url.indexOf('?');
      const path = at < 0 ? url : url.slice(0, at);
      // %64 stays the three characters "%64": written as %2564, which the router decodes so.
      const kept = path.replace(/%(?=(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]))/g, '%25');
      req.url = at < 0 ? kept : `${kept}${url.slice(at)}`;
      next(req, res);
    },
  }),
  correct({
    id: 'media-type-respelled',
    description: 'JSON is labelled Application/JSON; Charset="UTF-8" (RFC 9110 §8.3.1: any case)',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (_request, reply, payload) => {
        const type = String(reply.getHeader('content-type') ?? '');
        if (/^application\/json\b/i.test(type)) {
          reply.header('content-type', 'Application/JSON; Charset="UTF-8"');
        }
        return payload;
      }),
  }),
  correct({
    id: 'gzip',
    description: 'every non-empty body is gzip-compressed (no Accept-Encoding: any coding is fine)',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (_request, reply, payload) => {
        const body = text(payload);
        if (!body || body.length === 0) return payload;
        reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding');
        return gzipSync(body);
      }),
  }),
  correct({
    id: 'chunked',
    description: 'every non-empty body is sent chunked, in two chunks, without Content-Length',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (_request, reply, payload) => {
        const body = text(payload);
        if (!body || body.length < 2) return payload;
        reply.removeHeader('content-length');
        const half = Math.floor(body.length / 2);
        return Readable.from([body.subarray(0, half), body.subarray(half)]);
      }),
  }),
  correct({
    id: 'connection-close',
    description: 'every response says Connection: close and the server closes the connection',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (_request, reply, payload) => {
        reply.header('connection', 'close');
        return payload;
      }),
  }),
];
