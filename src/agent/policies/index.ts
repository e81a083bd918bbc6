export * from './types.js';
export * from './baselines.js';
export * from './registry.js';
