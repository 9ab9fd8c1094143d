#!/usr/bin/env node
// The suite is TypeScript run through tsx, so that no build step stands between a
// checkout and a verdict.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/conformance.ts');
