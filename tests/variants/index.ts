import { addressFormVariants } from './address-forms.js';
import { addressVariants } from './addresses.js';
import { correctBodyVariants } from './correct-bodies.js';
import { correctTransportVariants } from './correct-transport.js';
import { credentialVariants } from './credentials.js';
import { edgeVariants } from './edges.js';
import { entryVariants } from './entries.js';
import { errorVariants } from './errors.js';
import { lifecycleVariants } from './lifecycle.js';
import { managementVariants } from './management.js';
import type { Variant } from './model.js';
import { orderVariants } from './order.js';
import { planVariants } from './plans.js';
import { transportVariants } from './transport.js';

export type { Variant } from './model.js';

/**
 * Every variant of the kill matrix: broken ones first, in catalogue order, then correct
 * ones. A variant is data (id, the requirement it breaks or null, a one-line description,
 * how it is applied) plus a small change made from outside the reference: hooks on the app
 * `buildReference` returns, a wrapper around its key store or request handler, or a proxy
 * in front of it (see model.ts and serve.ts). The reference itself has no test switches.
 */
export const VARIANTS: Variant[] = [
  ...credentialVariants,
  ...transportVariants,
  ...errorVariants,
  ...addressVariants,
  ...planVariants,
  ...orderVariants,
  ...lifecycleVariants,
  ...managementVariants,
  ...edgeVariants,
  ...entryVariants,
  ...addressFormVariants,
  ...correctBodyVariants,
  ...correctTransportVariants,
];

const seen = new Set<string>();
for (const variant of VARIANTS) {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(variant.id)) throw new Error(`bad variant id ${variant.id}`);
  if (seen.has(variant.id)) throw new Error(`two variants share the id ${variant.id}`);
  if (Boolean(variant.proxy) === Boolean(variant.app || variant.handler)) {
    throw new Error(`variant ${variant.id} must be either a proxy or a change to the app`);
  }
  seen.add(variant.id);
}
