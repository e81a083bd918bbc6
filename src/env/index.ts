export * from './types.js';
export * from './config.js';
export * from './episodes.js';
export * from './trades.js';
export * from './env.js';
