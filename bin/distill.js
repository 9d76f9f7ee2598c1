#!/usr/bin/env node
// Package bin: runs the TypeScript CLI through tsx's loader, so `npx distill` works after `npm ci`
// with no build step.
import { register } from 'tsx/esm/api';
register();
await import('../tasks/cli/main.ts');
